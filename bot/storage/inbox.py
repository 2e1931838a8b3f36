"""The durable inbox: each delivery (its dedupe key and the message) stored before the platform gets its 200."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bot.storage.db import Database
from bot.storage.identity import Salts


@dataclass(frozen=True)
class InboxRow:
    """A delivery waiting to be handled."""

    id: int
    channel: str
    chat_key: str
    payload: dict[str, Any]
    attempts: int


class Inbox:
    """The inbox table. Keys are salted hashes (platform ids can embed a phone number)."""

    def __init__(self, database: Database, salts: Salts):
        self.db = database.db
        self.salts = salts

    def dedupe_key(self, platform_id: str) -> str:
        """The stored form of a platform's delivery id (e.g. "wamid:…", "telegram:<bot>:<update>")."""
        return self.salts.chat_id_hash(platform_id)

    def add(self, channel: str, platform_id: str, chat_key: str | None, payload: dict[str, Any] | None,
            done: bool = False) -> int | None:  # fmt: skip
        """Store a delivery; its row id, or None when the same delivery was stored before (a redelivery).

        `done`: only remember its id (a redelivery is skipped), with nothing to handle (no chat, no message).
        """
        now = time.time()
        if done:
            cur = self.db.execute(
                "INSERT OR IGNORE INTO inbox (dedupe_key, channel, state, received_at, done_at) VALUES (?, ?, 'done', ?, ?)",
                [self.dedupe_key(platform_id), channel, now, now],
            )
        else:
            cur = self.db.execute(
                "INSERT OR IGNORE INTO inbox (dedupe_key, channel, chat_key, payload, received_at) VALUES (?, ?, ?, ?, ?)",
                [self.dedupe_key(platform_id), channel, chat_key, json.dumps(payload), now],
            )
        return int(cur.lastrowid) if cur.rowcount == 1 else None

    def seen(self, platform_id: str) -> bool:
        """Whether this delivery id was stored before."""
        row = self.db.execute("SELECT 1 FROM inbox WHERE dedupe_key = ?", [self.dedupe_key(platform_id)]).fetchone()
        return row is not None

    def pending(self) -> list[tuple[int, str]]:
        """(id, chat_key) of every delivery not handled yet, oldest first."""
        return [(r[0], r[1]) for r in self.db.execute("SELECT id, chat_key FROM inbox WHERE state = 'pending' ORDER BY id")]

    def get(self, row_id: int) -> InboxRow | None:
        """A pending delivery, or None when it is handled (or unknown)."""
        row = self.db.execute(
            "SELECT id, channel, chat_key, payload, attempts FROM inbox WHERE id = ? AND state = 'pending'", [row_id]
        ).fetchone()
        return InboxRow(row[0], row[1], row[2], json.loads(row[3]), row[4]) if row else None

    def attempt(self, row_id: int) -> int:
        """Count one more attempt at handling a delivery; return the count (a poison message shows here)."""
        self.db.execute("UPDATE inbox SET attempts = attempts + 1 WHERE id = ?", [row_id])
        row = self.db.execute("SELECT attempts FROM inbox WHERE id = ?", [row_id]).fetchone()
        return int(row[0]) if row else 0

    def finish(self, row_id: int) -> None:
        """Mark a delivery handled; keep only its dedupe key and times (no chat, no text)."""
        self.db.execute(
            "UPDATE inbox SET state = 'done', chat_key = NULL, payload = NULL, done_at = ? WHERE id = ?",
            [time.time(), row_id],
        )

    def prune(self, older_than: float) -> int:
        """Forget handled deliveries received before `older_than` (a Unix time); return how many."""
        return self.db.execute(
            "DELETE FROM inbox WHERE state = 'done' AND received_at < ?", [older_than]
        ).rowcount

    def counts(self) -> dict[str, int]:
        """Rows per state (for tests and the benchmark)."""
        return dict(self.db.execute("SELECT state, count(*) FROM inbox GROUP BY state").fetchall())
