"""Memory: resident set size of a bot process after loading the knowledge base and over 10,000 messages.

Run: ./pandu-bench memory [--messages N] [--rounds N] [--serve-rounds N]

Each round starts a fresh Python process (so nothing of the benchmark tooling is counted) that imports the bot,
builds the App (load, validate and index the knowledge base; open a real SQLite file) and sends messages through
App.handle with the simulated users of benchmarks/core.py (questions, buttons, checklist steps, /status,
documents). It reports VmRSS from /proc/self/status at each stage. Baseline in the same run: a bare Python
process (`python -c pass`) and the process after the imports alone. Goal (issue 11, with the sentence encoder): `serve` < 250 MiB, and no growth between the
first and the second half of the messages. Medians over rounds.

Then the real process: `python -m bot serve` with both webhook channels configured against the test suite's fake
Bot API and fake Graph API on 127.0.0.1; the same simulated users (half on Telegram, half on WhatsApp, WORKERS
at a time, each waiting for its answer) post updates with the secret header and signed deliveries to the two
webhooks. VmRSS is read from /proc/<pid>/status once the knowledge base is loaded, once it listens, and at each
quarter of the messages; the core-only rows above are the baseline of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
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


# -- the real process: `python -m bot serve` with both webhook channels ---------------------------
SERVE_USERS = 300  # half on Telegram, half on WhatsApp
WORKERS = 24  # users talking at the same time (each waits for the bot's answer before its next message)
QUIET = 0.05  # seconds without a new bot message after which an answer counts as complete
REPLY_WAIT = 10.0  # seconds: the longest wait for the first message of an answer
TG_SECRET = "bench-secret-1"


class Chat:
    """One simulated user on one channel: its persona (core.User), the buttons of its latest answer."""

    def __init__(self, user, channel: str, tg_id: int = 0, wa_id: str = "", bsuid: str = ""):
        self.user, self.channel = user, channel
        self.tg_id, self.wa_id, self.bsuid = tg_id, wa_id, bsuid
        self.received = 0
        self.changed = asyncio.Event()
        self.pending: list[tuple[str, str, str]] = []  # (label, token, WhatsApp reply kind) since the last send

    def got(self, buttons: list[tuple[str, str, str]]) -> None:
        """The bot sent this chat a message (with these buttons)."""
        self.received += 1
        if buttons:
            self.pending = buttons
        self.changed.set()


def full_label(title: str) -> str:
    """A WhatsApp row or button title back to the core's label (titles are numbered or cut to 20/24 chars)."""
    from handlers import texts
    from handlers.checklist_texts import WHY

    t = re.sub(r"^\d+\.\s*", "", title).rstrip("…").strip()
    return next((label for label in (texts.MENU_PROPOSAL, WHY) if t and label.startswith(t)), title)


async def answered(chat: Chat, before: int) -> bool:
    """Wait (bounded) for the first message after `before`, then until the bot has been quiet for QUIET s."""
    deadline = time.monotonic() + REPLY_WAIT
    while chat.received <= before:
        chat.changed.clear()
        if chat.received > before:
            break
        try:
            await asyncio.wait_for(chat.changed.wait(), max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            return False
    while True:
        chat.changed.clear()
        try:
            await asyncio.wait_for(chat.changed.wait(), QUIET)
        except asyncio.TimeoutError:
            return True


class Fakes:
    """The fake Bot API and the fake Graph API on 127.0.0.1, served in this event loop, noting each chat's replies."""

    def __init__(self):
        from tests.fake_graph import FakeGraph
        from tests.fake_telegram import FakeBotAPI

        self.by_address: dict[str, Chat] = {}  # Telegram chat id, wa_id or BSUID → Chat
        fakes = self

        class Telegram(FakeBotAPI):
            async def _api_sendMessage(self, params, files):
                fakes._tg(params)
                return await super()._api_sendMessage(params, files)

            async def _api_sendDocument(self, params, files):
                fakes._tg(params)
                return await super()._api_sendDocument(params, files)

        class Graph(FakeGraph):
            def _record(self, call, prefix):
                fakes._wa(call.body)
                return f"{prefix}{next(self._ids)}"  # answer like the Graph API, keep nothing

        self.telegram = Telegram()
        self.telegram.calls = _Nothing()  # 10,000 messages: do not keep every request
        self.graph = Graph()
        self._graph_task: asyncio.Task | None = None

    def _tg(self, params: dict) -> None:
        chat = self.by_address.get(str(params.get("chat_id")))
        if chat is not None:
            markup = params.get("reply_markup") or {}
            chat.got([(b["text"], b["callback_data"], "") for row in markup.get("inline_keyboard", []) for b in row])

    def _wa(self, body: dict) -> None:
        from tests.fake_graph import choice_rows

        chat = self.by_address.get(str(body.get("to") or body.get("recipient")))
        if chat is not None:
            kind = "button_reply" if body.get("interactive", {}).get("type") == "button" else "list_reply"
            chat.got([(full_label(r["title"]), r["id"], kind) for r in choice_rows(body)])

    async def start(self) -> None:
        await self.telegram.start()
        server = self.graph._server
        server.install_signal_handlers = lambda: None
        self._graph_task = asyncio.create_task(server.serve())
        for _ in range(500):  # bounded: 5 s
            if server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("fake Graph API did not start")

    async def stop(self) -> None:
        await self.telegram.stop()
        self.graph._server.should_exit = True
        if self._graph_task is not None:
            await asyncio.wait_for(self._graph_task, 10)


class _Nothing(list):
    """A list that keeps nothing (the fake Bot API's request log, not needed here)."""

    def append(self, item) -> None:
        pass


def tg_update(fakes: Fakes, chat: Chat, update_id: int, msg) -> dict:
    """A Telegram update for a core Inbound: a typed message or a tapped inline button."""
    fake = fakes.telegram
    if msg.kind == "choice":
        sender = {"id": chat.tg_id, "is_bot": False, "first_name": "Kades"}
        query = {"id": f"q{update_id}", "from": sender, "chat_instance": "ci", "data": msg.choice,
                 "message": fake.bot_message(chat.tg_id, text="menu")}  # fmt: skip
        return {"update_id": update_id, "callback_query": query}
    return {"update_id": update_id, "message": fake.user_message(chat.tg_id, text=msg.text)}


def wa_body(chat: Chat, msg, kind: str) -> bytes:
    """A WhatsApp delivery for a core Inbound: a text or a button/list reply, from this chat's user."""
    from tests import wa_kit

    if msg.kind == "choice":
        payload = wa_kit.fresh(f"{kind or 'button_reply'}_new", reply_id=msg.choice)
    else:
        payload = wa_kit.fresh("text_new", text=msg.text)
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0].update(wa_id=chat.wa_id, user_id=chat.bsuid)
    value["messages"][0].update({"from": chat.wa_id, "from_user_id": chat.bsuid})
    return json.dumps(payload).encode()


