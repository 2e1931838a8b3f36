"""Channels end to end over loopback: the durable path (inbox + outbox) against the in-memory path, same run.

Run: ./pandu-bench channels [--deliveries N] [--rounds N] [--burst N]

Both paths run the same parser, core, renderer and sender; they differ only in what happens between the
webhook and the reply:
- durable (today's code): the delivery is committed to the SQLite inbox before the 200; one worker handles it
  (effects + outbox rows + inbox mark in one transaction); the sender marks the outbox row "sending", sends,
  and deletes it.
- in memory (the path before issue 14, as baseline): 200 first, then the message is handled in a task held
  in memory and the replies sent straight away (what a crash loses).

WhatsApp: the project's ASGI app served by uvicorn on 127.0.0.1, signed deliveries (recorded payload shape,
50 users, dev questions and /mulai) posted one at a time, replies caught by the fake Graph API
(tests/fake_graph.py). "End to end" = POST sent → every reply accepted by the fake. "Burst": `--burst`
deliveries in flight at once, deliveries per second until all are answered. Telegram: the same through
the webhook route and the fake Bot API (tests/fake_telegram.py), with the rate limiter off (Telegram allows
~30 messages/s per bot, which would hide the bot's own cost). Medians over rounds. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
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


async def serve(asgi) -> tuple[uvicorn.Server, asyncio.Task, str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 inside this event loop; return (server, task, url)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # bounded: 10 s
        if server.started:
            break
        await asyncio.sleep(0.01)
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    return server, task, f"http://127.0.0.1:{port}"


async def stop(server: uvicorn.Server, task: asyncio.Task) -> None:
    server.should_exit = True
    await asyncio.wait_for(task, timeout=15)


def in_memory(app) -> list[asyncio.Task]:
    """Switch an app to the in-memory path: accept() acknowledges at once and handles in a task."""
    tasks: list[asyncio.Task] = []

    async def handle(deliveries) -> None:
        for d in deliveries:
            channel = app.channels[d.inbound.channel]
            outs = await app.handle(d.inbound)
            for i, out in enumerate(channel.render(outs, d)):
                await channel.send(out, f"mem.{i}")

    async def accept(deliveries, also=None) -> int:
        if also is not None:
            async with app.storage.writing():
                also()
        tasks.append(asyncio.create_task(handle(list(deliveries))))
        return len(deliveries)

    app.pipeline.accept = accept
    return tasks


async def settle(app, mode: str, tasks: list[asyncio.Task]) -> None:
    """Wait until everything accepted so far is answered."""
    if mode == "durable":
        await asyncio.wait_for(app.pipeline.idle(), 60)
    else:
        while tasks:
            await asyncio.wait_for(tasks.pop(), 60)


def wa_bodies(n: int, rng: random.Random, questions: list[str]) -> list[bytes]:
    from tests import wa_kit

    out = []
    for _ in range(n):
        text = "/mulai" if rng.random() < 0.1 else rng.choice(questions)
        payload = wa_kit.fresh("text_new", text=text)
        value = payload["entry"][0]["changes"][0]["value"]
        u = rng.randrange(USERS)
        wa_id, bsuid = f"62812000{u:05d}", f"ID.{9000000000 + u}"
        value["contacts"][0].update(wa_id=wa_id, user_id=bsuid)
        value["messages"][0].update({"from": wa_id, "from_user_id": bsuid})
        out.append(json.dumps(payload).encode())
    return out


def tg_bodies(n: int, rng: random.Random, questions: list[str], fake) -> list[bytes]:
    out = []
    for i in range(n):
        text = "/mulai" if rng.random() < 0.1 else rng.choice(questions)
        update = {"update_id": 1000 + i, "message": fake.user_message(1000 + rng.randrange(USERS), text=text)}
        out.append(json.dumps(update).encode())
    return out


async def one_round(channel: str, mode: str, args, knowledge, base_config, tmp: Path, rnd: int, questions) -> dict:
    """One round of one path: per-delivery e2e and HTTP ms one at a time, then the burst rate."""
    from tests import wa_kit
    from tests.fake_graph import FakeGraph
    from tests.fake_telegram import FakeBotAPI, add_telegram

    app = build_app(base_config.with_db(str(tmp / f"{channel}-{mode}-{rnd}.db")), knowledge)
    rng = random.Random(rnd)
    graph = fake = None
    if channel == "whatsapp":
        graph = FakeGraph().start()
        wa_kit.add_whatsapp(app, graph.url)
        path, sign = "/webhook/whatsapp", lambda b: {"x-hub-signature-256": wa_kit.sign(b)}
        bodies = wa_bodies(args.deliveries + args.burst, rng, questions)
    else:
        from telegram.ext import ExtBot

        fake = await FakeBotAPI().start()
        ch = add_telegram(app, fake, polling=False, secret="bench-secret")
        ch.bot = ExtBot(ch.settings.token, base_url=fake.base_url, base_file_url=fake.base_url)  # no rate limiter
        path, sign = "/webhook/telegram", lambda b: {"X-Telegram-Bot-Api-Secret-Token": "bench-secret"}
        bodies = tg_bodies(args.deliveries + args.burst, rng, questions, fake)
    tasks = in_memory(app) if mode == "memory" else []
    server, task, url = await serve(build_web_app(app))
    lat, http_lat = [], []
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=64)) as client:
            async def post(body: bytes) -> None:
                r = await client.post(path, content=body, headers={"content-type": "application/json", **sign(body)})
                if r.status_code != 200:
                    raise RuntimeError(f"{channel}/{mode}: HTTP {r.status_code}")

            for body in bodies[: args.deliveries]:
                t0 = time.perf_counter_ns()
                await post(body)
                http_lat.append((time.perf_counter_ns() - t0) / 1e6)
                await settle(app, mode, tasks)
                lat.append((time.perf_counter_ns() - t0) / 1e6)
            t0 = time.perf_counter()
            await asyncio.gather(*(post(b) for b in bodies[args.deliveries :]))
            await settle(app, mode, tasks)
            burst = args.burst / (time.perf_counter() - t0)
        sent = len(graph.sent()) if graph else len(fake.sent())
    finally:
        await stop(server, task)
        if graph:
            graph.stop()
        if fake:
            await fake.stop()
        app.close()
    return {"lat": lat, "http": http_lat, "burst": burst, "sent": sent}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deliveries", type=int, default=400, help="deliveries one at a time per round (default 400)")
    ap.add_argument("--burst", type=int, default=300, help="deliveries posted at once per round (default 300)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    common.heading("Channels end to end over 127.0.0.1: durable inbox/outbox vs in-memory path")
    base_config = load_config(common.REPO / "config.toml")
    knowledge = load_knowledge(base_config)
    questions = [r.q for r in read_questions(common.DEV_QUESTIONS)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pandu-bench-") as tmp:
        for channel in ("whatsapp", "telegram"):
            results = {}
            for mode in ("memory", "durable"):  # alternate rounds so both see the same machine noise
                results[mode] = []
            for rnd in range(args.rounds):
                for mode in ("memory", "durable"):
                    results[mode].append(await one_round(channel, mode, args, knowledge, base_config, Path(tmp),
                                                         rnd, questions))  # fmt: skip
            rate = {m: common.median(len(r["lat"]) / (sum(r["lat"]) / 1000) for r in runs) for m, runs in results.items()}
            for mode, runs in results.items():
                rows.append([
                    f"{channel}: {'inbox + outbox (durable)' if mode == 'durable' else 'in memory (before, baseline)'}",
                    common.fmt(rate[mode], 0),
                    common.fmt(common.median(common.percentile(r["lat"], 50) for r in runs), 2),
                    common.fmt(common.median(common.percentile(r["lat"], 99) for r in runs), 2),
                    common.fmt(common.median(common.percentile(r["http"], 99) for r in runs), 2),
                    common.fmt(common.median(r["burst"] for r in runs), 0),
                    f"{rate[mode] / rate['memory']:.2f}×",
                ])
    print(f"{args.deliveries} deliveries one at a time plus a burst of {args.burst} per round, {USERS} users, "
          f"{args.rounds} rounds (medians).\n")
    print(common.table(
        ["path", "one at a time /s", "e2e p50 ms", "e2e p99 ms", "HTTP 200 p99 ms", "burst /s", "rate vs in memory"],
        rows,
    ))


if __name__ == "__main__":
    asyncio.run(main())
