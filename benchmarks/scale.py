"""Scale: database size and per-message latency with 1,000 vs 100,000 chats (Indonesia has ~75,000 villages).

Run: ./pandu-bench scale [--chats 1000,100000] [--samples N] [--rounds N]

Each size gets a fresh SQLite file created by the real Storage (all migrations), filled in bulk with what a
chat leaves behind: the chat row, its state, 5 menus, 10 logged questions, its WhatsApp window, and a proposal
a few steps in (a copy of one made through the real handlers, with its answers, the chat in checklist mode).
Then a sample of those chats, picked at random, sends messages through App.handle: a checklist step
(continue, then answer the step), /status, /mulai, a tapped button, a typed question. Every SQL statement run while handling is
captured and checked with EXPLAIN QUERY PLAN; a full-table SCAN is reported. Baseline in the same run: a
primary-key lookup on the chats table. "Flat" means the 100,000-chat p99 stays near the 1,000-chat p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import tempfile
import time
from pathlib import Path

import common

from bot.app import build_app, load_knowledge
from bot.config import load_config
from handlers.checklist_texts import CONTINUE_BUTTON, SKIP, WHY
from handlers.messages import Inbound

MENUS_PER_CHAT = 5
QUESTIONS_PER_CHAT = 10


TEMPLATE = "bench:template"


async def answer(app, chat: str, outs, rng: random.Random):
    """Answer a checklist prompt: "Lanjutkan usulan", else a choice (not Kenapa?/Lewati), else type an answer."""
    buttons = [(c.label, tok) for o in outs for c, tok in zip(o.reply.choices, o.choice_tokens)]
    tokens = [tok for label, tok in buttons if label == CONTINUE_BUTTON] or [
        tok for label, tok in buttons if label not in (WHY, SKIP)
    ]
    if tokens:
        return await app.handle(Inbound("bench", chat, "", choice=tokens[0], kind="choice"))
    return await app.handle(Inbound("bench", chat, rng.choice(["Desa Sukamaju dan Desa Mekarsari", "12 bulan"])))


async def template_proposal(app) -> None:
    """A proposal a few steps in, made through the real handlers, to copy to every chat."""
    rng = random.Random(0)
    chat = TEMPLATE.split(":", 1)[1]
    outs = await app.handle(Inbound("bench", chat, "/usulan"))
    outs = await app.handle(Inbound("bench", chat, "Jalan tani Sukamaju-Sukajaya"))
    for _ in range(6):
        outs = await answer(app, chat, outs, rng)


def fill(storage, n: int, rng: random.Random) -> None:
    """Bulk-insert n chats and what each leaves behind, in the schema the migrations created."""
    db = storage.db
    now = time.time()
    tables = set(db.table_names())
    choices = json.dumps([["Tanya aturan", "menu:tanya"], ["Usulan kerja sama", "menu:usulan"], ["Bantuan", "menu:bantuan"]])
    with db.atomic():
        for start in range(0, n, 5000):
            keys = [f"bench:{i}" for i in range(start, min(n, start + 5000))]
            db.conn.executemany(
                "INSERT INTO chats (chat_key, channel, created_at, last_seen, active) VALUES (?, 'bench', ?, ?, 1)",
                [(k, now - 86400 * 30, now - rng.random() * 86400 * 30) for k in keys],
            )
            db.conn.executemany(
                "INSERT INTO chat_focus (chat_key, focus, updated_at) VALUES (?, ?, ?)",
                [(k, json.dumps({"frames": [], "menus": []}), now) for k in keys],
            )
            db.conn.executemany(
                "INSERT INTO menus (menu_id, chat_key, created_at, choices) VALUES (?, ?, ?, ?)",
                [(f"m{k[6:]}x{j}", k, now - j, choices) for k in keys for j in range(MENUS_PER_CHAT)],
            )
            db.conn.executemany(
                "INSERT INTO question_log (ts, chat_hash, channel, question, outcome, entry_id, score) "
                "VALUES (?, ?, 'bench', 'apa itu bkad', 'answer', 'bkad-pengertian', 80.0)",
                [(now, storage.chat_hash(k)) for k in keys for _ in range(QUESTIONS_PER_CHAT)],
            )
            if "proposals" in tables:
                copy_proposal(db, keys)
            if "wa_window" in tables:
                db.conn.executemany(
                    "INSERT INTO wa_window (chat_key, last_inbound) VALUES (?, ?)", [(k, now) for k in keys]
                )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def copy_proposal(db, keys: list[str]) -> None:
    """Give each chat a copy of the template's proposal (row, answers, and the chat focus pointing at it)."""
    cols = [c.name for c in db["proposals"].columns if c.name not in ("id", "chat_key")]
    prop = db.execute(f"SELECT id, {', '.join(cols)} FROM proposals WHERE chat_key = ?", [TEMPLATE]).fetchone()
    if prop is None:
        return
    acols = [c.name for c in db["proposal_answers"].columns if c.name not in ("proposal_id", "chat_key")]
    answers = db.execute(
        f"SELECT {', '.join(acols)} FROM proposal_answers WHERE proposal_id = ?", [prop[0]]
    ).fetchall()
    focus = db.execute("SELECT focus FROM chat_focus WHERE chat_key = ?", [TEMPLATE]).fetchone()
    first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM proposals").fetchone()[0]
    ids = range(first, first + len(keys))
    db.conn.executemany(
        f"INSERT INTO proposals (id, chat_key, {', '.join(cols)}) VALUES ({', '.join('?' * (len(cols) + 2))})",
        [(i, k, *prop[1:]) for i, k in zip(ids, keys)],
    )
    db.conn.executemany(
        f"INSERT INTO proposal_answers (proposal_id, chat_key, {', '.join(acols)}) "
        f"VALUES ({', '.join('?' * (len(acols) + 2))})",
        [(i, k, *a) for i, k in zip(ids, keys) for a in answers],
    )
    if focus:  # the template's focus with its proposal id replaced by each copy's own
        template = json.loads(focus[0])
        rows = []
        for i, k in zip(ids, keys):
            frames = [{**f, "proposal": i} if "proposal" in f else f for f in template.get("frames", [])]
            rows.append((json.dumps({**template, "frames": frames}), k))
        db.conn.executemany("UPDATE chat_focus SET focus = ? WHERE chat_key = ?", rows)


