"""Core throughput: messages/s and handler latency through App.handle with a real SQLite file, one process.

Run: ./pandu-bench core [--messages N] [--chats N] [--rounds N]

Simulated users, each on its own chat: 60 % ask questions (dev questions and knowledge-base phrasings, now and
then tapping a button under the answer or sending /mulai), 40 % work on a proposal (/mulai, the "Usulan kerja
sama" button, then answer each prompt: tap a button other than "Kenapa?" when offered, else type a short
answer; now and then /status). Messages are
handled one after another (latency = one App.handle call). Baseline in the same run: a bare sqlite3 upsert +
read per message on a file database with the same pragmas (WAL, synchronous=NORMAL). Medians over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

import common

from bot.app import build_app, load_knowledge
from bot.config import load_config
from handlers import texts
from handlers.checklist_texts import WHY
from handlers.messages import Inbound
from knowledge.evaluate import read_questions

TYPED_ANSWERS = [
    "Desa Sukamaju dan Desa Mekarsari",
    "Pengelolaan air bersih bersama untuk tiga dusun",
    "Bapak Ahmad, Kepala Desa Sukamaju",
    "12 bulan",
    "ya",
    "lanjut",
]


class User:
    """One simulated chat: a persona and the buttons of its latest reply."""

    def __init__(self, chat_id: str, proposer: bool):
        self.chat_id = chat_id
        self.proposer = proposer
        self.tokens: list[tuple[str, str]] = []  # (label, token) of the latest reply's buttons
        self.started = False

    def next_message(self, rng: random.Random, questions: list[str]) -> tuple[str, Inbound]:
        """The next message this user sends, with its kind for the mix table."""
        def text(kind: str, t: str) -> tuple[str, Inbound]:
            return kind, Inbound("bench", self.chat_id, t)

        def tap(kind: str, token: str) -> tuple[str, Inbound]:
            return kind, Inbound("bench", self.chat_id, "", choice=token, kind="choice")

        if self.proposer:
            if not self.started:
                self.started = True
                return text("command", "/mulai")
            offer = [tok for label, tok in self.tokens if label == texts.MENU_PROPOSAL]
            if offer:
                return tap("checklist step", offer[0])
            if rng.random() < 0.08:
                return text("/status", "/status")
            answers = [tok for label, tok in self.tokens if label != WHY] or [tok for _, tok in self.tokens]
            if answers and rng.random() < 0.9:
                return tap("checklist step", rng.choice(answers))
            if rng.random() < 0.03:
                self.started = False
            return text("checklist step", rng.choice(TYPED_ANSWERS))
        r = rng.random()
        if r < 0.08:
            return text("command", "/mulai")
        if r < 0.25 and self.tokens:
            return tap("button", rng.choice(self.tokens)[1])
        return text("question", rng.choice(questions))


async def drive(app, users: list[User], n: int, questions: list[str], seed: int):
    """Send n messages round-robin over users; return per-message ms, wall seconds, the mix, ms by kind."""
    rng = random.Random(seed)
    lat: list[float] = []
    mix: Counter = Counter()
    by_kind: dict[str, list[float]] = {}
    clock = time.perf_counter_ns
    t_start = clock()
    for i in range(n):
        user = users[i % len(users)] if rng.random() < 0.5 else rng.choice(users)
        kind, msg = user.next_message(rng, questions)
        t0 = clock()
        outs = await app.handle(msg)
        lat.append((clock() - t0) / 1e6)
        mix[kind] += 1
        by_kind.setdefault(kind, []).append(lat[-1])
        if any(o.reply.document for o in outs):
            by_kind.setdefault("(reply with a .docx)", []).append(lat[-1])
        user.tokens = [(c.label, tok) for o in outs for c, tok in zip(o.reply.choices, o.choice_tokens)]
    return lat, (clock() - t_start) / 1e9, mix, by_kind


def baseline(path: Path, n: int, chats: int) -> tuple[list[float], float]:
    """A bare sqlite3 upsert + read per message: the floor any SQLite-backed handler stands on."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, seen REAL, n INTEGER)")
    lat = []
    clock = time.perf_counter_ns
    t_start = clock()
    for i in range(n):
        t0 = clock()
        key = f"c{i % chats}"
        conn.execute(
            "INSERT INTO t (k, seen, n) VALUES (?, ?, 1) ON CONFLICT(k) DO UPDATE SET seen = excluded.seen, n = n + 1",
            [key, time.time()],
        )
        conn.execute("SELECT seen, n FROM t WHERE k = ?", [key]).fetchone()
        lat.append((clock() - t0) / 1e6)
    wall = (clock() - t_start) / 1e9
    conn.close()
    return lat, wall


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=5000, help="messages per round (default 5000)")
    ap.add_argument("--chats", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    common.heading("Core: messages through App.handle (real SQLite file, one process)")
    base_config = load_config(common.REPO / "config.toml")
    knowledge = load_knowledge(base_config)
    questions = [r.q for r in read_questions(common.DEV_QUESTIONS)] + [
        q for e in knowledge.kb.entries for q in e.questions
    ]
    results = {"core": [], "base": []}
    mix: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="pandu-bench-") as tmp:
        for rnd in range(args.rounds):
            config = base_config.with_db(str(Path(tmp) / f"core-{rnd}.db"))
            app = build_app(config, knowledge)
            rng = random.Random(rnd)
            users = [User(f"u{i}", proposer=rng.random() < 0.4) for i in range(args.chats)]
            lat, wall, mix, by_kind = await drive(app, users, args.messages, questions, seed=rnd)
            app.close()
            results["core"].append((lat, wall))
            results["base"].append(baseline(Path(tmp) / f"base-{rnd}.db", args.messages, args.chats))

    def summary(runs):
        return (
            common.median(len(lat) / wall for lat, wall in runs),
            common.median(common.percentile(lat, 50) for lat, _ in runs),
            common.median(common.percentile(lat, 99) for lat, _ in runs),
            common.median(max(lat) for lat, _ in runs),
        )

    core, base = summary(results["core"]), summary(results["base"])
    print(f"{args.messages} messages per round over {args.chats} chats, {args.rounds} rounds (medians).")
    print("Mix (last round): " + ", ".join(f"{k} {v}" for k, v in sorted(mix.items())) + "\n")
    print(
        common.table(
            ["path", "messages/s", "p50 ms", "p99 ms", "max ms", "msg/s vs baseline"],
            [
                ["App.handle (core)", common.fmt(core[0], 0), common.fmt(core[1], 3), common.fmt(core[2], 3),
                 common.fmt(core[3], 1), f"{core[0] / base[0]:.2f}×"],
                ["baseline: sqlite3 upsert+read", common.fmt(base[0], 0), common.fmt(base[1], 3),
                 common.fmt(base[2], 3), common.fmt(base[3], 1), "1.00×"],
            ],
        )
    )
    print("\nBy message kind (last round), ms:\n")
    print(common.table(
        ["kind", "count", "p50", "p99", "max"],
        [[k, len(v), common.fmt(common.percentile(v, 50), 3), common.fmt(common.percentile(v, 99), 3),
          common.fmt(max(v), 1)] for k, v in sorted(by_kind.items())],
    ))
    print(f"\nGoals: ≥ 500 messages/s ({'met' if core[0] >= 500 else 'MISSED'}), "
          f"p99 < 20 ms ({'met' if core[2] < 20 else 'MISSED'}).")


if __name__ == "__main__":
    asyncio.run(main())
