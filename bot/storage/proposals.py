"""Proposals: one row per proposal checklist and one per answered step, both keyed by chat."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.storage.db import Database, StorageError


class Proposals:
    """The proposals and proposal_answers tables."""

    def __init__(self, database: Database):
        self.database = database
        self.db = database.db

    # -- proposals (the checklist) ------------------------------------------------------------
    def create_proposal(self, chat_key: str) -> int:
        """Create an empty proposal for a chat, make it the active one, and return its id."""
        now = time.time()
        with self.database.transaction():
            self.db.execute("UPDATE proposals SET active = 0 WHERE chat_key = ?", [chat_key])
            cur = self.db.execute(
                "INSERT INTO proposals (chat_key, name, flow, outcome, at, current, revision, triage, active, "
                "created_at, updated_at) VALUES (?, '', '', '', 'name', '', 0, '{}', 1, ?, ?)",
                [chat_key, now, now],
            )
        return int(cur.lastrowid)

    def proposals(self, chat_key: str) -> list[dict[str, Any]]:
        """This chat's proposals, most recently changed first (id, name, flow, current, active)."""
        rows = self.db.execute(
            "SELECT id, name, flow, at, current, active FROM proposals WHERE chat_key = ? "
            "ORDER BY updated_at DESC, id DESC",
            [chat_key],
        ).fetchall()
        return [dict(zip(("id", "name", "flow", "at", "current", "active"), r)) for r in rows]

    def active_proposal(self, chat_key: str) -> int | None:
        """The id of the chat's active proposal, if any."""
        row = self.db.execute(
            "SELECT id FROM proposals WHERE chat_key = ? AND active = 1 ORDER BY id DESC LIMIT 1", [chat_key]
        ).fetchone()
        return int(row[0]) if row else None

    def set_active_proposal(self, chat_key: str, proposal_id: int) -> None:
        """Make one of the chat's proposals the active one."""
        with self.database.transaction():
            self.db.execute("UPDATE proposals SET active = (id = ?) WHERE chat_key = ?", [proposal_id, chat_key])

    def load_proposal(self, chat_key: str, proposal_id: int) -> tuple[dict[str, Any], dict[str, tuple[str, str]]] | None:
        """A proposal row of this chat and its answers (step → (status, value)); None if not this chat's."""
        row = self.db.execute(
            "SELECT id, name, flow, outcome, at, current, revision, triage FROM proposals WHERE id = ? AND chat_key = ?",
            [proposal_id, chat_key],
        ).fetchone()
        if row is None:
            return None
        data = dict(zip(("id", "name", "flow", "outcome", "at", "current", "revision", "triage"), row))
        data["triage"] = json.loads(data["triage"] or "{}")
        answers = {
            r[0]: (r[1], r[2] or "")
            for r in self.db.execute(
                "SELECT step, status, value FROM proposal_answers WHERE proposal_id = ?", [proposal_id]
            ).fetchall()
        }
        return data, answers

    def save_proposal(
        self, chat_key: str, data: dict[str, Any], answers: dict[str, tuple[str, str]]
    ) -> None:
        """Write a proposal's state and answers in one transaction ("set", never "toggle": idempotent)."""
        now = time.time()
        with self.database.transaction():
            cur = self.db.execute(
                "UPDATE proposals SET name = ?, flow = ?, outcome = ?, at = ?, current = ?, revision = ?, triage = ?, "
                "updated_at = ? WHERE id = ? AND chat_key = ?",
                [data["name"], data["flow"], data["outcome"], data["at"], data["current"], data["revision"],
                 json.dumps(data["triage"], ensure_ascii=False), now, data["id"], chat_key],
            )
            if cur.rowcount != 1:  # not this chat's proposal: write nothing (the transaction is rolled back)
                raise StorageError(f"proposal {data['id']} does not belong to the chat saving it")
            for step, (status, value) in answers.items():
                self.db.execute(
                    "INSERT INTO proposal_answers (proposal_id, chat_key, step, status, value, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(proposal_id, step) DO UPDATE SET "
                    "status = excluded.status, value = excluded.value, updated_at = excluded.updated_at "
                    "WHERE proposal_answers.status IS NOT excluded.status OR proposal_answers.value IS NOT excluded.value",
                    [data["id"], chat_key, step, status, value, now],
                )
