"""The durable outbox: replies written with the state they come from, then sent, retried, or given up with a reason."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bot.storage.db import Database


@dataclass(frozen=True)
class OutboxRow:
    """One platform message waiting to be sent."""

    id: int
    send_key: str
    channel: str
    chat_key: str
    body: dict[str, Any]
    blob: bytes | None
    state: str  # "pending", or "sending" when a send was started and its outcome is unknown
    attempts: int
    next_at: float
    created_at: float


class Outbox:
    """The outbox table: pending → sending → deleted (sent), or → failed (with a reason)."""

    def __init__(self, database: Database):
        self.db = database.db

    def add(self, send_key: str, channel: str, chat_key: str, body: dict[str, Any], blob: bytes | None = None) -> int | None:
        """Queue one message; its row id (None if this send key was queued before)."""
        now = time.time()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO outbox (send_key, channel, chat_key, body, blob, next_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [send_key, channel, chat_key, json.dumps(body), blob, now, now],
        )
        return int(cur.lastrowid) if cur.rowcount == 1 else None

    def open_rows(self) -> list[tuple[int, str]]:
        """(id, chat_key) of every message not sent and not given up, oldest first."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT id, chat_key FROM outbox WHERE state IN ('pending', 'sending') ORDER BY id"
        )]  # fmt: skip

    def get(self, row_id: int) -> OutboxRow | None:
        """An open message, or None when it was sent or given up."""
        row = self.db.execute(
            "SELECT id, send_key, channel, chat_key, body, blob, state, attempts, next_at, created_at FROM outbox "
            "WHERE id = ? AND state IN ('pending', 'sending')",
            [row_id],
        ).fetchone()
        if row is None:
            return None
        return OutboxRow(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7], row[8], row[9])

    def sending(self, row_id: int) -> None:
        """Record that a send starts now (after a crash, such a row may or may not have reached the platform)."""
        self.db.execute("UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?", [row_id])

    def sent(self, row_id: int) -> None:
        """The platform accepted the message: forget it (its text and address go with it)."""
        self.db.execute("DELETE FROM outbox WHERE id = ? AND state IN ('pending', 'sending')", [row_id])

    def confirm(self, send_key: str) -> bool:
        """The platform reported this message (e.g. a WhatsApp status): forget it; True if it was still open."""
        return self.db.execute(
            "DELETE FROM outbox WHERE send_key = ? AND state IN ('pending', 'sending')", [send_key]
        ).rowcount == 1

    def retry(self, row_id: int, at: float, reason: str) -> None:
        """Try again at `at` (a Unix time)."""
        self.db.execute(
            "UPDATE outbox SET state = 'pending', next_at = ?, reason = ? WHERE id = ? AND state = 'sending'",
            [at, reason[:200], row_id],
        )

    def fail(self, row_id: int, reason: str) -> None:
        """Give up on a message for good: keep the reason, drop its text, address and file."""
        self.db.execute(
            "UPDATE outbox SET state = 'failed', reason = ?, body = NULL, blob = NULL, done_at = ? "
            "WHERE id = ? AND state IN ('pending', 'sending')",
            [reason[:200], time.time(), row_id],
        )

    def prune(self, older_than: float) -> int:
        """Forget failed messages given up before `older_than`; return how many."""
        return self.db.execute("DELETE FROM outbox WHERE state = 'failed' AND done_at < ?", [older_than]).rowcount

    def counts(self) -> dict[str, int]:
        """Rows per state (for tests and the benchmark)."""
        return dict(self.db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())

    def failures(self) -> list[tuple[str, str, str]]:
        """(send_key, chat_key, reason) of every message given up."""
        return [tuple(r) for r in self.db.execute(
            "SELECT send_key, chat_key, reason FROM outbox WHERE state = 'failed' ORDER BY id"
        )]  # fmt: skip
