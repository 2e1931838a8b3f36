"""The WhatsApp channel (Cloud API): a signed webhook in the project's ASGI app, replies sent with pywa.

pywa (async) is the Graph API client: sending text, reply buttons, lists and documents (with the media
upload), and the X-Hub-Signature-256 check. The webhook route itself is ours, because pywa's Starlette route
answers 200 before the delivery is stored (a crash loses it), has no body size limit, remembers duplicates
only in memory, reads only the first message of a delivery, and (4.5) drops messages whose webhook carries
no business-scoped user id.

Each send carries its outbox send key as `biz_opaque_callback_data`; Meta's status webhooks return it, which
confirms a send whose outcome a crash left unknown (so it is not sent twice).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import sqlite3
import time
from typing import Any, Sequence
from urllib.parse import urlsplit

import httpx
from pywa_async import WhatsApp, types
from pywa_async.errors import WhatsAppError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot import wa_render
from bot.channel import Delivery, Outgoing, SendError
from bot.settings import GRAPH_API, WhatsAppSettings
from bot.wa_render import Button, WaMessage
from bot.wa_webhook import WELCOME, IdentityChange, Incoming, chat_id_for, parse_update
from bot.web import STORAGE_DOWN, json_content, plain, read_body
from handlers.messages import Document, Inbound, Outbound

log = logging.getLogger(__name__)

ENDPOINT = "/webhook/whatsapp"
MAX_BODY = 256 * 1024  # bytes; Meta's deliveries are a few KiB
WINDOW = 24 * 3600  # seconds: the customer-service window opened by a user's message
OLDEST_TIME = 30 * 86400  # seconds: a message time older than this is not believed (Meta retries for 7 days)
ALBUM_WINDOW = 5.0  # seconds: photos, stickers … of one chat this close together get one "text only" reply
SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")  # X-Hub-Signature-256 as Meta sends it
# Cloud API error codes that no retry can fix (the message is given up with its reason): invalid parameters,
# the 24-hour window closed (131047), undeliverable (131026), unsupported or bad media, recipient not allowed.
PERMANENT_CODES = {100, 131008, 131009, 131021, 131026, 131030, 131047, 131051, 131052, 131053, 368}
# Rate limits and temporary errors: retried with backoff (also every code not listed in either set, and
# authorisation errors: the messages wait until the operator fixes the token, up to delivery.give_up_after_s).
THROTTLED_CODES = {4, 80007, 130429, 131048, 131056}


class RedirectTransport(httpx.AsyncHTTPTransport):
    """Sends pywa's Graph API requests to another base URL (pywa's own base URL is fixed to Meta's host)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("WHATSAPP_API_BASE_URL must be an http(s) URL")
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


