"""A fake Telegram Bot API on 127.0.0.1 (Starlette served by uvicorn): queues updates, records requests.

Implements what the bot uses: getMe, deleteWebhook, setWebhook, getUpdates (offset, timeout; pending long
polls wake on new updates and on shutdown), sendMessage, editMessageText, answerCallbackQuery,
sendDocument (multipart), sendChatAction, setMyCommands. Any other method answers 404 like Telegram.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123:ABC"
BOT_USERNAME = "PanduTestBot"
MAX_WAIT = 10.0  # seconds: every wait in the fake or the tests is bounded

# Form fields PTB sends JSON-encoded.
_JSON_FIELDS = {"chat_id", "reply_markup", "commands", "allowed_updates", "offset", "timeout", "limit",
                "link_preview_options", "scope", "message_id", "show_alert", "drop_pending_updates",
                "message_thread_id"}  # fmt: skip


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


class FakeBotAPI:
    """The fake server and its state; `await start()`, inject updates, read `calls`, `await stop()`."""

    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME):
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":")[0])
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.failures: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self._closing = False
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None
        self.port = 0

    # -- server ------------------------------------------------------------------------------
    async def start(self) -> "FakeBotAPI":
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task = asyncio.create_task(self._server.serve())
        deadline = time.monotonic() + MAX_WAIT
        while not self._server.started:
            if self._task.done() or time.monotonic() > deadline:
                raise RuntimeError("fake Bot API did not start")
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Wake pending long polls, then stop the server."""
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._task, MAX_WAIT)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The value for TELEGRAM_BASE_URL."""
        return f"{self.root}/bot"

    # -- requests ----------------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params, files = await _parse(request)
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        call = Call(method, params, files)
        if method != "getUpdates":
            self.calls.append(call)
        failing = self.failures.get(method)
        if failing:
            code, description, parameters = failing.pop(0)
            await self._notify()
            return _error(code, description, parameters)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params, files)
        await self._notify()
        return JSONResponse({"ok": True, "result": result})

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Pandu", "username": self.username,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}  # fmt: skip

    def bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        """A message from the bot in a chat (as sent, or as replied to by a user)."""
        chat = self.chats.get(int(chat_id), {"id": int(chat_id), "type": "private", "first_name": "Kades"})
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                "from": self._bot_user(), **content}  # fmt: skip

    async def _api_getMe(self, params, files):
        return self._bot_user()

    async def _api_deleteWebhook(self, params, files):
        return True

    async def _api_setWebhook(self, params, files):
        return True

    async def _api_setMyCommands(self, params, files):
        return True

    async def _api_sendChatAction(self, params, files):
        return True

    async def _api_answerCallbackQuery(self, params, files):
        return True

    async def _api_sendMessage(self, params, files):
        content: dict[str, Any] = {"text": params["text"]}
        if (params.get("reply_markup") or {}).get("inline_keyboard"):  # a Message carries inline keyboards only
            content["reply_markup"] = params["reply_markup"]
        if params.get("message_thread_id") is not None:  # sent into a forum topic
            content.update(message_thread_id=params["message_thread_id"], is_topic_message=True)
        return self.bot_message(params["chat_id"], **content)

    async def _api_editMessageText(self, params, files):
        return self.bot_message(params["chat_id"], text=params["text"])

    async def _api_sendDocument(self, params, files):
        name, data = files.get("document", ("", b""))
        doc = {"file_id": f"doc{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}",
               "file_name": name, "file_size": len(data)}  # fmt: skip
        return self.bot_message(params["chat_id"], document=doc, caption=params.get("caption", ""))

    async def _api_getUpdates(self, params, files):
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), MAX_WAIT)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        self.calls.append(Call("getUpdates", params))
        await self._notify()
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self.updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    break
        return list(self.updates)

    # -- injecting updates -------------------------------------------------------------------
    async def push(self, **update: Any) -> int:
        """Queue one update (e.g. message={...}) and wake a pending long poll; returns its update_id."""
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **update})
        await self._notify()
        return update_id

    def chat(self, chat_id: int, kind: str = "private") -> dict[str, Any]:
        """The chat object of an id (negative ids are groups)."""
        if chat_id not in self.chats:
            self.chats[chat_id] = (
                {"id": chat_id, "type": "private", "first_name": "Kades"}
                if kind == "private"
                else {"id": chat_id, "type": kind, "title": "Forum Kades"}
            )
        return self.chats[chat_id]

    def user_message(self, chat_id: int, user_id: int | None = None, kind: str = "private", **content: Any) -> dict:
        """A message from a user in a chat, with the given content (text=…, sticker=…)."""
        msg = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": self.chat(chat_id, kind),
               "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "Kades"}, **content}  # fmt: skip
        text = content.get("text", "")
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return msg

    async def send_text(self, chat_id: int, text: str, **extra: Any) -> int:
        """A user types `text`."""
        return await self.push(message=self.user_message(chat_id, text=text, **extra))

    async def tap(self, chat_id: int, data: str, user_id: int | None = None) -> str:
        """A user taps an inline button with this callback_data; returns the callback query id."""
        query_id = f"q{next(self._update_ids)}"
        message = self.bot_message(chat_id, text="menu")
        sender = {"id": user_id or chat_id, "is_bot": False, "first_name": "Kades"}
        await self.push(callback_query={"id": query_id, "from": sender, "chat_instance": "ci", "data": data,
                                        "message": message})  # fmt: skip
        return query_id

    def fail_next(self, method: str, code: int, description: str, retry_after: int | None = None,
                  migrate_to: int | None = None) -> None:  # fmt: skip
        """Make the next call of `method` fail with this HTTP status and description (429: with retry_after;
        a group upgraded to a supergroup: with migrate_to_chat_id)."""
        parameters = {k: v for k, v in (("retry_after", retry_after), ("migrate_to_chat_id", migrate_to)) if v is not None}
        self.failures.setdefault(method, []).append((code, description, parameters))

    # -- reading what the bot did ------------------------------------------------------------
    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages and documents the bot sent (to one chat)."""
        return [c for c in self.calls if c.method in ("sendMessage", "sendDocument")
                and (chat_id is None or c.chat_id == chat_id)]  # fmt: skip

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_until(self, predicate: Callable[[], Any], what: str = "condition") -> Any:
        """Wait (at most MAX_WAIT seconds) until predicate() is truthy; return its value."""
        deadline = time.monotonic() + MAX_WAIT
        async with self._changed:
            while not (value := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {what}; calls: {[c.method for c in self.calls]}")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
        return value


async def _parse(request: Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Form (urlencoded or multipart) or JSON parameters; JSON-encoded fields decoded."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    files: dict[str, tuple[str, bytes]] = {}
    raw: dict[str, Any] = {}
    if ctype.startswith("application/json"):
        raw = json.loads(body or b"{}")
    elif ctype.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + body
        )
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[name] = (part.get_filename(), data)
            else:
                raw[name] = data.decode()
    elif body:
        raw = dict(parse_qsl(body.decode(), keep_blank_values=True))
    params = {k: (json.loads(v) if k in _JSON_FIELDS and isinstance(v, str) else v) for k, v in raw.items()}
    return params, files


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


class TelegramUser:
    """A user (or a group) talking to the bot through the fake: sends, taps, and collects the bot's messages.

    Every step states how many messages it expects; a message nobody expected makes the next step fail.
    """

    def __init__(self, fake: FakeBotAPI, chat_id: int, kind: str = "private", user_id: int | None = None):
        self.fake = fake
        self.chat_id = chat_id
        self.kind = kind
        self.user_id = user_id
        self.seen = 0
        self.taps: list[str] = []

    async def send(self, text: str, expect: int = 1, **extra: Any) -> list[Call]:
        """Type a message; return the `expect` messages the bot sends back."""
        return await self.push(expect, text=text, **extra)

    async def push(self, expect: int = 1, **content: Any) -> list[Call]:
        """Send a message with any content (text=…, sticker=…, reply_to_message=…)."""
        self._check_quiet()
        msg = self.fake.user_message(self.chat_id, user_id=self.user_id, kind=self.kind, **content)
        await self.fake.push(message=msg)
        return await self._collect(expect)

    async def tap(self, label: str, expect: int = 1, user_id: int | None = None) -> list[Call]:
        """Tap the most recent button with this label."""
        for call in reversed(self.fake.sent(self.chat_id)):
            for button_label, data in call.buttons:
                if button_label == label:
                    return await self.tap_data(data, expect, user_id)
        raise AssertionError(f"no button {label!r} in this chat")

    async def tap_data(self, data: str, expect: int = 1, user_id: int | None = None) -> list[Call]:
        """Tap a button carrying this callback_data (real, stale or forged)."""
        self._check_quiet()
        query_id = await self.fake.tap(self.chat_id, data, user_id or self.user_id)
        self.taps.append(query_id)
        calls = await self._collect(expect)
        await self.fake.wait_until(
            lambda: any(c.params.get("callback_query_id") == query_id for c in self.fake.called("answerCallbackQuery")),
            f"the answer to callback query {query_id}",
        )
        return calls

    async def _collect(self, n: int) -> list[Call]:
        target = self.seen + n
        await self.fake.wait_until(lambda: len(self.fake.sent(self.chat_id)) >= target, f"{n} message(s)")
        new = self.fake.sent(self.chat_id)[self.seen : target]
        self.seen = target
        return new

    def _check_quiet(self) -> None:
        extra = self.fake.sent(self.chat_id)[self.seen :]
        assert not extra, f"unexpected messages: {[c.text[:60] for c in extra]}"


def add_telegram(app, fake: "FakeBotAPI | None" = None, *, token: str = TOKEN, polling: bool = True,
                 secret: str | None = None, webhook_url: str | None = None):  # fmt: skip
    """Give an app the Telegram channel talking to a fake Bot API (polling, or webhook mode with a secret)."""
    from bot.settings import TelegramSettings
    from bot.telegram import TelegramChannel

    base_url = fake.base_url if fake is not None else None
    channel = TelegramChannel(app, TelegramSettings(token, base_url, secret, webhook_url), polling=polling)
    app.channels["telegram"] = channel
    return channel
