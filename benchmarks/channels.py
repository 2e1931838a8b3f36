"""Channels end to end over loopback: Telegram updates/s and signed WhatsApp webhook deliveries/s.

Run: ./pandu-bench channels [--deliveries N] [--updates N] [--rounds N]

Telegram: the real python-telegram-bot Application (bot.telegram.run_polling, as `python -m bot telegram` runs
it) long-polling the test suite's fake Bot API (tests/fake_telegram.py) on 127.0.0.1, in one process. "One at a
time": push a text update, wait until the bot has handled it and sent its replies. "Burst": push a batch of
updates over 50 chats at once and wait for all. Run with the AIORateLimiter as configured (Telegram allows
~30 messages/s per bot, so that is the ceiling by design) and with the limiter off (the bot's own speed).
Baseline in the same run: one sendMessage round trip to the same fake with a plain httpx client.

WhatsApp: the project's ASGI app (bot.web.build_web_app with the real WhatsAppChannel) served by uvicorn on
127.0.0.1; an httpx client posts signed deliveries (recorded payload shape, new message id, 50 users, dev
questions and /mulai) one at a time; the bot answers through pywa to the test suite's fake Graph API
(tests/fake_graph.py) on 127.0.0.1. "End to end" = POST sent → the last reply accepted by the fake Graph API.
Baseline in the same run: a trivial ASGI app that reads the body and answers 200, served the same way, with
the same signed bodies. Medians over rounds. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import socket
import tempfile
import time
from pathlib import Path

import common  # puts the repository on sys.path
import httpx
import uvicorn

from bot.app import build_app, load_knowledge
from bot.config import load_config
from bot.web import build_web_app
from knowledge.evaluate import read_questions

USERS = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def serve(app) -> tuple[uvicorn.Server, asyncio.Task, str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 inside this event loop; return (server, task, url)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # bounded: 5 s
        if server.started:
            break
        await asyncio.sleep(0.01)
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    return server, task, f"http://127.0.0.1:{port}"


async def stop(server: uvicorn.Server, task: asyncio.Task) -> None:
    server.should_exit = True
    await asyncio.wait_for(task, timeout=10)


async def echo_app(scope, receive, send) -> None:
    """The loopback baseline: read the whole body, answer 200 OK."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"OK"})


def wa_delivery(wa_kit, n: int, rng: random.Random, questions: list[str]) -> bytes:
    """One signed-ready WhatsApp delivery body: a text message from one of USERS users."""
    text = "/mulai" if rng.random() < 0.1 else rng.choice(questions)
    payload = wa_kit.fresh("text_new", text=text)
    value = payload["entry"][0]["changes"][0]["value"]
    u = rng.randrange(USERS)
    wa_id, bsuid = f"62812000{u:05d}", f"ID.{9000000000 + u}"
    value["contacts"][0].update(wa_id=wa_id, user_id=bsuid)
    value["messages"][0].update({"from": wa_id, "from_user_id": bsuid})
    return json.dumps(payload).encode()


