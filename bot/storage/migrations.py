"""Versioned schema migrations: index + 1 is the version each one produces. Never edit a released one."""

from __future__ import annotations

import json
import time
from typing import Callable

import sqlite_utils


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


def _m5_inbox_outbox(db: sqlite_utils.Database) -> None:
    """The durable inbox (deliveries, deduplicated) and outbox (replies to send); wa_seen becomes inbox rows.

    A finished inbox row keeps only its dedupe key and times (no chat, no text); a sent outbox row is deleted.
    Ids are AUTOINCREMENT, never reused: a task still holding the id of a row deleted meanwhile (e.g. confirmed
    by a status webhook while its send was finishing) must not touch a newer row that got the same id.
    """
    db.execute(
        "CREATE TABLE inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, dedupe_key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, "
        "chat_key TEXT, payload TEXT, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, "
        "received_at FLOAT NOT NULL, done_at FLOAT)"
    )
    db.execute("CREATE INDEX inbox_pending ON inbox (id) WHERE state = 'pending'")
    db.execute("CREATE INDEX inbox_received ON inbox (received_at)")
    db.execute(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, send_key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, "
        "chat_key TEXT NOT NULL, body TEXT, blob BLOB, state TEXT NOT NULL DEFAULT 'pending', "
        "attempts INTEGER NOT NULL DEFAULT 0, next_at FLOAT NOT NULL, created_at FLOAT NOT NULL, "
        "done_at FLOAT, reason TEXT)"
    )
    db.execute("CREATE INDEX outbox_open ON outbox (id) WHERE state IN ('pending', 'sending')")
    db.execute("CREATE INDEX outbox_chat ON outbox (chat_key)")
    # Redeliveries seen by the previous release stay recognised: the WhatsApp key keeps its "wamid:" form.
    db.execute(
        "INSERT OR IGNORE INTO inbox (dedupe_key, channel, state, received_at, done_at) "
        "SELECT message_id, 'whatsapp', 'done', seen_at, seen_at FROM wa_seen"
    )
    db.execute("DROP TABLE wa_seen")


def _m6_chat_links(db: sqlite_utils.Database) -> None:
    """Chat links: an old key of a chat (a Telegram group upgraded to a supergroup, a WhatsApp number changed or
    first seen without its business-scoped id) → the key its data moved to. `chat_key` is the target, so /hapus of
    the chat deletes its links too. A 24-hour window stored as NULL (a "nan" timestamp) is forgotten."""
    db.execute("CREATE TABLE chat_links (alias TEXT PRIMARY KEY, chat_key TEXT NOT NULL, linked_at FLOAT NOT NULL)")
    db.execute("CREATE INDEX chat_links_chat ON chat_links (chat_key)")
    db.execute("DELETE FROM wa_window WHERE last_inbound IS NULL OR last_inbound != last_inbound")


# Ordered migrations: index + 1 is the schema version each one produces. Never edit a released
# migration; append a new one (a new version must never lose data).
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m1, _m2_whatsapp, _m3_proposals, _m4_focus, _m5_inbox_outbox, _m6_chat_links,
]
