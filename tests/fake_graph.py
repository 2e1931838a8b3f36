"""A fake WhatsApp Graph API on 127.0.0.1: records /{phone_id}/messages and /{phone_id}/media calls."""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Call:
    """One request the bot made: which endpoint, and the JSON or multipart fields it sent."""

    kind: str  # "messages" | "media"
    phone_id: str
    body: dict = field(default_factory=dict)
    authorization: str = ""
    answer_id: str = ""  # the message or media id the fake answered with


def _multipart(content_type: str, raw: bytes) -> dict:
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if part.get_filename():
            fields[name] = {
                "filename": part.get_filename(),
                "mime": part.get_content_type(),
                "data": part.get_payload(decode=True),
            }
        else:
            fields[name] = part.get_content().strip()
    return fields


class FakeGraph:
    """Answers like the Graph API: sends get contacts and messages[0].id, uploads get a media id."""

    def __init__(self):
        self.calls: list[Call] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/{version}/{phone_id}/messages", self._messages, methods=["POST"]),
                Route("/{version}/{phone_id}/media", self._media, methods=["POST"]),
            ]
        )
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def _record(self, call: Call, prefix: str) -> str:
        with self._lock:
            call.answer_id = f"{prefix}{next(self._ids)}"
            self.calls.append(call)
            return call.answer_id

    async def _messages(self, request: Request) -> JSONResponse:
        body = await request.json()
        call = Call("messages", request.path_params["phone_id"], body, request.headers.get("authorization", ""))
        message_id = self._record(call, "wamid.FAKE")
        to = body.get("to") or body.get("recipient")
        contacts = [{"input": to, "wa_id": to}]
        return JSONResponse({"messaging_product": "whatsapp", "contacts": contacts, "messages": [{"id": message_id}]})

    async def _media(self, request: Request) -> JSONResponse:
        fields = _multipart(request.headers["content-type"], await request.body())
        call = Call("media", request.path_params["phone_id"], fields, request.headers.get("authorization", ""))
        return JSONResponse({"id": self._record(call, "media-")})

    def start(self) -> "FakeGraph":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake Graph API did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    # -- reading what the bot sent -----------------------------------------------------------
    def sent(self) -> list[dict]:
        """The bodies of every /messages call so far."""
        with self._lock:
            return [c.body for c in self.calls if c.kind == "messages"]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict]:
        """Wait (bounded) until at least n /messages calls arrived; return them."""
        deadline = time.monotonic() + timeout
        while len(self.sent()) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.sent()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message_text(body: dict) -> str:
    """The visible text of a sent message: text body, interactive body, or document caption."""
    kind = body.get("type")
    if kind == "text":
        return body["text"]["body"]
    if kind == "interactive":
        return body["interactive"]["body"]["text"]
    if kind == "document":
        return body["document"].get("caption", "")
    return ""


def choice_rows(body: dict) -> list[dict]:
    """The buttons or list rows of a sent interactive message, as {"id", "title", "description"}."""
    if body.get("type") != "interactive":
        return []
    inter = body["interactive"]
    if inter["type"] == "button":
        return [b["reply"] for b in inter["action"]["buttons"]]
    return [row for section in inter["action"]["sections"] for row in section["rows"]]
