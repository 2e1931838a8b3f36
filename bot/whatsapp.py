"""The WhatsApp channel (Cloud API): a signed webhook in the project's ASGI app, replies sent with pywa.

pywa (async) is the Graph API client: sending text, reply buttons, lists and documents (with the media
upload), the verification challenge and the X-Hub-Signature-256 check. The webhook route itself is ours,
because pywa's Starlette route answers 200 before parsing (a malformed or oversized body still gets 200),
has no body size limit, remembers duplicates only in memory, reads only the first message of a delivery,
and (4.5) drops messages whose webhook carries no business-scoped user id.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from pywa_async import WhatsApp, types
from pywa_async.errors import WhatsAppError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot import wa_render
from bot.app import ChatLocks
from bot.config import env_secret
from bot.wa_render import WaMessage
from bot.wa_webhook import IGNORED_TYPES, Incoming, parse_update
from bot.web import WebChannel, json_content, read_body
from handlers import texts
from handlers.messages import Inbound

log = logging.getLogger(__name__)

ENDPOINT = "/webhook/whatsapp"
GRAPH_API = "https://graph.facebook.com"
REQUIRED = ("WHATSAPP_TOKEN", "WHATSAPP_PHONE_ID", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")
MAX_BODY = 256 * 1024  # bytes; Meta's deliveries are a few KiB
WINDOW = 24 * 3600  # seconds: the customer-service window opened by a user's message
SEEN_KEPT = 7 * 24 * 3600  # seconds: Meta retries failed deliveries for up to 7 days
PRUNE_EVERY = 500  # new message ids between two prunings of old ones


@dataclass(frozen=True)
class Settings:
    """The WhatsApp settings, all from the environment. repr() never shows a secret."""

    token: str = field(repr=False)
    phone_id: str
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
    api_base_url: str = GRAPH_API


def missing_settings() -> list[str]:
    """The required WHATSAPP_* variables that are unset or empty."""
    return [name for name in REQUIRED if env_secret(name) is None]


def settings_from_env() -> Settings | None:
    """The settings, or None unless every required variable is set."""
    if missing_settings():
        return None
    return Settings(
        token=env_secret("WHATSAPP_TOKEN") or "",
        phone_id=env_secret("WHATSAPP_PHONE_ID") or "",
        app_secret=env_secret("WHATSAPP_APP_SECRET") or "",
        verify_token=env_secret("WHATSAPP_VERIFY_TOKEN") or "",
        api_base_url=env_secret("WHATSAPP_API_BASE_URL") or GRAPH_API,
    )


class RedirectTransport(httpx.AsyncHTTPTransport):
    """Sends pywa's Graph API requests to another base URL (pywa's own base URL is fixed to Meta's host)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"WHATSAPP_API_BASE_URL must be an http(s) URL, not {base_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url.copy_with(scheme=self.scheme, host=self.host, port=self.port,
                                    path=self.prefix + request.url.path)  # fmt: skip
        request.url = url
        request.headers["Host"] = url.netloc.decode("ascii")
        return await super().handle_async_request(request)


def graph_session(base_url: str) -> httpx.AsyncClient:
    """The httpx client pywa uses: Meta's Graph API, or another base URL (a fake in tests)."""
    timeout = httpx.Timeout(20.0, connect=10.0)
    if base_url.rstrip("/") == GRAPH_API:
        return httpx.AsyncClient(timeout=timeout)
    return httpx.AsyncClient(timeout=timeout, transport=RedirectTransport(base_url))


def _text(body: str, status: int) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status, headers={"X-Content-Type-Options": "nosniff"})


