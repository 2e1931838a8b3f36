"""The Telegram channel (python-telegram-bot): long polling or a webhook route; it only translates.

Updates become `Inbound` messages for the core; `Outbound` replies become HTML messages with inline
keyboards (callback_data = the short server-side token), split under Telegram's 4096-character limit,
and documents sent with sendDocument. This is the only module besides the tests that imports `telegram`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import json
import logging
import re
import time
from html import escape
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Sequence
from urllib.parse import urlsplit

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
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseUpdateProcessor, TypeHandler

from bot.app import App, ChatLocks
from bot.config import env_secret
from bot.textsplit import split_text
from bot.web import WebChannel, json_content, read_body
from handlers import texts
from handlers.messages import Document, Inbound, Outbound, Reply, document_only

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
SEEN_KEPT = 7 * 24 * 3600  # seconds: webhook update ids remembered to skip Telegram's redeliveries

_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,200}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Content the assistant cannot read; the first one present names the message kind.
_UNSUPPORTED = (
    "sticker", "photo", "voice", "video_note", "video", "animation", "audio", "document",
    "location", "venue", "contact", "poll", "dice", "game", "story",
)  # fmt: skip
_GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)


class TelegramSetupError(ValueError):
    """The Telegram environment is missing or wrong, or the Bot API refused us; one line, no secret."""


class BotApiUnreachable(TelegramSetupError):
    """The Bot API server could not be reached at start-up (worth retrying later, unlike a bad token)."""


# -- environment ------------------------------------------------------------------------------
def read_token() -> str:
    """TELEGRAM_BOT_TOKEN from the environment, checked for shape (the value is never echoed)."""
    token = env_secret("TELEGRAM_BOT_TOKEN")
    if token is None:
        raise TelegramSetupError(
            "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in the "
            "environment (see .env.example)"
        )
    if not _TOKEN.fullmatch(token):
        raise TelegramSetupError(
            "TELEGRAM_BOT_TOKEN is malformed: expected the bot id, a colon and the secret part, "
            "like 123456789:AAH… (copy it again from @BotFather)"
        )
    return token


def api_urls(base: str | None) -> tuple[str, str] | None:
    """(base_url, base_file_url) for another Bot API server, e.g. http://127.0.0.1:8081/bot; None for Telegram's."""
    if not base or not base.strip():
        return None
    url = base.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TelegramSetupError(
            "TELEGRAM_BASE_URL must be an http(s) URL of a Bot API server, like http://127.0.0.1:8081/bot"
        )
    root = url[: -len("/bot")] if url.endswith("/bot") else url
    return f"{root}/bot", f"{root}/file/bot"


def _read_webhook_url() -> str | None:
    url = env_secret("TELEGRAM_WEBHOOK_URL")
    if url is not None and (urlsplit(url).scheme != "https" or not urlsplit(url).hostname):
        raise TelegramSetupError("TELEGRAM_WEBHOOK_URL must be the public https:// address of /webhook/telegram")
    return url


# -- logs never show the token ----------------------------------------------------------------
_SECRETS: set[str] = set()


def hide_in_logs(secret: str) -> None:
    """Replace `secret` with "[redacted]" in every log record from now on (messages and tracebacks)."""
    if not _SECRETS:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            return _redact(record)

        logging.setLogRecordFactory(factory)
    _SECRETS.add(secret)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))


def _redact(record: logging.LogRecord) -> logging.LogRecord:
    message = record.getMessage()
    if any(s in message for s in _SECRETS):
        for s in _SECRETS:
            message = message.replace(s, "[redacted]")
        record.msg, record.args = message, None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        for s in _SECRETS:
            text = text.replace(s, "[redacted]")
        record.exc_text = text
    return record


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
        _, at, name = text.split(maxsplit=1)[0].partition("@")
        if at and (not bot_username or name.casefold() != bot_username.casefold()):
            return None  # a command for another bot
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