async def converse(client, fakes: Fakes, chats: list[Chat], n: int, questions: list[str], seed: int,
                   counts: Counter) -> None:  # fmt: skip
    """Send n messages over the chats, WORKERS at a time; each chat waits for its answer before writing again."""
    from tests import wa_kit

    rng = random.Random(seed)
    free = list(chats)
    rng.shuffle(free)
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0 and free:
            left -= 1
            chat = free.pop(0)
            kind, msg = chat.user.next_message(rng, questions)
            before = chat.received
            tap_kind = next((k for _, t, k in chat.pending if t == msg.choice), "") if msg.kind == "choice" else ""
            chat.pending = []
            if chat.channel == "telegram":
                counts["update_id"] += 1
                r = await client.post("/webhook/telegram", json=tg_update(fakes, chat, counts["update_id"], msg),
                                      headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})  # fmt: skip
            else:
                body = wa_body(chat, msg, tap_kind)
                r = await client.post("/webhook/whatsapp", content=body, headers={
                    "content-type": "application/json", "x-hub-signature-256": wa_kit.sign(body)})  # fmt: skip
            if r.status_code != 200:
                raise RuntimeError(f"{chat.channel} webhook answered HTTP {r.status_code}")
            counts[f"{chat.channel}: {kind}"] += 1
            if not await answered(chat, before):
                counts["no answer within 10 s"] += 1
            chat.user.tokens = [(label, token) for label, token, _ in chat.pending]
            free.append(chat)

    await asyncio.gather(*(worker() for _ in range(WORKERS)))


