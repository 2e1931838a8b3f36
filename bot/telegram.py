"""The Telegram channel (python-telegram-bot): long polling or a webhook route; it only translates.

Updates become deliveries for the core (stored in the inbox before Telegram is acknowledged: in polling mode
the next getUpdates offset confirms only stored updates; in webhook mode the 200 follows the commit).
Replies become HTML messages with inline keyboards (callback_data = the short server-side token), split under
Telegram's 4096-character limit, and documents sent with sendDocument. PTB provides the Bot API client, the
types, and the AIORateLimiter; its Application (an in-memory update queue) is not used, because an update it
holds is lost in a crash. This is the only module besides the tests that imports `telegram`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import json
import logging
import re
import sqlite3
from html import escape
from pathlib import Path
from typing import Any, AsyncIterator, Sequence

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import (
    BotCommand,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.channel import Delivery, Outgoing, SendError
from bot.redact import hide_in_logs
from bot.settings import SettingsError, TelegramSettings, api_urls, check_token
from bot.textsplit import split_text
from bot.web import STORAGE_DOWN, json_content, read_body
from handlers import texts
from handlers.messages import Inbound, Outbound, Reply, document_only
from handlers.router import COMMANDS

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_MESSAGE = 4096  # characters (UTF-16 code units) per message
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes
TYPING_AFTER = 0.4  # seconds of work before the chat shows "typing…"
TYPING_EVERY = 4.5  # Telegram shows a chat action for about 5 seconds
MAX_WEBHOOK_BODY = 1_000_000  # bytes
WEBHOOK_PATH = "/webhook/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
SHUTDOWN_GRACE = 8.0  # seconds allowed for a clean stop
STORE_RETRY = 2.0  # seconds between tries to store polled updates when the database refuses

# Content the assistant cannot read; the first one present names the message kind.
_UNSUPPORTED = (
    "sticker", "photo", "voice", "video_note", "video", "animation", "audio", "document",
    "location", "venue", "contact", "poll", "dice", "game", "story",
)  # fmt: skip
_GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError, RecursionError)  # what PTB raises on a bad update


@dataclasses.dataclass
class Parsed:
    """What some updates carried: deliveries for the core, membership changes, chat moves (old → new key)."""

    deliveries: list[Delivery] = dataclasses.field(default_factory=list)
    members: dict[str, bool] = dataclasses.field(default_factory=dict)
    moves: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    albums: list[Delivery] = dataclasses.field(default_factory=list)  # later parts of an album: remembered only


class TelegramSetupError(SettingsError):
    """The Telegram environment is missing or wrong, or the Bot API refused us; one line, no secret."""


class BotApiUnreachable(TelegramSetupError):
    """The Bot API server could not be reached at start-up (worth retrying later, unlike a bad token)."""


def read_token(token: str | None) -> str:
    """A token checked for shape, as TelegramSetupError (the value is never echoed)."""
    try:
        return check_token(token)
    except SettingsError as exc:
        raise TelegramSetupError(str(exc)) from None


# -- Update → Inbound -------------------------------------------------------------------------
def to_inbound(message: Message, bot_id: int, bot_username: str | None) -> Inbound | None:
    """The core's view of a Telegram message, or None when it is not for the assistant.

    In groups only commands (bare or /cmd@ThisBot), replies to the bot and @mentions count.
    """
    chat_id = str(message.chat.id)
    group = message.chat.type in _GROUPS
    if message.text is not None:
        text = _group_text(message, bot_id, bot_username) if group else message.text
        return None if text is None else Inbound(CHANNEL, chat_id, text)
    what = next((name for name in _UNSUPPORTED if getattr(message, name, None)), None)
    if what is None or (group and not _replies_to_bot(message, bot_id)):
        return None  # service messages (members joined, pinned …) and group chatter
    return Inbound(CHANNEL, chat_id, kind="unsupported", what=what)


def _replies_to_bot(message: Message, bot_id: int) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id)


def _group_text(message: Message, bot_id: int, bot_username: str | None) -> str | None:
    text = message.text or ""
    if text.startswith("/"):
        command, at, name = text.split(maxsplit=1)[0].partition("@")
        if at and (not bot_username or name.casefold() != bot_username.casefold()):
            return None  # a command for another bot
        if not at and command[1:].casefold() not in COMMANDS:
            return None  # a bare command that is not Pandu's: another bot's (several bots share a group)
        return text
    if _replies_to_bot(message, bot_id):
        return text
    if bot_username and f"@{bot_username}".casefold() in text.casefold():
        return re.sub(re.escape(f"@{bot_username}"), " ", text, flags=re.I).strip()
    return None


# -- Outbound → Telegram ----------------------------------------------------------------------
def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render_parts(reply: Reply, limit: int = MAX_MESSAGE) -> list[str]:
    """A reply as HTML message texts: heading in bold, text escaped, split at paragraphs under `limit`."""
    plain = f"{reply.heading}\n\n{reply.text}" if reply.heading else reply.text
    size = limit
    parts = split_text(plain, size)
    while any(_utf16_len(p) > limit for p in parts) and size > limit // 2:
        size -= limit // 16  # emoji count twice in Telegram's UTF-16 limit
        parts = split_text(plain, size)
    html_parts = [escape(part, quote=False) for part in parts]
    if reply.heading and parts and parts[0].startswith(reply.heading):
        rest = parts[0][len(reply.heading) :]
        html_parts[0] = f"<b>{escape(reply.heading, quote=False)}</b>{escape(rest, quote=False)}"
    return html_parts


def _markup_json(out: Outbound) -> dict[str, Any] | None:
    """The inline keyboard of a reply (one button per row, callback_data = the short token), as JSON."""
    rows = [[choice.label, token] for choice, token in zip(out.choices, out.choice_tokens)
            if len(token.encode()) <= MAX_CALLBACK_DATA]  # fmt: skip
    return {"inline": rows} if rows else None


def markup_of(data: dict[str, Any] | None) -> InlineKeyboardMarkup | ForceReply | None:
    """The PTB reply markup of an outbox body's markup JSON."""
    if not data:
        return None
    if "force" in data:
        return ForceReply(input_field_placeholder=data["force"])
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=token)] for label, token in data["inline"]])


