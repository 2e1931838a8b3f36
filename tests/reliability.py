"""Helpers shared by the reliability and security suites (not a test module)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from handlers.focus import Focus
from bot.storage import Storage


def assert_no_errors(caplog) -> None:
    """Nothing was logged at ERROR or above (App.handle logs every escaped exception there)."""
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad]


def integrity(storage: Storage) -> str:
    """SQLite's full integrity check of the storage's database ("ok" when intact)."""
    rows = storage.db.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(r[0] for r in rows)


def chat_rows(storage: Storage, chat_key: str) -> dict[str, list[tuple]]:
    """Every row of every table that has a chat_key column, for one chat, minus timestamps and menus.

    Menus are left out: any reply with buttons adds one, by design.
    """
    out: dict[str, list[tuple]] = {}
    for table in storage.db.table_names():
        if table in ("menus", "chat_focus"):  # lists shown change with every reply; the focus frames are compared
            continue
        cols = [c.name for c in storage.db[table].columns]
        if "chat_key" not in cols:
            continue
        keep = [c for c in cols if not (c.endswith("_at") or c.startswith("last_"))]  # timestamps move
        sql = f"SELECT {', '.join(f'[{c}]' for c in keep)} FROM [{table}] WHERE chat_key = ? ORDER BY rowid"
        out[table] = storage.db.execute(sql, [chat_key]).fetchall()
    return out


def snapshot(storage: Storage, chat_key: str) -> dict[str, Any]:
    """What must not change when a chat sends bad input: its state, its rows, the schema."""
    return {
        "tables": sorted(storage.db.table_names()),
        "focus": [replace(f, menus=()) for f in Focus.from_json(storage.get_focus(chat_key)).frames],  # lists aside
        "rows": chat_rows(storage, chat_key),
    }


def assert_db_intact(storage: Storage, chat_key: str, before: dict[str, Any]) -> None:
    """The database passes integrity_check and the chat's state and rows are as before."""
    result = integrity(storage)
    assert result == "ok", result
    after = snapshot(storage, chat_key)
    assert after == before, f"before: {before}\nafter: {after}"


def rows_mentioning(storage: Storage, needles: list[str]) -> list[str]:
    """Every table row (any column, any table) containing one of the needles, as 'table: row'."""
    found = []
    for table in storage.db.table_names():
        for row in storage.db.execute(f"SELECT * FROM [{table}]").fetchall():
            text = " ".join(str(v) for v in row)
            if any(n in text for n in needles):
                found.append(f"{table}: {row}")
    return found


# Typed through the core: a new proposal, the triage by typed numbers, then the parties (text steps).
CHECKLIST_TO_TEXT_STEP = ["/usulan", "Jalan tani", "1", "1", "2", "Sukamaju", "Cibeber"]  # at "Para pihak 3/4"
CHECKLIST_TO_CONFIRM_STEP = [*CHECKLIST_TO_TEXT_STEP, "Cianjur", "Sukajaya"]  # at "Persiapan 1/7" (Sudah/Belum/…)


def proposal_state(storage: Storage, chat_key: str) -> tuple[str, dict[str, tuple[str, str]]] | None:
    """The chat's active proposal as (pending step, answers), or None."""
    pid = storage.active_proposal(chat_key)
    found = storage.load_proposal(chat_key, pid) if pid is not None else None
    return (found[0]["current"], found[1]) if found else None
