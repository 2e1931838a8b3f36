"""A fake WhatsApp Graph API on 127.0.0.1: records /{phone_id}/messages and /{phone_id}/media calls."""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import queue
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
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
    """Answers like the Graph API: sends get contacts and messages[0].id, uploads get a media id.

    `down = True` makes every call fail with 503 (counted in `refused`), as during an outage; `errors` queues
    Graph API error answers (code, HTTP status) for the next sends. With `status_url` set, every accepted send
    is reported back like Meta does: a signed "sent" status webhook carrying the send's
    biz_opaque_callback_data, retried (bounded) until the bot answers 200.
    """

    def __init__(self, status_url: str | None = None, app_secret: str = "test-app-secret"):
        self.calls: list[Call] = []
        self.down = False
        self.refused = 0
        self.errors: list[tuple[int, int]] = []
        self.status_url = status_url
        self.app_secret = app_secret
        self._statuses: "queue.Queue[dict]" = queue.Queue()
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

    def _refusal(self) -> JSONResponse | None:
        with self._lock:
            if self.down:
                self.refused += 1
                return JSONResponse({"error": {"message": "Service temporarily unavailable", "code": 2,
                                               "is_transient": True}}, status_code=503)  # fmt: skip
            if self.errors:
                code, status = self.errors.pop(0)
                self.refused += 1
                return JSONResponse({"error": {"message": f"error {code}", "code": code, "type": "OAuthException"}},
                                    status_code=status)  # fmt: skip
        return None

    async def _messages(self, request: Request) -> JSONResponse:
        refusal = self._refusal()
        if refusal is not None:
            return refusal
        try:
            body = await request.json()
        except ClientDisconnect:  # the bot died mid-request (the crash tests): nothing was sent
            return JSONResponse({}, status_code=499)
        call = Call("messages", request.path_params["phone_id"], body, request.headers.get("authorization", ""))
        message_id = self._record(call, "wamid.FAKE")
        to = body.get("to") or body.get("recipient")
        if self.status_url and body.get("biz_opaque_callback_data"):
            self._statuses.put({"id": message_id, "status": "sent", "timestamp": str(int(time.time())),
                                "recipient_id": to, "biz_opaque_callback_data": body["biz_opaque_callback_data"]})
        contacts = [{"input": to, "wa_id": to}]
        return JSONResponse({"messaging_product": "whatsapp", "contacts": contacts, "messages": [{"id": message_id}]})

    async def _media(self, request: Request) -> JSONResponse:
        refusal = self._refusal()
        if refusal is not None:
            return refusal
        fields = _multipart(request.headers["content-type"], await request.body())
        call = Call("media", request.path_params["phone_id"], fields, request.headers.get("authorization", ""))
        return JSONResponse({"id": self._record(call, "media-")})

    def _report_statuses(self) -> None:
        """Post queued status webhooks to the bot, signed, retrying each for up to 60 s (Meta retries longer)."""
        import hashlib
        import hmac
        import json

        import httpx

        client = httpx.Client(timeout=5)
        while not self._server.should_exit:
            try:
                status = self._statuses.get(timeout=0.1)
            except queue.Empty:
                continue
            payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
                       "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1122334455667"},
                                 "statuses": [status]}}]}]}  # fmt: skip
            body = json.dumps(payload).encode()
            sig = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not self._server.should_exit:
                try:
                    r = client.post(self.status_url, content=body,
                                    headers={"content-type": "application/json", "x-hub-signature-256": sig})
                    if r.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        client.close()

    def start(self) -> "FakeGraph":
        if self.status_url:  # like Meta, several status webhooks in flight at once
            for _ in range(4):
                threading.Thread(target=self._report_statuses, daemon=True).start()
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
        """Forget every call, and come back up with no scripted errors (one server serves a module's tests)."""
        with self._lock:
            self.calls.clear()
            self.down = False
            self.errors.clear()

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
