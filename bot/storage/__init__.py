"""SQLite storage by aggregate, all on one connection: `Storage` composes them.

chats (and their state and WhatsApp window), menus, proposals, the question log, salts, the inbox and the
outbox. The methods the handlers call keep their names on `Storage` itself (see FORWARDED).
"""

from __future__ import annotations

import functools

from bot.storage.chats import PIPELINE_TABLES, Chats
from bot.storage.db import DAMAGED_HINT, Database, StorageError
from bot.storage.identity import Salts
from bot.storage.inbox import Inbox, InboxRow
from bot.storage.menus import MENUS_KEPT, Menus
from bot.storage.migrations import MIGRATIONS
from bot.storage.outbox import Outbox, OutboxRow
from bot.storage.proposals import Proposals
from bot.storage.questions import Questions

__all__ = [
    "DAMAGED_HINT", "MENUS_KEPT", "MIGRATIONS", "PIPELINE_TABLES", "InboxRow", "OutboxRow", "Storage", "StorageError",
]  # fmt: skip


class Storage:
    """The one database of a running bot: the file and its aggregates on one connection."""

    def __init__(self, path: str, busy_timeout_ms: int = 2000, log_salt: str | None = None):
        self.database = Database(path, busy_timeout_ms)
        self.path = path
        self.db = self.database.db
        self.salts = Salts(self.database, log_salt)
        self.chats = Chats(self.database, self.salts)
        self.menus = Menus(self.database)
        self.checklists = Proposals(self.database)
        self.questions = Questions(self.database, self.salts)
        self.inbox = Inbox(self.database, self.salts)
        self.outbox = Outbox(self.database)
        with self.database.transaction():
            self.questions.adopt_stable_key()

    @property
    def schema_version(self) -> int:
        """The schema version of the file."""
        return self.database.schema_version

    def check_integrity(self) -> None:
        """Run SQLite's quick check; raise StorageError when the file is damaged."""
        self.database.check_integrity()

    def writing(self):
        """Exclusive use of the connection for one transaction (see bot.storage.db)."""
        return self.database.writing()

    def transaction(self):
        """One transaction on the connection (the caller holds the writer lock)."""
        return self.database.transaction()

    def close(self) -> None:
        """Close the connection."""
        self.database.close()


# The API the handlers (and the channels) call on Storage, by aggregate. Names are kept as they were before
# storage was split, so handlers/ needs no change; see the merge notes in the issue-14 report.
FORWARDED = {
    "chats": ("touch_chat", "set_chat_active", "chat_active", "delete_chat", "get_focus", "set_focus",
              "record_inbound", "last_inbound", "resolve", "link"),
    "menus": ("save_menu", "get_menu", "latest_menu"),
    "checklists": ("create_proposal", "proposals", "active_proposal", "set_active_proposal", "load_proposal",
                   "save_proposal"),
    "questions": ("log_question", "question_log", "unanswered", "usage_stats"),
    "salts": ("chat_id_hash", "chat_hash"),
}  # fmt: skip


def _forward(aggregate: str, name: str, target):
    @functools.wraps(target)
    def method(self, *args, **kwargs):
        return getattr(getattr(self, aggregate), name)(*args, **kwargs)

    return method


for _aggregate, _names in FORWARDED.items():
    _cls = {"chats": Chats, "menus": Menus, "checklists": Proposals, "questions": Questions, "salts": Salts}[_aggregate]
    for _name in _names:
        setattr(Storage, _name, _forward(_aggregate, _name, getattr(_cls, _name)))