def size_mb(path: str) -> float:
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p)) / 1024 / 1024


async def measure(app, n: int, samples: int, rng: random.Random, questions: list[str]) -> dict[str, list[float]]:
    """Per-message ms for /mulai, a button tap and a question, from sampled existing chats."""
    lat: dict[str, list[float]] = {
        "checklist step": [], "/status": [], "/mulai": [], "button": [], "question": [], "baseline": []
    }
    clock = time.perf_counter_ns
    conn = app.storage.db.conn
    for _ in range(samples):
        chat = str(rng.randrange(n))
        key = f"bench:{chat}"
        t0 = clock()
        outs = await app.handle(Inbound("bench", chat, "/mulai"))
        lat["/mulai"].append((clock() - t0) / 1e6)
        token = outs[0].choice_tokens[0]
        t0 = clock()
        await app.handle(Inbound("bench", chat, "", choice=token, kind="choice"))
        lat["button"].append((clock() - t0) / 1e6)
        t0 = clock()
        await app.handle(Inbound("bench", chat, rng.choice(questions)))
        lat["question"].append((clock() - t0) / 1e6)
        t0 = clock()
        outs = await app.handle(Inbound("bench", chat, "/status"))
        lat["/status"].append((clock() - t0) / 1e6)
        for _ in range(2):  # "Lanjutkan usulan", then answer the step it shows
            t0 = clock()
            outs = await answer(app, chat, outs, rng)
            ms = (clock() - t0) / 1e6
            if not any(o.reply.document for o in outs):  # a finished proposal's .docx is not a step
                lat["checklist step"].append(ms)
        t0 = clock()
        conn.execute("SELECT last_seen FROM chats WHERE chat_key = ?", [key]).fetchone()
        lat["baseline"].append((clock() - t0) / 1e6)
    return lat


