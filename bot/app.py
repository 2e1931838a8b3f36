"""The composition root: build_app(config) wires storage, knowledge and handlers."""

from __future__ import annotations

import importlib
import logging
import sqlite3
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from bot.channel import Channel
from bot.config import Config
from bot.pipeline import Pipeline
from bot.redact import hide_in_logs
from bot.settings import Settings
from bot.storage import Storage
from bot.wa_webhook import chat_id_for
from handlers import router, texts
from handlers.context import Context
from handlers.messages import Choice, Inbound, Outbound, Reply
from knowledge.base import KnowledgeBase, load_kb
from knowledge.flows import Flows, load_flows
from knowledge.normalise import Normaliser
from knowledge.retrieval import Retriever

log = logging.getLogger(__name__)


def choice_token(menu_id: str, index: int) -> str:
    """The token of a menu's button: "<menu_id>.<index>" (short enough for any channel's callback data)."""
    return f"{menu_id}.{index}"


class KnowledgeError(Exception):
    """The knowledge base has problems; the message lists them (and `problems` holds them all)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


@dataclass
class Knowledge:
    """The loaded knowledge base and its index, swapped as one when reloaded."""

    kb: KnowledgeBase
    retriever: Retriever
    flows: Flows | None = None  # the proposal checklist flows (knowledge/flows/)


def _problems_error(what: str, problems: list[str], shown: int = 20) -> KnowledgeError:
    """A KnowledgeError listing the first `shown` problems and how many more there are."""
    listed = "\n".join(problems[:shown])
    more = f"\n… and {len(problems) - shown} more" if len(problems) > shown else ""
    return KnowledgeError(f"{what} {len(problems)} problem(s):\n{listed}{more}", problems)


def load_knowledge(config: Config) -> Knowledge:
    """Load, validate and index the knowledge base; raise KnowledgeError if it has any problem."""
    directory = Path(config.knowledge_dir)
    norm = Normaliser.for_directory(directory)
    kb = load_kb(directory, norm)
    if kb.problems:
        raise _problems_error(f"knowledge base {directory} has", kb.problems)
    flows = load_flows(directory, kb.regulations, kb.sources)
    if flows.problems:
        raise _problems_error(f"checklist flows in {directory} have", flows.problems)
    return Knowledge(kb, Retriever(kb, norm, config.retrieval), flows)


class App:
    """A running assistant: respond(inbound) → outbound replies, inside one transaction per message."""

    def __init__(self, config: Config, storage: Storage, knowledge: Knowledge, settings: Settings | None = None):
        self.config = config
        self.settings = settings or Settings(config)
        self.storage = storage
        self.knowledge = knowledge
        self.channels: dict[str, Channel] = {}
        self.pipeline = Pipeline(self)

    async def handle(self, msg: Inbound) -> list[Outbound]:
        """Handle one message directly (console, tests): one transaction, one message at a time."""
        async with self.storage.database.lock:
            return await self.handle_locked(msg)

    async def handle_locked(self, msg: Inbound, then: Callable[[list[Outbound]], None] | None = None) -> list[Outbound]:
        """Handle one message in one transaction; `then(outs)` runs in it too (outbox rows, the inbox mark).

        The caller holds the writer lock, so no other task writes into this transaction, even while a
        handler awaits (e.g. a document built in a worker thread). A handler that fails is rolled back whole
        and the user gets the apology instead. A storage failure (disk full, I/O) propagates: nothing of the
        message is stored, and the caller tries it again later.
        """
        try:
            with self.storage.transaction():
                outs = await self.respond(msg)
                if then is not None:
                    then(outs)
                return outs
        except sqlite3.OperationalError:
            raise
        except Exception as exc:
            # Where it failed, but not the exception's message: it may quote user text or a secret.
            where = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
            log.error("handler failed (channel=%s kind=%s): %s\n%s", msg.channel, msg.kind, type(exc).__name__, where)
        outs = [Outbound(Reply(texts.ERROR))]
        if then is not None:
            with self.storage.transaction():
                then(outs)
        return outs

    async def respond(self, msg: Inbound) -> list[Outbound]:
        """The replies to one message (the caller's transaction holds every write)."""
        self.storage.touch_chat(msg.chat_key, msg.channel)
        if msg.kind == "page":
            return [self._page(msg)]
        replies = await router.route(Context(self, msg))
        return [self._outbound(msg.chat_key, r) for r in replies]

    def _page(self, msg: Inbound) -> Outbound:
        """A later page of a stored menu (a channel that shows a few choices at a time asked for it)."""
        menu = self.storage.get_menu(msg.chat_key, msg.choice or "")
        if menu is None or not 0 < msg.page < len(menu):
            return Outbound(Reply(texts.EXPIRED))
        choices = tuple(Choice(label, payload) for label, payload in menu)
        tokens = tuple(choice_token(msg.choice or "", i) for i in range(len(menu)))
        return Outbound(Reply("", choices=choices), msg.choice, tokens, page_start=msg.page)

    def _outbound(self, chat_key: str, reply: Reply) -> Outbound:
        if not reply.choices:
            return Outbound(reply)
        menu_id = self.storage.save_menu(chat_key, reply.choices)
        return Outbound(reply, menu_id, tuple(choice_token(menu_id, i) for i in range(len(reply.choices))))

    def is_admin(self, chat_key: str) -> bool:
        """Whether a chat is listed in [admin] chats: "channel:id" as stored, or for WhatsApp the phone number
        ("whatsapp:6281234567890", "+62 812-…"), which finds the chat however it is keyed (hash or BSUID)."""
        return chat_key in self._admin_keys()

    def _admin_keys(self) -> set[str]:
        keys = set()
        for entry in self.config.admin.chats:
            channel, _, chat_id = entry.strip().partition(":")
            digits = "".join(ch for ch in chat_id if ch.isdigit())
            if channel == "whatsapp" and digits and set(chat_id) <= set("+0123456789 -()."):  # a phone number
                entry = f"whatsapp:{chat_id_for(None, digits, self.storage.chat_id_hash)}"
            keys |= {entry, self.storage.resolve(entry)}
        return keys

    def reload_knowledge(self) -> Knowledge:
        """Load the knowledge base again; keep the old one (and raise) if the new one has problems."""
        self.knowledge = load_knowledge(self.config)
        return self.knowledge

    def close(self) -> None:
        """Close the database."""
        self.storage.close()


def build_app(settings: Settings | Config, knowledge: Knowledge | None = None, channels: Iterable[str] = ()) -> App:
    """Wire storage, knowledge, handlers and the named channels (those configured) from the settings."""
    if isinstance(settings, Config):
        settings = Settings(settings)
    config = settings.config
    for secret in secrets_of(settings):  # no log record shows one, whichever library logs it
        hide_in_logs(secret)
    storage = Storage(config.db_path, config.storage.busy_timeout_ms, settings.log_salt)
    app = App(config, storage, knowledge or load_knowledge(config), settings)
    for name in channels:
        channel = build_channel(name, app)
        if channel is not None:
            app.channels[name] = channel
    return app


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings (tokens, app secret, webhook secrets, the log salt)."""
    found = [settings.log_salt]
    if settings.whatsapp is not None:
        found += [settings.whatsapp.token, settings.whatsapp.app_secret, settings.whatsapp.verify_token]
    if settings.telegram is not None:
        found += [settings.telegram.token, settings.telegram.webhook_secret]
    return [s for s in found if s]


# Channels by name: the module that builds each from the settings (`build(app) -> Channel | None`, None
# when its settings are absent). Imported only when asked for, so the console never loads telegram or pywa.
CHANNEL_MODULES = {"whatsapp": "bot.whatsapp", "telegram": "bot.telegram"}


def build_channel(name: str, app: App) -> Channel | None:
    """The channel `name` built from the app's settings, or None when it is not configured."""
    return importlib.import_module(CHANNEL_MODULES[name]).build(app)
