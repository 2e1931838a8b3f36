"""Conversations written from personas by a helper who never read the code (tests/data/persona-transcripts.json):
what each user types at each step and what they expect to be stored. Each transcript is replayed through the core
with a real SQLite file, and what was STORED is compared after every turn and, at the end, with /ringkasan.

A "stored" turn may first be answered with "Simpan … sebagai …?" (the guide asks when it is not sure): the user
is then taken to tap "Ya", and the number of such questions is bounded below.
"""

from __future__ import annotations

import json
import re

import pytest

from handlers import checklist_texts as t
from handlers import texts
from handlers.focus import Focus
from handlers.reading import fold
from tests.conftest import REPO, FakeChat

TRANSCRIPTS = json.loads((REPO / "tests" / "data" / "persona-transcripts.json").read_text(encoding="utf-8"))
STATUS = {"sudah": t.SUDAH, "belum": t.BELUM, "na": t.NA, "skipped": t.STATUS_LABELS["skipped"]}
PREFIXES = {"desa", "ds", "kecamatan", "kec", "kabupaten", "kab", "nagari", "gampong", "kampung"}
MAX_QUESTIONS_ASKED = 0.1  # share of "stored" turns that may first get "Simpan … sebagai …?"


def norm(value: str) -> str:
    words = fold(value).split()
    while words and words[0] in PREFIXES:
        words = words[1:]
    return " ".join(words)


def state(app, key: str) -> dict:
    """Everything a turn may store: the proposals' names and triage answers, and every step answer."""
    rows = app.storage.db.execute("SELECT id, name, triage FROM proposals WHERE chat_key = ? ORDER BY id", [key])
    out = {}
    for pid, name, triage in rows.fetchall():
        out[(pid, "_name")] = name
        for q, o in json.loads(triage or "{}").items():
            out[(pid, f"_triage:{q}")] = o
    for pid, step, status, value in app.storage.db.execute(
        "SELECT proposal_id, step, status, value FROM proposal_answers WHERE chat_key = ?", [key]
    ).fetchall():
        out[(pid, step)] = STATUS.get(status, value or "")
    return out


def shown(app, key: str, changed: dict) -> list[str]:
    """The changed values as a user would read them (triage answers by their option labels)."""
    flows = app.knowledge.flows
    out = []
    for (_, what), value in changed.items():
        if what.startswith("_triage:"):
            q = flows.questions.get(what.split(":", 1)[1])
            value = next((o.label for o in q.options if o.id == value), value) if q else value
        out.append(value)
    return out


def matches(expected: str, values: list[str]) -> bool:
    """The value expected, or a free text that starts with it and keeps more of what the user typed ("olehsari,
    kec glagah jg" for "Olehsari")."""
    want = norm(expected)
    return any(norm(v) == want or fold(v) == fold(expected) or (want and norm(v).startswith(want + " "))
               for v in values)  # fmt: skip


async def replay(app, transcript: dict) -> tuple[list[str], int, int]:
    """Replay one transcript; return the problems found, the "stored" turns and how many were asked back."""
    chat = FakeChat(app, transcript["id"][:40])
    key = f"{chat.channel}:{chat.chat_id}"
    problems, stored_turns, asked = [], 0, 0
    for n, turn in enumerate(transcript["turns"], 1):
        before = state(app, key)
        await chat.send(turn["say"])
        if texts.ERROR in chat.text:
            problems.append(f"turn {n} {turn['say']!r}: the error apology")
        top = Focus.from_json(app.storage.get_focus(key)).top
        if turn["expect"] in ("stored", "either") and top is not None and top.kind == "confirm":
            asked += 1
            await chat.send("ya")  # the user confirms what they meant
        after = state(app, key)
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        values = shown(app, key, changed)
        expect, where = turn["expect"], f"turn {n} at {turn['at']!r}: {turn['say']!r}"
        if expect == "stored":
            stored_turns += 1
            if not matches(turn["value"], values):
                problems.append(f"{where} should store {turn['value']!r}, stored {values}")
        elif expect == "either":
            if changed and not matches(turn["value"], values):
                problems.append(f"{where} stored {values}, not {turn['value']!r}")
        elif expect in ("not_stored", "answered"):
            if changed:
                problems.append(f"{where} must store nothing, stored {values}")
    await chat.send("/ringkasan")
    summary = chat.text
    for label, value in transcript.get("final", {}).items():
        if re.fullmatch(r"\d+/\d+", value or ""):
            if not re.search(rf"• {re.escape(label)} {re.escape(value)}\b", summary):
                problems.append(f"/ringkasan: {label} is not {value}")
            continue
        line = re.search(rf"• {re.escape(label)}: (.*)", summary)
        if line is None:
            if value:
                problems.append(f"/ringkasan has no line {label!r}")
            continue
        got = line.group(1).strip()
        if not value:
            if not got.startswith("[") and norm(got) != "":
                problems.append(f"/ringkasan: {label} should be empty, is {got!r}")
        elif not matches(value, [got]):
            problems.append(f"/ringkasan: {label} is {got!r}, expected {value!r}")
    return problems, stored_turns, asked


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[tr["id"] for tr in TRANSCRIPTS])
async def test_persona_transcript(app, transcript):
    problems, _, _ = await replay(app, transcript)
    assert not problems, "\n".join(problems)


async def test_the_guide_rarely_asks_back_what_people_plainly_answered(app):
    stored = asked = 0
    for transcript in TRANSCRIPTS:
        _, s, a = await replay(app, transcript)
        stored, asked = stored + s, asked + a
    assert len(TRANSCRIPTS) >= 40 and stored >= 400
    assert asked <= MAX_QUESTIONS_ASKED * stored, (asked, stored)