def scans(conn, statements: set[str]) -> list[str]:
    """Statements whose query plan scans a whole table (no index)."""
    bad = []
    for sql in sorted(statements):
        if not re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE)", sql, re.I):
            continue
        try:
            plan = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        except Exception:
            continue
        for row in plan:
            detail = row[-1]
            if re.match(r"SCAN (\w+)(?! USING)", detail) and "COVERING INDEX" not in detail:
                bad.append(f"{detail}: {sql[:90]}")
    return bad


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chats", default="1000,100000")
    ap.add_argument("--samples", type=int, default=400, help="sampled chats per size and round (default 400)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-autocheckpoint", action="store_true",
                    help="turn SQLite's WAL auto-checkpoint off while measuring (shows what checkpoints add to p99)")
    args = ap.parse_args()
    common.heading("Scale: 1,000 vs 100,000 chats in one SQLite file")
    base_config = load_config(common.REPO / "config.toml")
    knowledge = load_knowledge(base_config)
    questions = [q for e in knowledge.kb.entries for q in e.questions[:2]]
    sizes = [int(s) for s in args.chats.split(",")]
    results, info, scanned = {}, {}, set()
    with tempfile.TemporaryDirectory(prefix="pandu-bench-") as tmp:
        for n in sizes:
            path = str(Path(tmp) / f"scale-{n}.db")
            app = build_app(base_config.with_db(path), knowledge)
            await template_proposal(app)
            t0 = time.perf_counter()
            fill(app.storage, n, random.Random(n))
            fill_s = time.perf_counter() - t0
            info[n] = (size_mb(path), fill_s)
            if args.no_autocheckpoint:
                app.storage.db.execute("PRAGMA wal_autocheckpoint = 0")
            await measure(app, n, 30, random.Random(99), questions)  # warm-up: caches, lazy imports
            statements: set[str] = set()
            app.storage.db.conn.set_trace_callback(statements.add)
            per_round = [await measure(app, n, args.samples, random.Random(r), questions) for r in range(args.rounds)]
            app.storage.db.conn.set_trace_callback(None)
            scanned.update(scans(app.storage.db.conn, statements))
            results[n] = {
                k: (common.median(common.percentile(r[k], 50) for r in per_round),
                    common.median(common.percentile(r[k], 99) for r in per_round))
                for k in per_round[0]
            }
            app.close()
    print(f"{args.samples} sampled chats × {args.rounds} rounds per size; per chat: {MENUS_PER_CHAT} menus, "
          f"{QUESTIONS_PER_CHAT} logged questions, 1 proposal; WAL auto-checkpoint "
          f"{'off' if args.no_autocheckpoint else 'on (SQLite default)'}.\n")
    print(common.table(
        ["chats", "database MiB", "fill s"], [[f"{n:,}", common.fmt(info[n][0], 1), common.fmt(info[n][1], 1)] for n in sizes]
    ))
    print()
    small, big = sizes[0], sizes[-1]
    rows = []
    for k in results[small]:
        label = "baseline: chats PK lookup" if k == "baseline" else f"App.handle {k}"
        rows.append([label, *(common.fmt(results[n][k][i], 3) for n in sizes for i in (0, 1)),
                     f"{results[big][k][1] / results[small][k][1]:.2f}×"])
    headers = ["message", *(f"{h} @ {n:,}" for n in sizes for h in ("p50 ms", "p99 ms")), f"p99 {big:,} / {small:,}"]
    print(common.table(headers, rows))
    print("\nFull-table scans while handling: " + ("none" if not scanned else "\n  " + "\n  ".join(sorted(scanned))))


if __name__ == "__main__":
    asyncio.run(main())