def render_outbound(chat_id: int | str, out: Outbound, force_reply: bool = False,
                    thread: int | None = None) -> list[Outgoing]:  # fmt: skip
    """One reply as Bot API calls: its text parts (buttons under the last), then its document if any.

    `force_reply`: a message without buttons opens the reply field (groups, where answers must be replies).
    `thread`: the forum topic the replies go to (None: the chat itself, or a forum's "General").
    """
    markup = _markup_json(out)
    if markup is None and force_reply:
        markup = {"force": texts.TG_GROUP_REPLY_PLACEHOLDER}
    doc = out.reply.document
    calls: list[Outgoing] = []
    parts = [] if document_only(out.reply) else render_parts(out.reply)
    caption = doc.caption.strip() if doc is not None else ""
    if doc is not None and len(caption) > MAX_CAPTION:  # too long for a caption: it goes first as text
        parts += render_parts(Reply(caption))
        caption = ""
    where = {"chat_id": chat_id, **({"thread": thread} if thread is not None else {})}
    for i, part in enumerate(parts):
        last = i == len(parts) - 1 and doc is None
        calls.append(Outgoing({"method": "sendMessage", **where, "text": part,
                               "markup": markup if last else None}))  # fmt: skip
    if doc is not None:
        body = {"method": "sendDocument", **where, "filename": Path(doc.filename).name or "dokumen",
                "caption": escape(caption, quote=False), "markup": markup}  # fmt: skip
        calls.append(Outgoing(body, doc.data))
    return calls


def with_reply_hint(out: Outbound) -> Outbound:
    """The reply with the group hint added: in groups, typed answers reach the bot only as replies to it."""
    if out.reply.document is not None:
        return out
    reply = dataclasses.replace(out.reply, text=f"{out.reply.text.rstrip()}\n\n{texts.TG_GROUP_REPLY_HINT}")
    return dataclasses.replace(out, reply=reply)