class WhatsAppChannel:
    """The webhook at /webhook/whatsapp (parse), the renderer, and the sender."""

    name = "whatsapp"
    confirms_sends = True  # Meta's status webhooks name our sends (see OutboxSender)

    def __init__(self, app, settings: WhatsAppSettings, session: httpx.AsyncClient | None = None):
        self.app = app
        self.storage = app.storage
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
        self._unsupported_at: dict[str, float] = {}  # chat key → when its last unreadable message came (albums)

    # -- lifecycle ----------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        """GET (verification) and POST (deliveries) at /webhook/whatsapp."""
        return [
            Route(ENDPOINT, self.verify, methods=["GET"]),
            Route(ENDPOINT, self.receive, methods=["POST"]),
        ]

    async def start(self) -> None:
        """Read the chat-id salt once (it may be created now)."""
        async with self.storage.writing():
            self.storage.chat_id_hash("")

    async def stop(self) -> None:
        """Close the Graph API client."""
        await self.session.aclose()

    # -- receiving ----------------------------------------------------------------------------
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
            return plain("Forbidden", 403)
        return plain(challenge, 200)

    async def receive(self, request: Request) -> Response:
        """POST: check size, signature, type and JSON; store the new messages; only then answer 200."""
        body = await read_body(request, MAX_BODY)
        if body is None:
            log.warning("whatsapp: delivery larger than %d bytes refused", MAX_BODY)
            return plain("Payload Too Large", 413)
        if not body:  # no body, or the client left before sending it (e.g. cut off as too slow): nobody to tell
            return plain("Bad Request", 400)
        signature = request.headers.get("x-hub-signature-256")
        if signature is not None and not SIGNATURE.fullmatch(signature):  # not hex (pywa would raise on non-ASCII)
            log.warning("whatsapp: delivery with a malformed signature header refused")
            return plain("Forbidden", 403)
        error = await self.wa.webhook_update_validator(body, signature)
        if error:  # 401 without a signature, 403 with a wrong one; nothing is processed
            return plain(*error)
        if not json_content(request):
            log.warning("whatsapp: signed delivery with content type %r refused", request.headers.get("content-type"))
            return plain("Unsupported Media Type", 415)
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            log.warning("whatsapp: signed delivery with malformed JSON (%d bytes) refused", len(body))
            return plain("Bad Request", 400)
        update = parse_update(payload)
        if update is None:
            log.error("whatsapp: signed delivery is not a WhatsApp Business Account update; ignored")
            return plain("Bad Request", 400)
        if update.statuses:
            log.debug("whatsapp: %d status update(s)", update.statuses)
        messages = [m for m in update.messages if self._ours(m)]
        if not messages and not update.trackers and not update.changes:
            return plain("OK", 200)
        now = time.time()
        deliveries, seen = [], []
        for m in messages:
            d = self.parse(m, now)
            (seen if self._album_again(d) else deliveries).append(d)

        def also() -> None:  # in the inbox transaction: identities, the 24-hour window, confirmed sends
            for change in update.changes:
                self._move(change)
            for m in messages:
                if m.user_id and m.wa_id:  # the BSUID arrives for a chat known by its number: one chat, linked
                    self.storage.link(self.chat_key_of(None, m.wa_id), self.chat_key_of(m.user_id, None))
            for d in deliveries + seen:
                self.storage.record_inbound(self.storage.resolve(d.inbound.chat_key), d.reply_to["at"])
            for tracker in update.trackers:
                if self.storage.outbox.confirm(tracker):
                    log.debug("whatsapp: a send was confirmed by its status")

        try:
            await self.app.pipeline.accept(deliveries, also, seen=seen)
        except sqlite3.Error as exc:  # nothing was stored or marked seen: Meta will resend
            log.error("whatsapp: delivery not stored (%s); answered 503", exc)
            return plain(STORAGE_DOWN, 503)
        return plain("OK", 200)

    def _ours(self, msg: Incoming) -> bool:
        if msg.phone_id and msg.phone_id != self.settings.phone_id:
            log.warning("whatsapp: message for another phone number id ignored")
            return False
        return True

    def _album_again(self, delivery: Delivery) -> bool:
        """True for an unreadable message (photo, sticker …) sent within ALBUM_WINDOW of another of its chat (by
        the messages' own times): an album gets one "text only" reply. Remembered in memory only, so a restart in
        the middle of an album may add one reply."""
        if delivery.inbound.kind != "unsupported":
            return False
        key, at = delivery.inbound.chat_key, delivery.reply_to["at"]
        last = self._unsupported_at.get(key)
        self._unsupported_at[key] = at
        if len(self._unsupported_at) > 10_000:  # forget old entries; the window is seconds long
            self._unsupported_at = {k: t for k, t in self._unsupported_at.items() if abs(at - t) < ALBUM_WINDOW}
        return last is not None and abs(at - last) < ALBUM_WINDOW

    def _move(self, change: IdentityChange) -> None:
        """A user's number or business-scoped id changed: their chat (proposals, focus, log) moves to the new id."""
        target = self.chat_key_of(change.new_user_id, change.new_wa_id)
        for old in {self.chat_key_of(change.old_user_id, None) if change.old_user_id else None,
                    self.chat_key_of(None, change.old_wa_id) if change.old_wa_id else None} - {None}:  # fmt: skip
            self.storage.link(old, target)
        log.info("whatsapp: a user's number or id changed; their chat moved to the new one")

    def parse(self, msg: Incoming, now: float) -> Delivery:
        """One webhook message as a delivery: dedupe id, the core's Inbound, the address replies go to, its time.

        The time opens the 24-hour window: the message's own time when it is a real one from the last 30 days,
        else the time it was received (a "nan", negative or far-off time would close the window for good).
        """
        ts = msg.timestamp
        at = min(ts, now) if ts is not None and ts > now - OLDEST_TIME else now
        return Delivery(f"wamid:{msg.message_id}", self.inbound(msg), {"address": msg.address, "at": at})

    def chat_id(self, msg: Incoming) -> str:
        """The chat's id: the BSUID when the webhook carries one, else a salted hash of the wa_id.

        The phone number itself is never stored (the chat id is part of every database key). The hash is
        Storage.chat_id_hash, whose salt lives in the database and never changes (unlike PANDU_LOG_SALT).
        A chat first known by its number and later by its BSUID is linked (see receive): both keys reach it.
        """
        return chat_id_for(msg.user_id, msg.wa_id, self.storage.chat_id_hash)

    def chat_key(self, msg: Incoming) -> str:
        """The storage key of the message's chat."""
        return Inbound("whatsapp", self.chat_id(msg)).chat_key

    def chat_key_of(self, user_id: str | None, wa_id: str | None) -> str:
        """The storage key of the chat of a BSUID (preferred) or a wa_id."""
        return Inbound("whatsapp", chat_id_for(user_id, wa_id, self.storage.chat_id_hash)).chat_key

    def inbound(self, msg: Incoming) -> Inbound:
        """The core's Inbound for a WhatsApp message ("Lainnya" asks the core for a menu's next page)."""
        chat_id = self.chat_id(msg)
        more = wa_render.parse_more(msg.reply_id or "")
        if more is not None:
            return Inbound("whatsapp", chat_id, choice=more[0], kind="page", page=more[1])
        if msg.reply_id is not None:
            return Inbound("whatsapp", chat_id, choice=msg.reply_id, kind="choice")
        if msg.type == "text":
            return Inbound("whatsapp", chat_id, msg.text)
        if msg.type == WELCOME:  # a new user opened the chat: what /mulai shows (greeting and menu)
            return Inbound("whatsapp", chat_id, "/mulai")
        return Inbound("whatsapp", chat_id, kind="unsupported", what=msg.type)

    # -- rendering ----------------------------------------------------------------------------
    def in_window(self, chat_key: str, since: float | None = None) -> bool:
        """True while the chat's last inbound message (or the one at `since`) is less than 24 hours old.

        `since` matters when the message itself deleted the chat's records (/hapus).
        """
        last = max(self.storage.last_inbound(chat_key) or 0.0, since or 0.0)
        return time.time() - last < WINDOW

    def render(self, outs: Sequence[Outbound], delivery: Delivery) -> list[Outgoing]:
        """The replies as WhatsApp messages; none outside the 24-hour window (WhatsApp would refuse them)."""
        if not self.in_window(delivery.inbound.chat_key, delivery.reply_to.get("at")):
            log.warning("whatsapp: not answering %s: outside the 24-hour customer-service window",
                        delivery.inbound.chat_key)  # fmt: skip
            return []
        address = delivery.reply_to.get("address", "")
        messages: list[WaMessage] = []
        for out in outs:
            if out.page_start:
                labels = [c.label for c in out.reply.choices]
                page = wa_render.next_page(out.menu_id or "", labels, out.page_start)
                messages += [page] if page is not None else []
            else:
                messages += wa_render.render(out)
        return [to_outgoing(address, wm) for wm in messages]

    # -- sending ------------------------------------------------------------------------------
    async def send(self, out: Outgoing, send_key: str) -> None:
        """Send one message through the Graph API; its send key travels as biz_opaque_callback_data."""
        wm, to = from_outgoing(out)
        try:
            await self._send(to, wm, send_key)
        except WhatsAppError as exc:
            raise send_error(exc) from None
        except (httpx.HTTPError, ValueError) as exc:  # network errors, or an answer that is not the API's
            raise SendError(f"{type(exc).__name__}") from None

    async def _send(self, to: str, wm: WaMessage, tracker: str) -> None:
        if wm.kind == "text":
            await self.wa.send_message(to=to, text=wm.text, tracker=tracker)
        elif wm.kind == "buttons":
            buttons = [types.Button(title=b.title, callback_data=b.id) for b in wm.buttons]
            await self.wa.send_message(to=to, text=wm.text, buttons=buttons, tracker=tracker)
        elif wm.kind == "list":
            rows = [types.SectionRow(title=b.title, callback_data=b.id, description=b.description or None)
                    for b in wm.buttons]  # fmt: skip
            section = types.Section(title=wm.list_button, rows=rows)
            await self.wa.send_message(to=to, text=wm.text, tracker=tracker,
                                       buttons=types.SectionList(button_title=wm.list_button, sections=[section]))
        elif wm.kind == "document" and wm.document is not None:
            doc = wm.document
            await self.wa.send_document(to=to, document=doc.data, filename=doc.filename, caption=wm.text or None,
                                        mime_type=doc.mime, tracker=tracker)  # fmt: skip