class WhatsAppChannel(WebChannel):
    """The webhook at /webhook/whatsapp and the replies it sends."""

    name = "whatsapp"

    def __init__(self, app, settings: Settings, session: httpx.AsyncClient | None = None):
        self.app = app
        self.settings = settings
        self.session = session or graph_session(settings.api_base_url)
        self.wa = WhatsApp(
            phone_id=settings.phone_id,
            token=settings.token,
            session=self.session,
            app_secret=settings.app_secret,  # without it pywa silently stops checking signatures
            verify_token=settings.verify_token,
            validate_updates=True,
        )
        self._locks = ChatLocks()
        self._new_ids = 0

    # -- web app ------------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route(ENDPOINT, self.verify, methods=["GET"]),
            Route(ENDPOINT, self.receive, methods=["POST"]),
        ]

    async def startup(self) -> None:
        """Forget message ids older than Meta's retry period."""
        self.app.storage.prune_seen(time.time() - SEEN_KEPT)

    async def shutdown(self) -> None:
        """Close the Graph API client."""
        await self.session.aclose()

    async def verify(self, request: Request) -> Response:
        """GET: Meta's verification challenge: hub.mode "subscribe" and the right hub.verify_token, else 403.

        Checked here rather than by pywa, which compares the token with == and ignores hub.mode.
        """
        params = request.query_params
        given = params.get("hub.verify_token", "").encode()
        expected = self.settings.verify_token.encode()
        challenge = params.get("hub.challenge", "")
        if params.get("hub.mode") != "subscribe" or not hmac.compare_digest(given, expected) or not challenge:
            log.warning("whatsapp: webhook verification refused")
            return _text("Forbidden", 403)
        return _text(challenge, 200)

    async def receive(self, request: Request) -> Response:
        """POST: check size, signature, type and JSON; answer 200 and handle new messages afterwards."""
        body = await read_body(request, MAX_BODY)
        if body is None:
            log.warning("whatsapp: delivery larger than %d bytes refused", MAX_BODY)
            return _text("Payload Too Large", 413)
        error = await self.wa.webhook_update_validator(body, request.headers.get("x-hub-signature-256"))
        if error:  # 401 without a signature, 403 with a wrong one; nothing is processed
            return _text(*error)
        if not json_content(request):
            log.warning("whatsapp: signed delivery with content type %r refused", request.headers.get("content-type"))
            return _text("Unsupported Media Type", 415)
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            log.warning("whatsapp: signed delivery with malformed JSON (%d bytes) refused", len(body))
            return _text("Bad Request", 400)
        update = parse_update(payload)
        if update is None:
            log.error("whatsapp: signed delivery is not a WhatsApp Business Account update; ignored")
            return _text("Bad Request", 400)
        fresh = [m for m in update.messages if self._accept(m)]
        if update.statuses:
            log.debug("whatsapp: %d status update(s) ignored", update.statuses)
        if not fresh:
            return _text("OK", 200)
        return PlainTextResponse("OK", background=BackgroundTask(self._handle_all, fresh))

    def _accept(self, msg: Incoming) -> bool:
        """Record a message as seen and its chat's inbound time; False for another number's or a redelivery."""
        if msg.phone_id and msg.phone_id != self.settings.phone_id:
            log.warning("whatsapp: message for another phone number id (%s) ignored", msg.phone_id)
            return False
        storage = self.app.storage
        if not storage.first_sight(msg.message_id):
            log.info("whatsapp: redelivered message %s skipped", msg.message_id)
            return False
        self._new_ids += 1
        if self._new_ids % PRUNE_EVERY == 0:
            storage.prune_seen(time.time() - SEEN_KEPT)
        now = time.time()
        storage.record_inbound(self.chat_key(msg), min(msg.timestamp or now, now))
        return True

    # -- handling -----------------------------------------------------------------------------
    def chat_id(self, msg: Incoming) -> str:
        """The chat's id: the BSUID when the webhook carries one, else a salted hash of the wa_id.

        The phone number itself is never stored (the chat id is part of every database key). The hash is
        Storage.chat_id_hash, whose salt lives in the database and never changes (unlike PANDU_LOG_SALT).
        """
        if msg.user_id:
            return msg.user_id
        return "wa-" + self.app.storage.chat_id_hash(f"wa_id:{msg.wa_id}")[:24]

    def chat_key(self, msg: Incoming) -> str:
        return Inbound("whatsapp", self.chat_id(msg)).chat_key

    async def _handle_all(self, messages: list[Incoming]) -> None:
        for msg in messages:
            try:
                await self.handle(msg)
            except Exception:  # one bad message never stops the others
                log.exception("whatsapp: failed to handle message %s", msg.message_id)

    async def handle(self, msg: Incoming) -> None:
        """Answer one new message: through the core, or a page of a long menu ("Lainnya")."""
        if msg.type in IGNORED_TYPES:
            return
        chat_key = self.chat_key(msg)
        async with self._locks(chat_key):
            more = wa_render.parse_more(msg.reply_id or "")
            if more is not None:
                await self._send_page(chat_key, msg.address, *more)
                return
            window_open = self.in_window(chat_key)  # read first: /hapus deletes the chat's window record
            for out in await self.app.handle(self.inbound(msg)):
                for wm in wa_render.render(out):
                    await self.send(chat_key, msg.address, wm, window_open)

    def inbound(self, msg: Incoming) -> Inbound:
        """The core's Inbound for a WhatsApp message."""
        chat_id = self.chat_id(msg)
        if msg.reply_id is not None:
            return Inbound("whatsapp", chat_id, choice=msg.reply_id, kind="choice")
        if msg.type == "text":
            return Inbound("whatsapp", chat_id, msg.text)
        return Inbound("whatsapp", chat_id, kind="unsupported", what=msg.type)

    async def _send_page(self, chat_key: str, address: str, menu_id: str, start: int) -> None:
        menu = self.app.storage.get_menu(chat_key, menu_id)
        page = wa_render.next_page(menu_id, [label for label, _ in menu], start) if menu else None
        await self.send(chat_key, address, page or WaMessage("text", texts.EXPIRED))

    # -- sending ------------------------------------------------------------------------------
    def in_window(self, chat_key: str, now: float | None = None) -> bool:
        """True while the chat's last inbound message is less than 24 hours old."""
        last = self.app.storage.last_inbound(chat_key)
        return last is not None and (time.time() if now is None else now) - last < WINDOW

    async def send(self, chat_key: str, address: str, wm: WaMessage, window_open: bool | None = None) -> bool:
        """Send one message if the 24-hour window is open; False (and a log line) if refused or failed."""
        if not (self.in_window(chat_key) if window_open is None else window_open):
            log.warning("whatsapp: not sending to %s: outside the 24-hour customer-service window", chat_key)
            return False
        try:
            await self._send(address, wm)
            return True
        except (WhatsAppError, httpx.HTTPError) as exc:
            log.error("whatsapp: sending a %s message failed: %s", wm.kind, exc)
            return False

    async def _send(self, to: str, wm: WaMessage) -> None:
        if wm.kind == "text":
            await self.wa.send_message(to=to, text=wm.text)
        elif wm.kind == "buttons":
            buttons = [types.Button(title=b.title, callback_data=b.id) for b in wm.buttons]
            await self.wa.send_message(to=to, text=wm.text, buttons=buttons)
        elif wm.kind == "list":
            rows = [types.SectionRow(title=b.title, callback_data=b.id, description=b.description or None)
                    for b in wm.buttons]  # fmt: skip
            section = types.Section(title=wm.list_button, rows=rows)
            await self.wa.send_message(
                to=to, text=wm.text, buttons=types.SectionList(button_title=wm.list_button, sections=[section])
            )
        elif wm.kind == "document" and wm.document is not None:
            doc = wm.document
            await self.wa.send_document(
                to=to, document=doc.data, filename=doc.filename, caption=wm.text or None, mime_type=doc.mime
            )


def web_channel(app) -> WhatsAppChannel | None:
    """The WhatsApp channel for `python -m bot serve`, or None unless every WHATSAPP_* secret is set."""
    missing = missing_settings()
    if missing:
        if len(missing) < len(REQUIRED):
            log.warning("whatsapp: not started, %s not set", ", ".join(missing))
        return None
    settings = settings_from_env()
    assert settings is not None
    return WhatsAppChannel(app, settings)