def keyboard(out: Outbound) -> InlineKeyboardMarkup | None:
    """One button per row; each button's callback_data is the Outbound's short token."""
    rows = [
        [InlineKeyboardButton(choice.label, callback_data=token)]
        for choice, token in zip(out.choices, out.choice_tokens)
        if len(token.encode()) <= MAX_CALLBACK_DATA
    ]
    return InlineKeyboardMarkup(rows) if rows else None


@contextlib.asynccontextmanager
async def typing(bot: Any, chat_id: int | str, action: str = ChatAction.TYPING) -> AsyncIterator[None]:
    """Show a chat action while the work inside takes longer than TYPING_AFTER seconds."""

    async def keep_showing() -> None:
        await asyncio.sleep(TYPING_AFTER)
        while True:
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, action)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def send_outbound(bot: Any, chat_id: int | str, out: Outbound, force_reply: bool = False) -> None:
    """Send one reply: its text parts (buttons under the last message), then its document if any.

    `force_reply`: a message without buttons opens the reply field (groups, where answers must be replies).
    """
    markup: InlineKeyboardMarkup | ForceReply | None = keyboard(out)
    if markup is None and force_reply:
        markup = ForceReply(input_field_placeholder=texts.TG_GROUP_REPLY_PLACEHOLDER)
    parts = [] if document_only(out.reply) else render_parts(out.reply)
    doc = out.reply.document
    for i, part in enumerate(parts):
        last = i == len(parts) - 1 and doc is None
        await bot.send_message(
            chat_id,
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=markup if last else None,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    if doc is not None:
        await send_document(bot, chat_id, doc, markup)


async def send_document(bot: Any, chat_id: int | str, doc: Document, markup: Any) -> None:
    """sendDocument with an "uploading" chat action; a caption too long for Telegram goes first as text."""
    caption = doc.caption.strip()
    if len(caption) > MAX_CAPTION:
        await send_outbound(bot, chat_id, Outbound(Reply(caption)))
        caption = ""
    with contextlib.suppress(TelegramError):
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
    await bot.send_document(
        chat_id,
        InputFile(doc.data, filename=Path(doc.filename).name or "dokumen"),
        caption=escape(caption, quote=False) or None,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
    )


def with_reply_hint(out: Outbound) -> Outbound:
    """The reply with the group hint added: in groups, typed answers reach the bot only as replies to it."""
    if out.reply.document is not None:
        return out
    reply = dataclasses.replace(out.reply, text=f"{out.reply.text.rstrip()}\n\n{texts.TG_GROUP_REPLY_HINT}")
    return dataclasses.replace(out, reply=reply)


# -- the channel ------------------------------------------------------------------------------
class TelegramChannel:
    """Handles every update of one PTB Application through the core `App`."""

    def __init__(self, app: App):
        self.app = app

    async def on_update(self, update: Update, context: Any) -> None:
        """PTB callback for every update."""
        bot = context.bot
        if update.callback_query is not None:
            await self._on_callback(update, bot)
        elif update.my_chat_member is not None:
            self._on_membership(update)
        elif update.message is not None:
            inbound = to_inbound(update.message, bot.id, bot.username)
            if inbound is not None:
                await self.process(bot, update.message.chat.id, inbound, update.message.chat.type in _GROUPS)
        else:  # edited messages, channel posts …: nothing to do
            log.debug("update %s ignored", update.update_id)

    async def _on_callback(self, update: Update, bot: Any) -> None:
        query = update.callback_query
        try:
            await query.answer()  # stop the button's spinner at once, whatever follows
        except TelegramError as exc:
            log.debug("callback query not answered: %s", exc.__class__.__name__)
        message = query.message
        if message is None or query.data is None:
            return  # an inline-mode or game button: not ours
        chat_id = message.chat.id
        inbound = Inbound(CHANNEL, str(chat_id), choice=query.data, kind="choice")
        await self.process(bot, chat_id, inbound, message.chat.type in _GROUPS)

    def _on_membership(self, update: Update) -> None:
        change = update.my_chat_member
        status = change.new_chat_member.status
        active = status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        self.app.storage.set_chat_active(f"{CHANNEL}:{change.chat.id}", active)
        log.info("Telegram chat membership changed to %s", status)

    async def process(self, bot: Any, chat_id: int, inbound: Inbound, group: bool = False) -> None:
        """Run one message through the core and send the replies."""
        async with typing(bot, chat_id):
            outs = await self.app.handle(inbound)
        awaiting = group and bool(outs) and outs[-1].reply.expects_text  # the last reply waits for typed text
        if awaiting:
            outs = [*outs[:-1], with_reply_hint(outs[-1])]
        try:
            for i, out in enumerate(outs):
                await send_outbound(bot, chat_id, out, force_reply=awaiting and i == len(outs) - 1)
        except Forbidden:
            self.mark_blocked(inbound.chat_key)

    def mark_blocked(self, chat_key: str) -> None:
        """The user blocked the bot (or removed it): mark the chat inactive and stop sending."""
        self.app.storage.set_chat_active(chat_key, False)
        log.info("a Telegram chat blocked the bot; marked inactive")

    async def on_error(self, update: object, context: Any) -> None:
        """PTB error handler: log with context (no token, no user text) and apologise briefly."""
        err = context.error
        chat = update.effective_chat if isinstance(update, Update) else None
        if isinstance(err, Forbidden):
            if chat is not None:
                self.mark_blocked(f"{CHANNEL}:{chat.id}")
            return
        update_id = update.update_id if isinstance(update, Update) else None
        log.error(
            "Telegram update %s failed (chat type %s): %s",
            update_id,
            chat.type if chat else None,
            err.__class__.__name__,
            exc_info=err,
        )
        if chat is None:
            return
        try:
            await context.bot.send_message(chat.id, texts.ERROR)
        except TelegramError as exc:
            log.warning("apology not sent: %s", exc.__class__.__name__)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; updates of one chat run strictly in order."""

    def __init__(self, max_concurrent_updates: int = 16):
        super().__init__(max_concurrent_updates)
        self._locks = ChatLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        async with self._locks(chat.id):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def build_application(app: App, token: str, base_url: str | None = None, polling: bool = True) -> Application:
    """A PTB Application wired to the core: rate limiter, per-chat ordering, handler, error handler."""
    hide_in_logs(token)
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(ChatOrderedProcessor())
    )
    urls = api_urls(base_url)
    if urls is not None:
        builder = builder.base_url(urls[0]).base_file_url(urls[1])
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    channel = TelegramChannel(app)
    application.add_handler(TypeHandler(Update, channel.on_update))
    application.add_error_handler(channel.on_error)
    return application


async def set_commands(bot: Any) -> None:
    """The command menu (setMyCommands) in Indonesian."""
    await bot.set_my_commands([BotCommand(name, description) for name, description in texts.COMMAND_MENU])


async def start_application(application: Application, where: str) -> None:
    """initialize() (getMe) with one-line errors for a refused token or an unreachable server."""
    try:
        await application.initialize()
    except (InvalidToken, NetworkError) as exc:
        await application.bot.shutdown()  # close the HTTP clients opened before getMe failed
        if isinstance(exc, InvalidToken):
            refused = f"the Bot API at {where} refused TELEGRAM_BOT_TOKEN (check it with @BotFather)"
            raise TelegramSetupError(refused) from None
        raise BotApiUnreachable(f"cannot reach the Bot API at {where}: {exc.__class__.__name__}") from None
    await set_commands(application.bot)


async def stop_application(application: Application) -> None:
    """Stop polling, finish updates in progress and close HTTP clients, within SHUTDOWN_GRACE seconds."""

    async def stop() -> None:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    try:
        await asyncio.wait_for(stop(), SHUTDOWN_GRACE)
    except (asyncio.TimeoutError, TelegramError) as exc:
        log.warning("Telegram shutdown incomplete: %s", exc.__class__.__name__)


def _where(base_url: str | None) -> str:
    urls = api_urls(base_url)
    return urls[0].removesuffix("/bot") if urls else "api.telegram.org"


async def run_polling(
    app: App,
    token: str,
    base_url: str | None = None,
    poll_timeout: float = 25,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Long polling until `stop` is set (the CLI sets it on SIGINT/SIGTERM)."""
    stop = stop or asyncio.Event()
    application = build_application(app, token, base_url)
    try:
        await start_application(application, _where(base_url))
        await application.updater.start_polling(timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
        await application.start()
        log.info("Telegram bot @%s is polling", application.bot.username)
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("Telegram bot stopping")
    finally:
        await stop_application(application)


def main_polling(app: App, poll_timeout: float) -> int:
    """`python -m bot telegram`: poll until SIGINT or SIGTERM; errors are one line."""
    import signal

    token = read_token()
    base_url = env_secret("TELEGRAM_BASE_URL")
    api_urls(base_url)  # fail early on a bad URL

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_polling(app, token, base_url, poll_timeout, stop)

    asyncio.run(main())
    return 0


# -- webhook mode -----------------------------------------------------------------------------
class TelegramWebhook(WebChannel):
    """POST /webhook/telegram in the project's ASGI app, checked with the secret token header."""

    name = "telegram"

    def __init__(self, app: App, token: str, secret: str, base_url: str | None = None, webhook_url: str | None = None):
        self.app = app
        self.bot_id = token.split(":", 1)[0]
        self.secret = secret.encode()
        self.webhook_url = webhook_url
        self.base_url = base_url
        self.application = build_application(app, token, base_url, polling=False)

    def routes(self) -> Sequence[BaseRoute]:
        return [Route(WEBHOOK_PATH, self.receive, methods=["POST"])]

    async def receive(self, request: Request) -> Response:
        """Check the secret, parse the update and queue it; 403 (dropped) on a wrong or missing secret."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            log.warning("Telegram webhook call with a wrong or missing secret token: dropped")
            return PlainTextResponse("forbidden", status_code=403)
        if not json_content(request):
            return PlainTextResponse("unsupported media type", status_code=415)
        body = await read_body(request, MAX_WEBHOOK_BODY)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        try:
            update = Update.de_json(json.loads(body), self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            log.warning("Telegram webhook: body is not an update; dropped")
            return PlainTextResponse("bad update", status_code=400)
        if update is None or (update.message is not None and update.message.chat is None):
            return PlainTextResponse("bad update", status_code=400)
        if not self.app.storage.first_sight(f"telegram:{self.bot_id}:{update.update_id}"):
            log.info("Telegram webhook: redelivered update %s skipped", update.update_id)
            return Response(status_code=200)
        await self.application.update_queue.put(update)
        return Response(status_code=200)

    async def startup(self) -> None:
        """Initialise the Application, set the command menu (and the webhook when configured), start."""
        self.app.storage.prune_seen(time.time() - SEEN_KEPT)
        await start_application(self.application, _where(self.base_url))
        if self.webhook_url:
            await self.application.bot.set_webhook(
                self.webhook_url, secret_token=self.secret.decode(), allowed_updates=ALLOWED_UPDATES
            )
            log.info("Telegram webhook set")
        await self.application.start()

    async def shutdown(self) -> None:
        await stop_application(self.application)


def web_channel(app: App) -> TelegramWebhook | None:
    """The webhook channel when TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are set, else None."""
    if env_secret("TELEGRAM_BOT_TOKEN") is None or env_secret("TELEGRAM_WEBHOOK_SECRET") is None:
        return None
    token = read_token()
    secret = env_secret("TELEGRAM_WEBHOOK_SECRET") or ""
    if not _SECRET.fullmatch(secret):
        raise TelegramSetupError("TELEGRAM_WEBHOOK_SECRET must be 1–256 characters: letters, digits, _ and -")
    base_url = env_secret("TELEGRAM_BASE_URL")
    return TelegramWebhook(app, token, secret, base_url, _read_webhook_url())