def send_error(exc: WhatsAppError) -> SendError:
    """A Graph API error as a SendError: permanent for codes no retry can fix, else retried."""
    reason = f"WhatsApp error {exc.code}: {exc.message}"[:200]
    if exc.code in PERMANENT_CODES:
        return SendError(reason, permanent=True)
    return SendError(reason)


def to_outgoing(address: str, wm: WaMessage) -> Outgoing:
    """A WhatsApp message as an outbox body (JSON) plus the document's bytes."""
    body: dict[str, Any] = {"to": address, "kind": wm.kind, "text": wm.text, "list_button": wm.list_button,
                            "buttons": [[b.id, b.title, b.description] for b in wm.buttons]}  # fmt: skip
    blob = None
    if wm.document is not None:
        doc = wm.document
        body["document"] = {"filename": doc.filename, "mime": doc.mime, "caption": doc.caption}
        blob = doc.data
    return Outgoing(body, blob)


def from_outgoing(out: Outgoing) -> tuple[WaMessage, str]:
    """(message, address) from an outbox body."""
    b = out.body
    doc = None
    if b.get("document") is not None:
        d = b["document"]
        doc = Document(d["filename"], out.blob or b"", d["mime"], d.get("caption", ""))
    buttons = tuple(Button(*row) for row in b.get("buttons", []))
    return WaMessage(b["kind"], b.get("text", ""), buttons, b.get("list_button", ""), doc), b["to"]


def build(app) -> WhatsAppChannel | None:
    """The WhatsApp channel from the app's settings, or None unless every WHATSAPP_* secret is set."""
    settings = app.settings
    if settings.whatsapp is None:
        if settings.whatsapp_missing and len(settings.whatsapp_missing) < 4:
            log.warning("whatsapp: not started, %s not set", ", ".join(settings.whatsapp_missing))
        return None
    return WhatsAppChannel(app, settings.whatsapp)