async def whatsapp_round(args, knowledge, base_config, tmp: Path, rnd: int, questions: list[str]) -> dict:
    """One round: the bot's web app vs the echo baseline; per-delivery ms for each."""
    from bot.whatsapp import WhatsAppChannel, web_channel
    from tests import wa_kit
    from tests.fake_graph import FakeGraph

    graph = FakeGraph().start()
    os.environ.update(wa_kit.ENV)
    os.environ["WHATSAPP_API_BASE_URL"] = graph.url
    app = build_app(base_config.with_db(str(tmp / f"wa-{rnd}.db")), knowledge)
    channel = web_channel(app)
    assert isinstance(channel, WhatsAppChannel)
    done = asyncio.Event()
    handle_all = channel._handle_all

    async def handle_and_signal(messages) -> None:  # instrumentation: know when the replies went out
        await handle_all(messages)
        done.set()

    channel._handle_all = handle_and_signal
    rng = random.Random(rnd)
    bodies = [wa_delivery(wa_kit, i, rng, questions) for i in range(args.deliveries)]
    out = {}
    try:
        for name, asgi in (("whatsapp", build_web_app([channel])), ("echo", echo_app)):
            server, task, url = await serve(asgi)
            path = "/webhook/whatsapp"
            lat, http_lat = [], []
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                t_start = time.perf_counter()
                for body in bodies:
                    done.clear()
                    t0 = time.perf_counter_ns()
                    r = await client.post(
                        path, content=body,
                        headers={"content-type": "application/json", "x-hub-signature-256": wa_kit.sign(body)},
                    )
                    http_lat.append((time.perf_counter_ns() - t0) / 1e6)
                    if r.status_code != 200:
                        raise RuntimeError(f"{name}: HTTP {r.status_code} {r.text[:100]}")
                    if name == "whatsapp":
                        await asyncio.wait_for(done.wait(), timeout=10)
                    lat.append((time.perf_counter_ns() - t0) / 1e6)
                wall = time.perf_counter() - t_start
            await stop(server, task)
            out[name] = (lat, http_lat, wall)
        out["replies"] = len(graph.sent())
    finally:
        graph.stop()
        app.close()
    return out


async def telegram_round(args, knowledge, base_config, tmp: Path, rnd: int, questions: list[str], limiter: bool) -> dict:
    """One round through PTB and the fake Bot API: per-update ms one at a time, burst rate, baseline ms."""
    from telegram.ext import AIORateLimiter

    from bot import telegram as tg
    from tests.fake_telegram import TOKEN, FakeBotAPI

    fake = await FakeBotAPI().start()
    app = build_app(base_config.with_db(str(tmp / f"tg-{rnd}-{limiter}.db")), knowledge)
    finished: set[int] = set()
    progress = asyncio.Event()
    on_update = tg.TelegramChannel.on_update

    async def on_update_and_signal(self, update, context) -> None:  # instrumentation: know when it is done
        try:
            await on_update(self, update, context)
        finally:
            finished.add(update.update_id)
            progress.set()

    async def until(ids: set[int]) -> None:
        deadline = time.monotonic() + 60
        while not ids <= finished:
            progress.clear()
            await asyncio.wait_for(progress.wait(), max(0.01, deadline - time.monotonic()))

    saved_limiter = tg.AIORateLimiter
    tg.TelegramChannel.on_update = on_update_and_signal
    if not limiter:
        tg.AIORateLimiter = lambda max_retries=2: AIORateLimiter(overall_max_rate=0, group_max_rate=0)
    rng = random.Random(rnd)
    stop_event, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(tg.run_polling(app, TOKEN, fake.base_url, poll_timeout=1, stop=stop_event, ready=ready))
    out: dict = {}
    try:
        await asyncio.wait_for(ready.wait(), 10)
        n = args.updates if not limiter else min(args.updates, 100)
        lat = []
        for i in range(n):
            text = "/mulai" if rng.random() < 0.1 else rng.choice(questions)
            t0 = time.perf_counter_ns()
            uid = await fake.send_text(1000 + i % USERS, text)
            await until({uid})
            lat.append((time.perf_counter_ns() - t0) / 1e6)
        out["seq"] = lat
        t0 = time.perf_counter()
        ids = {await fake.send_text(1000 + i % USERS, rng.choice(questions)) for i in range(n)}
        await until(ids)
        out["burst"] = n / (time.perf_counter() - t0)
        base = []
        async with httpx.AsyncClient(timeout=10) as client:
            for i in range(n):
                t0 = time.perf_counter_ns()
                r = await client.post(f"{fake.root}/bot{TOKEN}/sendMessage", json={"chat_id": 1, "text": "ok"})
                r.raise_for_status()
                base.append((time.perf_counter_ns() - t0) / 1e6)
        out["base"] = base
    finally:
        stop_event.set()
        await asyncio.wait_for(task, 15)
        tg.TelegramChannel.on_update = on_update
        tg.AIORateLimiter = saved_limiter
        await fake.stop()
        app.close()
    return out


