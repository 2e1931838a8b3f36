"""Memory: resident set size of a bot process after loading the knowledge base and over 10,000 messages.

Run: ./pandu-bench memory [--messages N] [--rounds N]

Each round starts a fresh Python process (so nothing of the benchmark tooling is counted) that imports the bot,
builds the App (load, validate and index the knowledge base; open a real SQLite file) and sends messages through
App.handle with the simulated users of benchmarks/core.py (questions, buttons, checklist steps, /status,
documents). It reports VmRSS from /proc/self/status at each stage. Baseline in the same run: a bare Python
process (`python -c pass`) and the process after the imports alone. Goal: < 150 MB, and no growth between the
first and the second half of the messages. Medians over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import common

CHECKPOINTS = 4


async def child(messages: int, db: str) -> None:
    """Inside the measured process: print one JSON line of {stage: RSS MiB}."""
    stages = {"imports": 0.0}
    from bot.app import build_app, load_knowledge
    from bot.config import load_config
    from knowledge.evaluate import read_questions

    import core

    stages["imports"] = common.rss_mb()
    config = load_config(common.REPO / "config.toml").with_db(db)
    app = build_app(config, load_knowledge(config))
    stages["KB loaded + indexed"] = common.rss_mb()
    questions = [r.q for r in read_questions(common.DEV_QUESTIONS)] + [
        q for e in app.knowledge.kb.entries for q in e.questions
    ]
    rng = random.Random(1)
    users = [core.User(f"u{i}", proposer=rng.random() < 0.4) for i in range(300)]
    step = messages // CHECKPOINTS
    for k in range(1, CHECKPOINTS + 1):
        await core.drive(app, users, step, questions, seed=k)
        stages[f"after {k * step:,} messages"] = common.rss_mb()
    app.close()
    print(json.dumps(stages))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        asyncio.run(child(args.messages, args.child))
        return
    common.heading("Memory: resident set size of a bot process")
    runs, bare = [], []
    with tempfile.TemporaryDirectory(prefix="pandu-bench-") as tmp:
        for r in range(args.rounds):
            p = subprocess.run(
                [sys.executable, "-c", "import pathlib; print(pathlib.Path('/proc/self/status').read_text())"],
                capture_output=True, text=True, check=True,
            )
            bare.append(next(int(x.split()[1]) for x in p.stdout.splitlines() if x.startswith("VmRSS")) / 1024)
            p = subprocess.run(
                [sys.executable, __file__, "--child", str(Path(tmp) / f"mem-{r}.db"), "--messages", str(args.messages)],
                capture_output=True, text=True, timeout=600,
            )
            if p.returncode != 0:
                raise SystemExit(f"child failed:\n{p.stderr[-2000:]}")
            runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    base = common.median(bare)
    rows = [["bare python (baseline)", common.fmt(base, 1), "1.00×"]]
    for stage in runs[0]:
        v = common.median(run[stage] for run in runs)
        rows.append([stage, common.fmt(v, 1), f"{v / base:.2f}×"])
    print(f"{args.messages:,} messages through App.handle, {args.rounds} fresh processes (medians).\n")
    print(common.table(["stage", "RSS MiB", "vs bare python"], rows))
    stages = list(runs[0])
    half, last = stages[-1 - CHECKPOINTS // 2], stages[-1]
    growth = common.median(run[last] - run[half] for run in runs)
    peak = common.median(max(run.values()) for run in runs)
    print(f"\nGrowth over the second half ({half} → {last}): {growth:+.1f} MiB. "
          f"Goal < 150 MB: {'met' if peak * 1.048576 < 150 else 'MISSED'} (peak {peak:.1f} MiB = {peak * 1.048576:.1f} MB).")


if __name__ == "__main__":
    main()
