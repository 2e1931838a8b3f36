"""The composition root: build_app(config) wires storage, knowledge and handlers."""

from __future__ import annotations

import asyncio
import logging
import traceback
import weakref
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config
from bot.storage import Storage
from handlers import router, texts
from handlers.context import Context
from handlers.messages import Inbound, Outbound, Reply
from knowledge.base import KnowledgeBase, load_kb
from knowledge.flows import Flows, load_flows
from knowledge.normalise import Normaliser
from knowledge.retrieval import Retriever

log = logging.getLogger(__name__)


def choice_token(menu_id: str, index: int) -> str:
    """The token of a menu's button: "<menu_id>.<index>" (short enough for any channel's callback data)."""
    return f"{menu_id}.{index}"


class ChatLocks:
    """One asyncio.Lock per key (a chat), kept only while some task holds or awaits it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[object, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, key: object) -> asyncio.Lock:
        """The lock of a key (created on first use)."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


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
    """A running assistant: handle(inbound) → outbound replies, one chat at a time per chat."""

    def __init__(self, config: Config, storage: Storage, knowledge: Knowledge):
        self.config = config
        self.storage = storage
        self.knowledge = knowledge
        self._locks = ChatLocks()

    async def handle(self, msg: Inbound) -> list[Outbound]:
        """Handle one message; messages of one chat are processed strictly one after another."""
        async with self._locks(msg.chat_key):
            try:
                self.storage.touch_chat(msg.chat_key, msg.channel)
                replies = await router.route(Context(self, msg))
                return [self._outbound(msg.chat_key, r) for r in replies]
            except Exception as exc:
                # Where it failed, but not the exception's message: it may quote user text or a secret.
                where = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
                log.error(
                    "handler failed (channel=%s kind=%s): %s\n%s", msg.channel, msg.kind, type(exc).__name__, where
                )
                return [Outbound(Reply(texts.ERROR))]

    def _outbound(self, chat_key: str, reply: Reply) -> Outbound:
        if not reply.choices:
            return Outbound(reply)
        menu_id = self.storage.save_menu(chat_key, reply.choices)
        return Outbound(reply, menu_id, tuple(choice_token(menu_id, i) for i in range(len(reply.choices))))

    def reload_knowledge(self) -> Knowledge:
        """Load the knowledge base again; keep the old one (and raise) if the new one has problems."""
        self.knowledge = load_knowledge(self.config)
        return self.knowledge

    def close(self) -> None:
        self.storage.close()


def build_app(config: Config, knowledge: Knowledge | None = None) -> App:
    """Wire storage, knowledge and handlers from a configuration."""
    storage = Storage(config.db_path, config.storage.busy_timeout_ms)
    return App(config, storage, knowledge or load_knowledge(config))