async def telegram_rows(args, knowledge, base_config, questions: list[str]) -> list[list[str]]:
    """Table rows for Telegram: with and without the rate limiter, and the baseline."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="pandu-bench-") as tmp:
        for limiter in (False, True):
            runs = [await telegram_round(args, knowledge, base_config, Path(tmp), r, questions, limiter)
                    for r in range(args.rounds)]
            seq_rate = common.median(len(r["seq"]) / (sum(r["seq"]) / 1000) for r in runs)
            base_rate = common.median(len(r["base"]) / (sum(r["base"]) / 1000) for r in runs)
            label = "rate limiter on (as configured)" if limiter else "rate limiter off"
            rows.append([
                f"Telegram: PTB → core → fake Bot API, {label}",
                common.fmt(seq_rate, 0),
                common.fmt(common.median(r["burst"] for r in runs), 0),
                common.fmt(common.median(common.percentile(r["seq"], 50) for r in runs), 2),
                common.fmt(common.median(common.percentile(r["seq"], 99) for r in runs), 2),
                f"{seq_rate / base_rate:.2f}×",
            ])
            if not limiter:
                base_row = [
                    "baseline: one sendMessage to the fake (httpx)", common.fmt(base_rate, 0), "—",
                    common.fmt(common.median(common.percentile(r["base"], 50) for r in runs), 2),
                    common.fmt(common.median(common.percentile(r["base"], 99) for r in runs), 2), "1.00×",
                ]
    return rows + [base_row]


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deliveries", type=int, default=400, help="deliveries per round (default 400)")
    ap.add_argument("--updates", type=int, default=300, help="Telegram updates per round (default 300; 100 with the limiter)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    common.heading("Channels end to end over 127.0.0.1")
    base_config = load_config(common.REPO / "config.toml")
    knowledge = load_knowledge(base_config)
    questions = [r.q for r in read_questions(common.DEV_QUESTIONS)]
    tg_rows = await telegram_rows(args, knowledge, base_config, questions)
    print(f"Telegram: {args.updates} updates per round (100 with the rate limiter), {USERS} chats, "
          f"{args.rounds} rounds (medians).\n")
    print(common.table(
        ["path", "one at a time /s", "burst /s", "p50 ms", "p99 ms", "rate vs baseline"], tg_rows
    ))
    print()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pandu-bench-") as tmp:
        runs = [await whatsapp_round(args, knowledge, base_config, Path(tmp), r, questions) for r in range(args.rounds)]
    def med(name, i, f):
        return common.median(f(run[name][i]) for run in runs)

    wa_rate = common.median(len(run["whatsapp"][0]) / run["whatsapp"][2] for run in runs)
    echo_rate = common.median(len(run["echo"][0]) / run["echo"][2] for run in runs)
    rows.append([
        "WhatsApp webhook → core → pywa → fake Graph", common.fmt(wa_rate, 0),
        common.fmt(med("whatsapp", 0, lambda x: common.percentile(x, 50)), 2),
        common.fmt(med("whatsapp", 0, lambda x: common.percentile(x, 99)), 2),
        common.fmt(med("whatsapp", 1, lambda x: common.percentile(x, 50)), 2),
        f"{wa_rate / echo_rate:.2f}×",
    ])
    rows.append([
        "baseline: ASGI echo, same signed bodies", common.fmt(echo_rate, 0),
        common.fmt(med("echo", 0, lambda x: common.percentile(x, 50)), 2),
        common.fmt(med("echo", 0, lambda x: common.percentile(x, 99)), 2),
        common.fmt(med("echo", 1, lambda x: common.percentile(x, 50)), 2),
        "1.00×",
    ])
    print(
        f"WhatsApp: {args.deliveries} deliveries per round, one at a time, {USERS} users, {args.rounds} rounds (medians); "
        f"replies sent to the fake Graph API in the last round: {runs[-1]['replies']}.\n"
    )
    print(common.table(
        ["path", "per second", "e2e p50 ms", "e2e p99 ms", "HTTP 200 p50 ms", "rate vs baseline"], rows
    ))


if __name__ == "__main__":
    asyncio.run(main())