@contextlib.asynccontextmanager
async def typing(bot: Any, chat_id: int | str, action: str = ChatAction.TYPING,
                 thread: int | None = None) -> AsyncIterator[None]:  # fmt: skip
    """Show a chat action (in the forum topic `thread`, if any) while the work inside takes over TYPING_AFTER s."""

    async def keep_showing() -> None:
        await asyncio.sleep(TYPING_AFTER)
        while True:
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, action, message_thread_id=thread)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def send_error(exc: TelegramError) -> SendError:
    """A Bot API error as a SendError: 429 waits retry_after, a block is permanent, 400 too; the rest is retried."""
    name = type(exc).__name__
    if isinstance(exc, RetryAfter):
        retry = exc.retry_after
        seconds = retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
        return SendError(f"{name}: {seconds:.0f} s", retry_after=seconds)
    if isinstance(exc, Forbidden):
        return SendError(f"{name}: {exc.message}"[:200], blocked=True)
    if isinstance(exc, BadRequest):
        return SendError(f"{name}: {exc.message}"[:200], permanent=True)
    return SendError(f"{name}")  # TimedOut, NetworkError (5xx, connection refused), InvalidToken …


class UpdatesRequest(HTTPXRequest):
    """The getUpdates connection. An update python-telegram-bot cannot read (a shape it does not know) is taken
    out of the answer before PTB parses it, so the others are handled and polling goes on; its id is kept in
    `unreadable`, so the next offset acknowledges it too (it is logged once, without its content)."""

    def __init__(self) -> None:
        super().__init__(connection_pool_size=1)
        self.unreadable: list[int] = []

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:
        """Telegram's answer, without the updates that cannot be read (see the class)."""
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(data, dict) and data.get("ok") and isinstance(result, list):
            kept = []
            for raw in result:
                try:
                    Update.de_json(raw, None)
                    kept.append(raw)
                except _UNREADABLE as exc:
                    update_id = raw.get("update_id") if isinstance(raw, dict) else None
                    if isinstance(update_id, int):
                        self.unreadable.append(update_id)
                    log.error("Telegram update %s could not be read (%s); acknowledged and skipped",
                              update_id, type(exc).__name__)  # fmt: skip
            data["result"] = kept
        return data


