"""Menus: the buttons a chat was shown, kept server-side under short unguessable ids."""

from __future__ import annotations

import json
import secrets
import time
from typing import Protocol, Sequence

from bot.storage.db import Database

# How many menus (sets of buttons) a chat keeps; older taps get "menu ini sudah kedaluwarsa".
MENUS_KEPT = 40


class ChoiceLike(Protocol):
    """A button as the core gives it: a label for people, a payload for the router."""

    label: str
    payload: str


class Menus:
    """The menus table."""

    def __init__(self, database: Database):
        self.database = database
        self.db = database.db

    # -- menus --------------------------------------------------------------------------------
    def save_menu(self, chat_key: str, choices: Sequence[ChoiceLike]) -> str:
        """Store a set of buttons for a chat and return its short, unguessable id."""
        menu_id = secrets.token_urlsafe(6)  # 8 characters
        payload = json.dumps([[c.label, c.payload] for c in choices], ensure_ascii=False)
        now = time.time()
        with self.database.transaction():
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