async def serve_round(messages: int, tmp: Path, rnd: int, questions: list[str]) -> tuple[dict, Counter, str]:
    """Start `python -m bot serve` with both channels against the fakes; its RSS at each stage (MiB)."""
    import httpx

    import core
    from tests import wa_kit
    from tests.fake_graph import _free_port

    fakes = Fakes()
    await fakes.start()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_"))}
    env.update(wa_kit.ENV, WHATSAPP_API_BASE_URL=fakes.graph.url, TELEGRAM_BOT_TOKEN=fakes.telegram.token,
               TELEGRAM_BASE_URL=fakes.telegram.base_url, TELEGRAM_WEBHOOK_SECRET=TG_SECRET)  # fmt: skip
    log = tmp / f"serve-{rnd}.log"
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--port", str(port), "--db", str(tmp / f"serve-{rnd}.db"),
            cwd=common.REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
        )  # fmt: skip
    stages: dict[str, float] = {}
    counts: Counter = Counter()
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if not line.startswith(b"serving"):
            raise RuntimeError(f"serve did not start:\n{log.read_text()[-2000:]}")
        stages["KB loaded + indexed, channels built"] = common.rss_mb(proc.pid)
        # The server closes a kept-alive connection after 5 s idle (bot/web.py, timeout_keep_alive); httpx keeps one
        # 5 s too, so a request could go out on a connection the server was just closing (httpx.ReadError, seen in 2
        # of 5 runs on 2026-12-03). The platforms retry such a delivery; this client lets its connections go first.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=REPLY_WAIT,
                                     limits=httpx.Limits(keepalive_expiry=2.0)) as client:
            for _ in range(300):  # bounded: 30 s
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"serve did not listen:\n{log.read_text()[-2000:]}")
            stages["started: listening, both channels up"] = common.rss_mb(proc.pid)
            rng = random.Random(rnd)
            chats = []
            for i in range(SERVE_USERS):
                user = core.User(f"s{i}", proposer=rng.random() < 0.4)
                if i % 2:
                    chats.append(Chat(user, "telegram", tg_id=500_000 + i))
                else:
                    chats.append(Chat(user, "whatsapp", wa_id=f"62813{i:08d}", bsuid=f"ID.{8_000_000_000 + i}"))
            for chat in chats:
                for address in (chat.tg_id, chat.wa_id, chat.bsuid):
                    if address:
                        fakes.by_address[str(address)] = chat
            step = messages // CHECKPOINTS
            for k in range(1, CHECKPOINTS + 1):
                await converse(client, fakes, chats, step, questions, seed=rnd * 100 + k, counts=counts)
                stages[f"after {k * step:,} messages"] = common.rss_mb(proc.pid)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        await fakes.stop()
    del counts["update_id"]
    stderr = log.read_text()
    if proc.returncode != 0 or "Traceback" in stderr:
        raise RuntimeError(f"serve exited with {proc.returncode}:\n{stderr[-2000:]}")
    return stages, counts, stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3, help="fresh core-only processes (default 3)")
    ap.add_argument("--serve-rounds", type=int, default=1, help="fresh `python -m bot serve` processes (default 1)")
    ap.add_argument("--child", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        asyncio.run(child(args.messages, args.child))
        return
    common.heading("Memory: resident set size of a bot process")
    runs, bare, serve_runs, mixes = [], [], [], []
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
        from knowledge.evaluate import read_questions

        from bot.app import load_knowledge
        from bot.config import load_config

        kb = load_knowledge(load_config(common.REPO / "config.toml")).kb
        questions = [r.q for r in read_questions(common.DEV_QUESTIONS)] + [q for e in kb.entries for q in e.questions]
        for r in range(args.serve_rounds):
            t0 = time.monotonic()
            stages, mix, _ = asyncio.run(serve_round(args.messages, Path(tmp), r, questions))
            serve_runs.append(stages)
            mixes.append((mix, time.monotonic() - t0))
    base = common.median(bare)
    rows = [["bare python (baseline)", common.fmt(base, 1), "1.00×"]]
    for stage in runs[0]:
        v = common.median(run[stage] for run in runs)
        rows.append([stage, common.fmt(v, 1), f"{v / base:.2f}×"])
    print(f"Core only: {args.messages:,} messages through App.handle, {args.rounds} fresh processes (medians).\n")
    print(common.table(["stage", "RSS MiB", "vs bare python"], rows))
    report_growth(runs)
    core_at = {stage: common.median(run[stage] for run in runs) for stage in runs[0]}
    core_at["KB loaded + indexed, channels built"] = core_at["KB loaded + indexed"]
    rows = []
    for stage in serve_runs[0]:
        v = common.median(run[stage] for run in serve_runs)
        vs_core = f"{v / core_at[stage]:.2f}×" if stage in core_at else "—"
        rows.append([stage, common.fmt(v, 1), f"{v / base:.2f}×", vs_core])
    mix, wall = mixes[-1]
    print(f"\nThe real process: `python -m bot serve` with both webhook channels (Telegram → fake Bot API, WhatsApp → "
          f"fake Graph API, 127.0.0.1), {args.messages:,} signed/secret-checked webhook deliveries over "
          f"{SERVE_USERS} chats ({WORKERS} at a time, each waiting for its answer), {args.serve_rounds} fresh "
          f"process(es) (medians). Last run: {wall:.0f} s; " + ", ".join(f"{k} {v}" for k, v in sorted(mix.items()))
          + ".\n")
    print(common.table(["stage", "RSS MiB", "vs bare python", "vs core only"], rows))
    report_growth(serve_runs)


def report_growth(runs: list[dict]) -> None:
    """Growth over the second half of the messages and the goal, for one table's runs."""
    stages = list(runs[0])
    half, last = stages[-1 - CHECKPOINTS // 2], stages[-1]
    growth = common.median(run[last] - run[half] for run in runs)
    peak = common.median(max(run.values()) for run in runs)
    print(f"\nGrowth over the second half ({half} → {last}): {growth:+.1f} MiB. "
          f"Goal < 250 MiB: {'met' if peak < 250 else 'MISSED'} (peak {peak:.1f} MiB).")


if __name__ == "__main__":
    main()
