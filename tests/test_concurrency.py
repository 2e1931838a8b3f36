"""Concurrency: simultaneous updates of one chat apply in a sequential order; chats never mix."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace

import pytest

from bot.app import build_app
from handlers import router, texts
from handlers.context import Context
from handlers.messages import Inbound, Reply
from tests.conftest import FakeChat
from tests.reliability import CHECKLIST_TO_CONFIRM_STEP, assert_no_errors, integrity, proposal_state


async def _counting_mode(ctx: Context, text: str) -> list[Reply] | None:
    """A read-modify-write handler that yields to the event loop in between, as a real one may."""
    if not text.startswith("+"):
        return None
    data = _state(ctx.storage, ctx.chat_key)
    await asyncio.sleep(0)
    seen = [*data.get("seen", []), text]
    _save(ctx.storage, ctx.chat_key, {"seen": seen, "owner": ctx.chat_key})
    return [Reply(f"ok {len(seen)}")]


def _state(storage, chat_key: str) -> dict:
    """The counter record of a chat (a table of this test's own)."""
    row = storage.db.execute("SELECT data FROM test_counter WHERE chat_key = ?", [chat_key]).fetchone()
    return json.loads(row[0]) if row else {}


def _reset(storage, chat_key: str) -> None:
    _save(storage, chat_key, {})


def _save(storage, chat_key: str, data: dict) -> None:
    storage.db.execute("CREATE TABLE IF NOT EXISTS test_counter (chat_key TEXT PRIMARY KEY, data TEXT)")
    storage.db.execute("INSERT OR REPLACE INTO test_counter VALUES (?, ?)", [chat_key, json.dumps(data)])


async def same_as_sequential(run, app, config, knowledge):
    """run(app, parallel=True) on `app` and run(other, parallel=False) on a fresh app give the same result."""
    parallel = await run(app, True)
    other_cfg = replace(config, storage=replace(config.storage, path=config.db_path + ".seq"))
    seq_app = build_app(other_cfg, knowledge)
    try:
        sequential = await run(seq_app, False)
    finally:
        seq_app.close()
    assert parallel == sequential
    return parallel


@pytest.fixture
def counting(monkeypatch):
    monkeypatch.setattr(router, "_route", _counting_route(router._route))


def _counting_route(original):
    async def route(ctx: Context) -> list[Reply]:
        replies = await _counting_mode(ctx, ctx.msg.text)
        return replies if replies is not None else await original(ctx)

    return route


async def test_twenty_simultaneous_updates_apply_in_order_none_lost_none_twice(app, counting, caplog):
    caplog.set_level(logging.INFO)
    _reset(app.storage, "test:u1")
    msgs = [Inbound("test", "u1", f"+{i}") for i in range(20)]
    results = await asyncio.gather(*(app.handle(m) for m in msgs))
    assert [r[0].text for r in results] == [f"ok {i}" for i in range(1, 21)]
    data = _state(app.storage, "test:u1")
    assert data["seen"] == [f"+{i}" for i in range(20)]
    assert_no_errors(caplog)


async def test_double_taps_and_a_racing_command_equal_a_sequential_run(app, knowledge, config, counting, caplog):
    """Ten taps of one button, answers and /mulai all at once: the same as one after another."""

    async def run(a, parallel: bool) -> tuple[list[str], dict, int]:
        chat = FakeChat(a, "u1")
        _reset(a.storage, "test:u1")
        await chat.send("/mulai")
        help_token = chat.last[0].choice_tokens[2]
        msgs = []
        for i in range(20):
            if i % 2 == 0:
                msgs.append(Inbound("test", "u1", "", choice=help_token, kind="choice"))  # double taps
            elif i % 5 == 0:
                msgs.append(Inbound("test", "u1", "/tentang"))
            else:
                msgs.append(Inbound("test", "u1", f"+{i}"))
        if parallel:
            results = await asyncio.gather(*(a.handle(m) for m in msgs))
        else:
            results = [await a.handle(m) for m in msgs]
        replies = [o.text for r in results for o in r]
        return replies, _state(a.storage, "test:u1"), a.storage.db["menus"].count

    parallel = await same_as_sequential(run, app, config, knowledge)
    replies, state, _ = parallel
    assert replies.count(texts.HELP) == 10  # every tap answered, none dropped, none doubled
    assert state["seen"] == [f"+{i}" for i in range(20) if i % 2 and i % 5]
    assert_no_errors(caplog)


async def test_two_hundred_chats_in_parallel_see_only_their_own_data(app, counting, caplog):
    n = 200
    chats = [FakeChat(app, f"c{i}", "whatsapp" if i % 2 else "telegram") for i in range(n)]
    for c in chats:
        _reset(app.storage, f"{c.channel}:{c.chat_id}")

    async def session(c: FakeChat) -> tuple[list[str], str]:
        key = f"{c.channel}:{c.chat_id}"
        await c.send(f"+{key}-a")
        await c.send("apa itu bkad")
        await c.send(f"+{key}-b")
        assert _state(app.storage, key) == {"seen": [f"+{key}-a", f"+{key}-b"], "owner": key}
        await c.send(f"/usulan Usulan {key}")  # a proposal of its own, named after the chat
        for typed in ("1", "1", "2"):  # antar-Desa, one kecamatan, no BUM Desa
            await c.send(typed)
        await c.send(f"Desa {key}")  # the first party (a free-text step)
        await c.send("/status")
        heading = c.last[0].reply.heading
        await c.send("/mulai")
        return list(c.last[0].choice_tokens), heading

    results = await asyncio.gather(*(session(c) for c in chats))
    for c, (_, heading) in zip(chats, results):
        key = f"{c.channel}:{c.chat_id}"
        assert f"Usulan {key}" in heading and heading.count("Usulan") == 1
        [proposal] = app.storage.proposals(key)
        assert proposal["name"] == f"Usulan {key}"
        _, answers = proposal_state(app.storage, key)
        assert [v for _, v in answers.values() if key in v] == [key]  # "Desa …": the field's prefix is dropped
        assert [o.text for o in c.replies[:1]] == ["ok 1"]
    tokens = [r[0] for r in results]
    # every chat taps its neighbour's buttons at the same time: all expired, nothing changes
    taps = [chats[i].tap_token(tokens[(i + 1) % n][0]) for i in range(n)]
    results = await asyncio.gather(*taps)
    assert {o.text for r in results for o in r} == {texts.EXPIRED}
    # and its own buttons still work
    results = await asyncio.gather(*(chats[i].tap_token(tokens[i][2]) for i in range(n)))
    assert {o.text for r in results for o in r} == {texts.HELP}
    assert app.storage.db["question_log"].count == n
    assert app.storage.db["proposals"].count == n
    assert integrity(app.storage) == "ok"
    assert_no_errors(caplog)


async def test_step_answers_double_taps_and_status_race_like_a_sequential_run(app, knowledge, config, caplog):
    """Twenty updates at once mid-checklist: taps of one step button, typed answers and /status."""

    async def run(a, parallel: bool):
        chat = FakeChat(a, "u1")
        for text in CHECKLIST_TO_CONFIRM_STEP:
            await chat.send(text)
        sudah = chat.last[-1].choice_tokens[0]  # "Sudah" of the first Persiapan step
        msgs = []
        for i in range(20):
            if i % 2 == 0:
                msgs.append(Inbound("test", "u1", "", choice=sudah, kind="choice"))  # ten taps of one button
            elif i % 4 == 1:
                msgs.append(Inbound("test", "u1", "/status"))
            else:
                msgs.append(Inbound("test", "u1", "sudah pak"))  # typed answers to whatever step waits
        if parallel:
            results = await asyncio.gather(*(a.handle(m) for m in msgs))
        else:
            results = [await a.handle(m) for m in msgs]
        replies = [(o.reply.heading, o.text) for r in results for o in r]
        return replies, proposal_state(a.storage, "test:u1")

    parallel = await same_as_sequential(run, app, config, knowledge)
    _, (_step, answers) = parallel
    statuses = [a[0] for a in answers.values()]
    assert statuses.count("sudah") == 6  # ten taps, one answer; every typed answer applied once, none lost
    assert_no_errors(caplog)


async def test_keyed_queues_keep_each_keys_order_run_keys_side_by_side_and_forget_finished_keys():
    from bot.keyed import KeyedQueues

    done: list[tuple[str, int]] = []
    running: set[str] = set()
    overlap = []
    retried = set()

    async def handle(key, item):
        assert key not in running  # one worker per key
        running.add(key)
        overlap.append(len(running))
        await asyncio.sleep(0.001 * (item % 3))
        running.discard(key)
        if item == 7 and item not in retried:  # "not yet": the same item again, later, still before the next
            retried.add(item)
            return 0.01
        done.append((key, item))
        return None

    queues = KeyedQueues(handle, limit=4)
    for i in range(30):
        queues.put(f"chat{i % 5}", i)
    await asyncio.wait_for(queues.idle(), 5)
    for k in range(5):
        assert [i for key, i in done if key == f"chat{k}"] == list(range(k, 30, 5))
    assert max(overlap) > 1 and max(overlap) <= 4
    assert queues._queues == {} and queues.pending() == 0
