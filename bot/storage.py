"""SQLite storage through sqlite-utils: versioned schema, menus, chat state, question log."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import sqlite_utils

from handlers.messages import Choice

log = logging.getLogger(__name__)

# How many menus (sets of buttons) a chat keeps; older taps get "menu ini sudah kedaluwarsa".
MENUS_KEPT = 40


class StorageError(Exception):
    """The database cannot be used (corrupt, unreadable, newer than this code)."""


# What to do about a damaged database file; part of the one-line start-up error.
DAMAGED_HINT = "restore it from a backup (python -m bot db backup PATH makes one) or move it away to start afresh"


def _first_line(text: str) -> str:
    """The first informative line of an SQLite message (integrity reports span several lines)."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip() and not ln.startswith("***")]
    return lines[0] if lines else "unknown problem"


def _m1(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["chats"].create(
        {"chat_key": str, "channel": str, "created_at": float, "last_seen": float, "active": int},
        pk="chat_key",
    )
    db["menus"].create(
        {"menu_id": str, "chat_key": str, "created_at": float, "choices": str},
        pk="menu_id",
    )
    db["menus"].create_index(["chat_key", "created_at"])
    db["chat_state"].create({"chat_key": str, "mode": str, "data": str, "updated_at": float}, pk="chat_key")
    db["question_log"].create(
        {
            "id": int,
            "ts": float,
            "chat_hash": str,
            "channel": str,
            "question": str,
            "outcome": str,
            "entry_id": str,
            "score": float,
        },
        pk="id",
    )
    db["question_log"].create_index(["outcome"])
    db["question_log"].create_index(["chat_hash"])


def _m2_whatsapp(db: sqlite_utils.Database) -> None:
    # WhatsApp: message ids already handled (Meta redelivers), and each chat's last inbound message time
    # (the 24-hour customer-service window).
    db["wa_seen"].create({"message_id": str, "seen_at": float}, pk="message_id")
    db["wa_seen"].create_index(["seen_at"])
    db["wa_window"].create({"chat_key": str, "last_inbound": float}, pk="chat_key")
def _m3_proposals(db: sqlite_utils.Database) -> None:
    """Proposal checklists: one row per proposal, one row per answered step (both keyed by chat_key)."""
    db["proposals"].create(
        {
            "id": int,
            "chat_key": str,
            "name": str,
            "flow": str,
            "outcome": str,
            "current": str,
            "revision": int,
            "triage": str,
            "active": int,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["proposals"].create_index(["chat_key", "active"])
    db.execute(  # ON DELETE CASCADE: delete_chat may empty proposals before proposal_answers
        "CREATE TABLE proposal_answers (proposal_id INTEGER NOT NULL REFERENCES proposals(id) ON DELETE CASCADE, "
        "chat_key TEXT NOT NULL, step TEXT NOT NULL, status TEXT NOT NULL, value TEXT, updated_at FLOAT, "
        "PRIMARY KEY (proposal_id, step))"
    )
    db["proposal_answers"].create_index(["chat_key"])


def _m4_focus(db: sqlite_utils.Database) -> None:
    """One focus record per chat (handlers/focus.py) instead of chat_state's mode string; proposals say where they
    are in a column of their own instead of magic values in `current` ("_name", "_stop", "_done", "t.<id>")."""
    db["chat_focus"].create({"chat_key": str, "focus": str, "updated_at": float}, pk="chat_key")
    now = time.time()
    for chat_key, mode, data in db.execute("SELECT chat_key, mode, data FROM chat_state").fetchall():
        try:
            state = json.loads(data or "{}")
        except ValueError:
            state = {}
        frames = []
        inner_mode, inner = (state.get("mode", ""), state.get("data", {})) if mode == "hapus" else (mode, state)
        if inner_mode == "usulan" and isinstance(inner, dict) and str(inner.get("pid", "")).isdigit():
            frames.append({"kind": "guide", "proposal": int(inner["pid"])})
        if mode == "hapus" and state.get("nonce"):
            frames.append({"kind": "delete", "nonce": str(state["nonce"])})
        if frames:
            db.execute("INSERT INTO chat_focus (chat_key, focus, updated_at) VALUES (?, ?, ?)",
                       [chat_key, json.dumps({"frames": frames, "menus": []}), now])  # fmt: skip
    db["chat_state"].drop()
    db.execute("ALTER TABLE proposals ADD COLUMN at TEXT NOT NULL DEFAULT 'step'")
    for old, at in (("_name", "name"), ("_done", "done"), ("_stop", "stopped")):
        db.execute("UPDATE proposals SET at = ?, current = '' WHERE current = ?", [at, old])
    db.execute("UPDATE proposals SET at = 'triage', current = substr(current, 3) WHERE current LIKE 't.%'")


# Ordered migrations: index + 1 is the schema version each one produces. Never edit a released
# migration; append a new one (a new version must never lose data).
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_m1, _m2_whatsapp, _m3_proposals, _m4_focus]


class Storage:
    """The one database of a running bot."""

    def __init__(self, path: str, busy_timeout_ms: int = 2000):
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self.db = sqlite_utils.Database(conn)
            if path != ":memory:":
                self.db.enable_wal()
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten, not just unlinked
            self.check_integrity()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"database {path} cannot be used ({_first_line(exc)}); {DAMAGED_HINT}") from None
        self._salt: bytes | None = None
        self._chat_salt: bytes | None = None

    # -- schema -------------------------------------------------------------------------------
    def check_integrity(self) -> None:
        """Run SQLite's quick check; raise StorageError when the file is damaged."""
        rows = self.db.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            detail = _first_line(rows[0][0])
            raise StorageError(f"database {self.path} failed its integrity check ({detail}); {DAMAGED_HINT}")

    @property
    def schema_version(self) -> int:
        if "meta" not in self.db.table_names():
            return 0
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StorageError(
                f"database {self.path} has schema version {current}, newer than this code ({len(MIGRATIONS)})"
            )
        for version in range(current + 1, len(MIGRATIONS) + 1):
            with self.db.atomic():
                MIGRATIONS[version - 1](self.db)
                self.db["meta"].upsert({"key": "schema_version", "value": str(version)}, pk="key")
            log.info("database migrated to schema version %d", version)

    def close(self) -> None:
        self.db.close()

    # -- chats --------------------------------------------------------------------------------
    def touch_chat(self, chat_key: str, channel: str) -> None:
        """Record that a chat was seen now (and that it is active again)."""
        now = time.time()
        self.db.execute(
            "INSERT INTO chats (chat_key, channel, created_at, last_seen, active) VALUES (?, ?, ?, ?, 1) "
            "ON CONFLICT(chat_key) DO UPDATE SET last_seen = excluded.last_seen, active = 1",
            [chat_key, channel, now, now],
        )

    def set_chat_active(self, chat_key: str, active: bool) -> None:
        """Mark a chat inactive (e.g. the user blocked the bot) or active again."""
        self.db.execute("UPDATE chats SET active = ? WHERE chat_key = ?", [int(active), chat_key])

    def chat_active(self, chat_key: str) -> bool:
        row = self.db.execute("SELECT active FROM chats WHERE chat_key = ?", [chat_key]).fetchone()
        return bool(row[0]) if row else True

    def delete_chat(self, chat_key: str) -> dict[str, int]:
        """Delete everything stored about one chat, in every table; return rows deleted per table."""
        counts: dict[str, int] = {}
        with self.db.atomic():
            for table in self.db.table_names():
                cols = {c.name for c in self.db[table].columns}
                if "chat_key" in cols:
                    cur = self.db.execute(f"DELETE FROM [{table}] WHERE chat_key = ?", [chat_key])
                    counts[table] = cur.rowcount
            cur = self.db.execute("DELETE FROM question_log WHERE chat_hash = ?", [self.chat_hash(chat_key)])
            counts["question_log"] = cur.rowcount
        if self.path != ":memory:" and not self.db.conn.in_transaction:  # empty the WAL file too
            busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if busy:
                log.warning("after deleting a chat the WAL could not be emptied yet (another reader)")
        return counts

    # -- chat focus (what the chat waits for: handlers/focus.py) ----------------------------------
    def get_focus(self, chat_key: str) -> str | None:
        """The chat's stored focus record (JSON), or None."""
        row = self.db.execute("SELECT focus FROM chat_focus WHERE chat_key = ?", [chat_key]).fetchone()
        return row[0] if row else None

    def set_focus(self, chat_key: str, focus: str) -> None:
        """Store the chat's focus record (JSON)."""
        self.db.execute(
            "INSERT INTO chat_focus (chat_key, focus, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_key) DO UPDATE SET focus = excluded.focus, updated_at = excluded.updated_at",
            [chat_key, focus, time.time()],
        )

    # -- menus --------------------------------------------------------------------------------
    def save_menu(self, chat_key: str, choices: tuple[Choice, ...]) -> str:
        """Store a set of buttons for a chat and return its short, unguessable id."""
        menu_id = secrets.token_urlsafe(6)  # 8 characters
        payload = json.dumps([[c.label, c.payload] for c in choices], ensure_ascii=False)
        now = time.time()
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO menus (menu_id, chat_key, created_at, choices) VALUES (?, ?, ?, ?)",
                [menu_id, chat_key, now, payload],
            )
            self.db.execute(
                "DELETE FROM menus WHERE chat_key = ? AND menu_id NOT IN "
                "(SELECT menu_id FROM menus WHERE chat_key = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)",
                [chat_key, chat_key, MENUS_KEPT],
            )
        return menu_id

    def get_menu(self, chat_key: str, menu_id: str) -> list[tuple[str, str]] | None:
        """The (label, payload) list of a menu of this chat, or None (unknown, expired, another chat's)."""
        row = self.db.execute(
            "SELECT choices FROM menus WHERE menu_id = ? AND chat_key = ?", [menu_id, chat_key]
        ).fetchone()
        return [tuple(x) for x in json.loads(row[0])] if row else None

    def latest_menu(self, chat_key: str) -> tuple[str, list[tuple[str, str]]] | None:
        """The chat's most recent menu, as (menu_id, choices)."""
        row = self.db.execute(
            "SELECT menu_id, choices FROM menus WHERE chat_key = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
            [chat_key],
        ).fetchone()
        return (row[0], [tuple(x) for x in json.loads(row[1])]) if row else None

    # -- WhatsApp: redeliveries and the 24-hour window ------------------------------------------
    def first_sight(self, message_id: str, now: float | None = None) -> bool:
        """Record a delivery id (WhatsApp message, Telegram update); True the first time, False for a redelivery.

        Only a salted hash of the id is kept: Meta's ids embed the sender's phone number.
        """
        cur = self.db.execute(
            "INSERT OR IGNORE INTO wa_seen (message_id, seen_at) VALUES (?, ?)",
            [self.chat_id_hash(f"wamid:{message_id}"), time.time() if now is None else now],
        )
        return cur.rowcount == 1

    def prune_seen(self, older_than: float) -> int:
        """Forget message ids first seen before `older_than` (a Unix time); return how many."""
        return self.db.execute("DELETE FROM wa_seen WHERE seen_at < ?", [older_than]).rowcount

    def record_inbound(self, chat_key: str, at: float) -> None:
        """Remember the latest inbound message time of a chat (never moves backwards)."""
        self.db.execute(
            "INSERT INTO wa_window (chat_key, last_inbound) VALUES (?, ?) ON CONFLICT(chat_key) "
            "DO UPDATE SET last_inbound = max(last_inbound, excluded.last_inbound)",
            [chat_key, at],
        )

    def last_inbound(self, chat_key: str) -> float | None:
        """The latest inbound message time of a chat, or None if it never wrote."""
        row = self.db.execute("SELECT last_inbound FROM wa_window WHERE chat_key = ?", [chat_key]).fetchone()
        return row[0] if row else None
    # -- proposals (the checklist) ------------------------------------------------------------
    def create_proposal(self, chat_key: str) -> int:
        """Create an empty proposal for a chat, make it the active one, and return its id."""
        now = time.time()
        with self.db.atomic():
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
        with self.db.atomic():
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
        with self.db.atomic():
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

    # -- chat identity --------------------------------------------------------------------------
    def _meta_once(self, key: str, make: Callable[[], str]) -> str:
        """A meta value set once: make() gives it the first time (another process may set it first)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        if row is None:
            self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", [key, make()])
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0]

    def _chat_id_salt(self) -> bytes:
        if self._chat_salt is None:
            self._chat_salt = self._meta_once("chat_salt", self._first_chat_salt).encode()
        return self._chat_salt

    def _first_chat_salt(self) -> str:
        # WhatsApp chats keyed before 'chat_salt' existed were hashed with the question-log salt: such a
        # database adopts it once, so those chats keep their data; any other starts with a random salt.
        legacy = self.db.execute(
            "SELECT 1 FROM chats WHERE chat_key LIKE 'whatsapp:wa-%' UNION ALL "
            "SELECT 1 FROM wa_window WHERE chat_key LIKE 'whatsapp:wa-%' LIMIT 1"
        ).fetchone()
        return self._log_salt().decode() if legacy else secrets.token_hex(16)

    def chat_id_hash(self, value: str) -> str:
        """A salted hash that identifies a chat (e.g. a WhatsApp phone number); its salt never changes."""
        return hmac.new(self._chat_id_salt(), value.encode(), hashlib.sha256).hexdigest()[:32]

    # -- question log -------------------------------------------------------------------------
    def _log_salt(self) -> bytes:
        if self._salt is None:
            env = os.environ.get("PANDU_LOG_SALT", "").strip()
            self._salt = (env or self._meta_once("log_salt", lambda: secrets.token_hex(16))).encode()
        return self._salt

    def chat_hash(self, chat_key: str) -> str:
        """A salted hash of a chat key: the question log never stores the chat id itself."""
        return hmac.new(self._log_salt(), chat_key.encode(), hashlib.sha256).hexdigest()[:32]

    def log_question(
        self, chat_key: str, channel: str, question: str, outcome: str, entry_id: str | None, score: float
    ) -> None:
        self.db.execute(
            "INSERT INTO question_log (ts, chat_hash, channel, question, outcome, entry_id, score) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [time.time(), self.chat_hash(chat_key), channel, question[:500], outcome, entry_id, round(score, 1)],
        )

    def question_log(self) -> Iterator[dict[str, Any]]:
        yield from self.db["question_log"].rows_where(order_by="id")

    def unanswered(self, limit: int = 20) -> list[tuple[str, str, int]]:
        """The most frequent logged questions that got "none" or "suggest": (question, outcome, count)."""
        rows = self.db.execute(
            "SELECT lower(trim(question)) AS q, outcome, count(*) AS n FROM question_log "
            "WHERE outcome IN ('none', 'suggest') GROUP BY q, outcome ORDER BY n DESC, q LIMIT ?",
            [limit],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    # -- usage (admin /statistik) ---------------------------------------------------------------
    def usage_stats(self) -> dict[str, Any]:
        """Counts for admins: chats (all, active, per channel), logged questions per outcome, proposals."""
        chats = self.db.execute("SELECT count(*), coalesce(sum(active), 0) FROM chats").fetchone()
        channels = dict(self.db.execute("SELECT channel, count(*) FROM chats GROUP BY channel ORDER BY channel"))
        outcomes = dict(self.db.execute("SELECT outcome, count(*) FROM question_log GROUP BY outcome"))
        proposals = self.db.execute("SELECT count(*) FROM proposals").fetchone()[0]
        return {"chats": chats[0], "active": chats[1], "channels": channels, "outcomes": outcomes,
                "proposals": proposals}  # fmt: skip