# -- the channel ------------------------------------------------------------------------------
class TelegramChannel:
    """Parses updates into deliveries, renders replies, sends them; polling or webhook mode."""

    name = CHANNEL

    def __init__(self, app, settings: TelegramSettings, polling: bool = False):
        self.app = app
        self.storage = app.storage
        self.settings = settings
        self.polling = polling
        hide_in_logs(settings.token)
        urls = api_urls(settings.base_url)
        base = {"base_url": urls[0], "base_file_url": urls[1]} if urls else {}
        # max_retries=0: a 429 reaches the outbox, which waits retry_after durably (across a crash too).
        self.updates_request = UpdatesRequest()
        self.bot = ExtBot(settings.token, rate_limiter=AIORateLimiter(max_retries=0),
                          get_updates_request=self.updates_request, **base)  # fmt: skip
        self.bot_id = settings.token.split(":", 1)[0]
        self.secret = (settings.webhook_secret or "").encode()
        self._tasks: set[asyncio.Task] = set()

    @property
    def where(self) -> str:
        """The Bot API server, for one-line errors (never the token)."""
        urls = api_urls(self.settings.base_url)
        return urls[0].removesuffix("/bot") if urls else "api.telegram.org"

    # -- lifecycle ----------------------------------------------------------------------------
    def routes(self) -> Sequence[BaseRoute]:
        """POST /webhook/telegram (webhook mode only)."""
        return [] if self.polling else [Route(WEBHOOK_PATH, self.receive, methods=["POST"])]

    async def start(self) -> None:
        """getMe (one-line errors for a refused token or an unreachable server), the command menu, the webhook."""
        try:
            await self.bot.initialize()
        except (InvalidToken, NetworkError) as exc:
            await self.bot.shutdown()  # close the HTTP clients opened before getMe failed
            if isinstance(exc, InvalidToken):
                refused = f"the Bot API at {self.where} refused TELEGRAM_BOT_TOKEN (check it with @BotFather)"
                raise TelegramSetupError(refused) from None
            raise BotApiUnreachable(f"cannot reach the Bot API at {self.where}: {exc.__class__.__name__}") from None
        await self.bot.set_my_commands([BotCommand(name, description) for name, description in texts.COMMAND_MENU])
        if self.polling:
            await self.bot.delete_webhook()
        elif self.settings.webhook_url:
            await self.bot.set_webhook(self.settings.webhook_url, secret_token=self.secret.decode(),
                                       allowed_updates=ALLOWED_UPDATES)  # fmt: skip
            log.info("Telegram webhook set")

    async def stop(self) -> None:
        """Close the Bot API client."""
        for task in list(self._tasks):
            task.cancel()
        try:
            await asyncio.wait_for(self.bot.shutdown(), SHUTDOWN_GRACE)
        except (asyncio.TimeoutError, TelegramError) as exc:
            log.warning("Telegram shutdown incomplete: %s", exc.__class__.__name__)

    # -- parsing ------------------------------------------------------------------------------
    def parse(self, update: Update, into: Parsed | None = None) -> Parsed:
        """What one update carries for the core (added to `into`); callback queries are answered at once."""
        found = into if into is not None else Parsed()
        platform_id = f"telegram:{self.bot_id}:{update.update_id}"
        if update.callback_query is not None:
            query = update.callback_query
            self._later(self.bot.answer_callback_query(query.id))  # stop the button's spinner, whatever follows
            message = query.message
            if message is None or query.data is None:
                return found  # an inline-mode or game button: not ours
            inbound = Inbound(CHANNEL, str(message.chat.id), choice=query.data, kind="choice")
            found.deliveries.append(Delivery(platform_id, inbound, self._reply_to(message)))
        elif update.my_chat_member is not None:
            change = update.my_chat_member
            status = change.new_chat_member.status
            log.info("Telegram chat membership changed to %s", status)
            found.members[f"{CHANNEL}:{change.chat.id}"] = status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        elif update.message is not None:
            self._parse_message(update.message, platform_id, found)
        else:
            log.debug("update %s ignored", update.update_id)  # edited messages, channel posts …
        return found

    def _parse_message(self, message: Message, platform_id: str, found: Parsed) -> None:
        migrated = _migration(message)
        if migrated is not None:  # a group became a supergroup: its proposals and focus move to the new id
            log.info("Telegram group upgraded to a supergroup; its chat moves to the new id")
            found.moves.append(migrated)
            return
        inbound = to_inbound(message, self.bot.id, self.bot.username)
        if inbound is None:
            return
        if inbound.kind == "unsupported" and message.media_group_id:  # an album: one "text only" reply
            album_id = f"telegram:{self.bot_id}:album:{message.chat.id}:{message.media_group_id}"
            first = all(d.platform_id != album_id for d in found.deliveries)
            delivery = Delivery(album_id if first else platform_id, inbound, self._reply_to(message))
            (found.deliveries if first else found.albums).append(delivery)
            return
        found.deliveries.append(Delivery(platform_id, inbound, self._reply_to(message)))

    @staticmethod
    def _reply_to(message: Message) -> dict[str, Any]:
        """Where replies go: the chat, and in a forum the topic the message was written in."""
        where: dict[str, Any] = {"chat_id": message.chat.id, "group": message.chat.type in _GROUPS}
        if message.is_topic_message and message.message_thread_id is not None:
            where["thread"] = message.message_thread_id
        return where

    def _later(self, coro) -> None:
        async def quietly() -> None:
            try:
                await coro
            except TelegramError as exc:
                log.debug("callback query not answered: %s", exc.__class__.__name__)

        task = asyncio.get_running_loop().create_task(quietly())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def accept(self, updates: Sequence[Update]) -> None:
        """Store the updates' deliveries, membership changes and chat moves in one transaction; raises sqlite3.Error."""
        found = Parsed()
        for update in updates:
            self.parse(update, found)

        def also() -> None:
            for old, new in found.moves:
                self.storage.link(old, new)
            for chat_key, active in found.members.items():
                self.storage.set_chat_active(self.storage.resolve(chat_key), active)

        await self.app.pipeline.accept(found.deliveries, also, seen=found.albums)

    # -- webhook mode -------------------------------------------------------------------------
    async def receive(self, request: Request) -> Response:
        """Check the secret, parse and store the update, then 200; 403 (dropped) on a wrong or missing secret."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not self.secret or not hmac.compare_digest(given, self.secret):
            log.warning("Telegram webhook call with a wrong or missing secret token: dropped")
            return PlainTextResponse("forbidden", status_code=403)
        if not json_content(request):
            return PlainTextResponse("unsupported media type", status_code=415)
        body = await read_body(request, MAX_WEBHOOK_BODY)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        if not body:  # the client left before its body arrived (or sent none): nobody to answer
            return PlainTextResponse("bad update", status_code=400)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            log.warning("Telegram webhook: body is not JSON; dropped")
            return PlainTextResponse("bad update", status_code=400)
        try:
            update = Update.de_json(data, self.bot)
            if update is None or (update.message is not None and update.message.chat is None):
                raise ValueError("not an update")
        except _UNREADABLE as exc:
            # It came with the secret, so from Telegram: a 4xx would make Telegram send it again and again.
            # Acknowledge it; it is logged this once, by id and error type (never its content).
            update_id = data.get("update_id") if isinstance(data, dict) else None
            log.error("Telegram update %s could not be read (%s); acknowledged and skipped",
                      update_id if isinstance(update_id, int) else "?", type(exc).__name__)  # fmt: skip
            return Response(status_code=200)
        try:
            await self.accept([update])
        except sqlite3.Error as exc:  # nothing stored, nothing marked seen: Telegram will resend
            log.error("Telegram webhook: update not stored (%s); answered 503", exc)
            return PlainTextResponse(STORAGE_DOWN, status_code=503)
        return Response(status_code=200)

    # -- polling mode -------------------------------------------------------------------------
    async def poll(self, stop: asyncio.Event, timeout: float = 25) -> None:
        """getUpdates until `stop`; an update is confirmed (next offset) only after it is stored."""
        offset: int | None = None
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES,
                                                     read_timeout=timeout + 10)  # fmt: skip
            except (NetworkError, RetryAfter) as exc:
                log.warning("getUpdates failed (%s); retrying", exc.__class__.__name__)
                await _sleep_or_stop(stop, 1.0)
                continue
            unreadable, self.updates_request.unreadable = self.updates_request.unreadable, []
            if not updates and not unreadable:
                continue
            try:
                await self.accept(updates)
            except sqlite3.Error as exc:  # not confirmed: the same updates come again
                log.error("polled updates not stored (%s); retrying", exc)
                await _sleep_or_stop(stop, STORE_RETRY)
                continue
            offset = max([u.update_id for u in updates] + unreadable) + 1

    # -- rendering ----------------------------------------------------------------------------
    def render(self, outs: Sequence[Outbound], delivery: Delivery) -> list[Outgoing]:
        """The replies as Bot API calls, to the message's chat and forum topic; in a group, a reply that waits
        for typed text asks for a reply to it (in the same topic)."""
        chat_id, thread = _address(delivery)
        awaiting = bool(delivery.reply_to.get("group")) and bool(outs) and outs[-1].reply.expects_text
        outs = list(outs)
        if awaiting:
            outs[-1] = with_reply_hint(outs[-1])
        calls = []
        for i, out in enumerate(outs):
            calls += render_outbound(chat_id, out, force_reply=awaiting and i == len(outs) - 1, thread=thread)
        return calls

    def working(self, delivery: Delivery):
        """While a delivery is handled, the chat (its topic) shows "typing…" (after TYPING_AFTER seconds)."""
        chat_id, thread = _address(delivery)
        return typing(self.bot, chat_id, thread=thread)

    # -- sending ------------------------------------------------------------------------------
    async def send(self, out: Outgoing, send_key: str) -> None:
        """Send one message or document; Bot API errors become SendError. A reply queued for a group that has
        since become a supergroup goes to the supergroup (Telegram names it in the error)."""
        try:
            try:
                await self._send(out, out.body["chat_id"])
            except ChatMigrated as exc:
                await self._send(out, exc.new_chat_id)
        except TelegramError as exc:
            raise send_error(exc) from None

    async def _send(self, out: Outgoing, chat_id: int | str) -> None:
        b = out.body
        thread = b.get("thread")
        if b["method"] == "sendDocument":
            with contextlib.suppress(TelegramError):
                await self.bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT, message_thread_id=thread)
            await self.bot.send_document(chat_id, InputFile(out.blob or b"", filename=b["filename"]),
                                         caption=b.get("caption") or None, parse_mode=ParseMode.HTML,
                                         reply_markup=markup_of(b.get("markup")), message_thread_id=thread)  # fmt: skip
        else:
            await self.bot.send_message(chat_id, b["text"], parse_mode=ParseMode.HTML,
                                        reply_markup=markup_of(b.get("markup")), message_thread_id=thread,
                                        link_preview_options=LinkPreviewOptions(is_disabled=True))  # fmt: skip


def _migration(message: Message) -> tuple[str, str] | None:
    """(old chat key, new chat key) when a group was upgraded to a supergroup: Telegram says so in the old group
    (migrate_to_chat_id) and in the new supergroup (migrate_from_chat_id); either moves the chat."""
    if message.migrate_to_chat_id:
        return f"{CHANNEL}:{message.chat.id}", f"{CHANNEL}:{message.migrate_to_chat_id}"
    if message.migrate_from_chat_id:
        return f"{CHANNEL}:{message.migrate_from_chat_id}", f"{CHANNEL}:{message.chat.id}"
    return None


def _address(delivery: Delivery) -> tuple[int | str, int | None]:
    """(chat id, forum topic) of a delivery's replies. The chat id is the delivery's chat as handled: a group
    upgraded to a supergroup after the message came is answered in the supergroup (the topic does not carry over)."""
    chat_id: int | str = delivery.inbound.chat_id
    with contextlib.suppress(ValueError):
        chat_id = int(chat_id)
    same_chat = str(delivery.reply_to.get("chat_id", chat_id)) == str(chat_id)
    thread = delivery.reply_to.get("thread") if same_chat else None
    return chat_id, thread if isinstance(thread, int) else None


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_polling(app, channel: TelegramChannel, poll_timeout: float = 25, stop: asyncio.Event | None = None,
                      ready: asyncio.Event | None = None) -> None:  # fmt: skip
    """Long polling until `stop` is set (the CLI sets it on SIGINT/SIGTERM), with the pipeline running."""
    stop = stop or asyncio.Event()
    await channel.start()
    try:
        await app.pipeline.start()
        log.info("Telegram bot @%s is polling", channel.bot.username)
        if ready is not None:
            ready.set()
        poller = asyncio.create_task(channel.poll(stop, poll_timeout))
        await stop.wait()
        log.info("Telegram bot stopping")
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
    finally:
        await app.pipeline.stop()
        await channel.stop()


def main_polling(app, poll_timeout: float) -> int:
    """`python -m bot telegram`: poll until SIGINT or SIGTERM; errors are one line."""
    import signal

    channel = app.channels.get(CHANNEL)
    if not isinstance(channel, TelegramChannel):
        raise TelegramSetupError(app.settings.telegram_problem or "TELEGRAM_BOT_TOKEN is not set")
    channel.polling = True

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_polling(app, channel, poll_timeout, stop)

    asyncio.run(main())
    return 0


def build(app, polling: bool = False) -> TelegramChannel | None:
    """The Telegram channel from the app's settings: webhook mode needs TELEGRAM_WEBHOOK_SECRET, polling does not.

    None when TELEGRAM_BOT_TOKEN is unset; TelegramSetupError when a setting is malformed.
    """
    settings = app.settings
    if settings.telegram is None:
        problem = settings.telegram_problem or ""
        if problem and not problem.startswith("TELEGRAM_BOT_TOKEN is not set"):
            raise TelegramSetupError(problem)
        return None
    if not polling and settings.telegram.webhook_secret is None:
        return None
    return TelegramChannel(app, settings.telegram, polling)
