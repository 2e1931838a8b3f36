"""The delivery core in process: transactions, retries, permanent failures, a full database, a restart."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import replace

import httpx
import pytest

from bot.app import build_app
from handlers import router, texts
from tests.fake_graph import message_text
from tests.reliability import proposal_state, snapshot
from tests.wa_kit import add_whatsapp, fresh, post, serving, sign


def fill(db) -> None:
    """Use up the free room of a size-limited database, in the inbox's own pages too (rows of shrinking size)."""
    import secrets

    for size in (2000, 500, 100, 20, 0):
        while True:
            try:
                db.execute("INSERT INTO inbox (dedupe_key, channel, payload, state, received_at) "
                           "VALUES (?, 'pad', ?, 'done', 0)", [secrets.token_hex(16), "x" * size])  # fmt: skip
            except sqlite3.OperationalError as exc:
                assert "full" in str(exc)
                break


def unfill(db) -> None:
    db.execute("PRAGMA max_page_count = 1073741823")
    db.execute("DELETE FROM inbox WHERE channel = 'pad'")


def quick(config):
    """A config whose retries come within a fraction of a second."""
    return replace(config, delivery=replace(config.delivery, retry_first_s=0.05, retry_max_s=0.2, confirm_wait_s=0.2))


@pytest.fixture
def wa_app(config, knowledge, graph):
    app = build_app(quick(config), knowledge)
    add_whatsapp(app, graph.url)
    yield app
    app.close()


async def test_a_failing_handler_is_rolled_back_whole_and_answered_with_the_apology(wa_app, graph, monkeypatch, caplog):
    async def half_then_fail(ctx, arg):
        ctx.storage.set_focus(ctx.chat_key, '{"frames": [{"kind": "guide", "proposal": 99}], "menus": []}')  # a write …
        ctx.storage.create_proposal(ctx.chat_key)  # … and another …
        raise RuntimeError("boom")  # … then the handler fails

    monkeypatch.setitem(router.COMMANDS, "rusak", half_then_fail)
    async with serving(wa_app) as client:
        await post(client, fresh("text_new", text="/mulai"))
        key = "whatsapp:ID.13491208655302741918"
        before = snapshot(wa_app.storage, key)
        assert (await post(client, fresh("text_new", text="/rusak"))).status_code == 200
    assert message_text(graph.sent()[-1]) == texts.ERROR
    assert snapshot(wa_app.storage, key) == before  # nothing of the failed message was kept
    assert wa_app.storage.inbox.counts() == {"done": 2}
    assert "RuntimeError" in caplog.text


async def test_graph_api_errors_retry_with_backoff_and_permanent_ones_are_recorded(wa_app, graph):
    async with serving(wa_app) as client:
        graph.errors += [(131000, 500), (130429, 400), (2, 503)]  # temporary errors and a rate limit: retried
        assert (await post(client, fresh("text_new", text="apa itu bkad"))).status_code == 200
        assert len(graph.sent()) == 1 and graph.refused == 3
        assert "PP 43/2014 Pasal 144" in message_text(graph.sent()[0])
        graph.errors.append((131026, 400))  # undeliverable: no retry can fix it
        assert (await post(client, fresh("text_new", text="/bantuan"))).status_code == 200
    [(_key, chat, reason)] = wa_app.storage.outbox.failures()
    assert "131026" in reason and chat.startswith("whatsapp:")
    assert message_text(graph.sent()[-1]) == texts.ERROR  # the user hears something went wrong, once
    assert wa_app.storage.outbox.counts() == {"failed": 1}  # the failed one keeps its reason, not its text
    row = wa_app.storage.db.execute("SELECT body, blob FROM outbox").fetchone()
    assert row == (None, None)


async def test_a_full_database_answers_503_marks_nothing_seen_and_the_resend_is_answered(wa_app, graph):
    """SQLITE_FULL from a size-limited database (PRAGMA max_page_count): nothing acknowledged is lost."""
    from tests.wa_kit import SettledTransport  # noqa: F401  (the plain transport below does not wait)
    from bot.web import build_web_app

    web = build_web_app(wa_app)
    async with web.router.lifespan_context(web):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://t") as client:
            first = fresh("text_new", text="apa itu bkad")
            assert (await post(client, first)).status_code == 200
            await wa_app.pipeline.idle()
            db = wa_app.storage.db
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {pages}")
            fill(db)
            refused = [fresh("text_new", text=f"/usulan Penuh {i}") for i in range(3)]
            for payload in refused:
                r = await post(client, payload)
                assert r.status_code == 503 and "Unavailable" in r.text
            assert db.execute("SELECT count(*) FROM inbox WHERE channel = 'whatsapp'").fetchone()[0] == 1
            unfill(db)  # space again; none of the refused ones was stored or marked seen
            for payload in refused:  # Meta resends what did not get 200
                assert (await post(client, payload)).status_code == 200
            await asyncio.wait_for(wa_app.pipeline.idle(), 10)
    names = [message_text(b) for b in graph.sent()]
    for i in range(3):
        assert sum(f'"Penuh {i}"' in n for n in names) == 1


async def test_a_storage_failure_while_handling_rolls_back_and_retries_until_it_works(wa_app, graph, monkeypatch):
    """The outbox write fails (as on a full disk) after the handler created a proposal: all of it is rolled
    back, the delivery stays in the inbox, and it is handled once when the database works again."""
    async with serving(wa_app) as client:
        await post(client, fresh("text_new", text="/mulai"))
        await failing_then_working(wa_app, graph, monkeypatch)


async def failing_then_working(wa_app, graph, monkeypatch) -> None:
    outbox = wa_app.storage.outbox
    real_add = outbox.add
    broken = {"on": True, "tries": 0}

    def add(*args, **kwargs):
        if broken["on"]:
            broken["tries"] += 1
            raise sqlite3.OperationalError("database or disk is full")
        return real_add(*args, **kwargs)

    monkeypatch.setattr(outbox, "add", add)
    from bot.wa_webhook import parse_update

    [msg] = parse_update(fresh("text_new", text="/usulan Sempit")).messages
    await wa_app.pipeline.accept([wa_app.channels["whatsapp"].parse(msg, time.time())])  # stored: acknowledged
    for _ in range(100):
        if broken["tries"] >= 3:
            break
        await asyncio.sleep(0.05)
    key = "whatsapp:ID.13491208655302741918"
    assert broken["tries"] >= 3  # tried again and again …
    assert wa_app.storage.proposals(key) == []  # … and each time nothing was kept half-done
    assert wa_app.storage.db.execute("SELECT count(*) FROM inbox WHERE state = 'pending'").fetchone()[0] == 1
    broken["on"] = False
    await asyncio.wait_for(wa_app.pipeline.idle(), 30)
    assert sum('"Sempit"' in message_text(b) for b in graph.sent()) == 1
    assert [p["name"] for p in wa_app.storage.proposals(key)] == ["Sempit"]


async def test_a_delivery_stored_before_a_crash_is_handled_after_the_restart(config, knowledge, graph):
    app = build_app(quick(config), knowledge)
    channel = add_whatsapp(app, graph.url)
    from bot.wa_webhook import parse_update

    [msg] = parse_update(fresh("text_new", text="/usulan Tersimpan")).messages
    async with app.storage.writing():
        app.storage.record_inbound(channel.chat_key(msg), time.time())
    await app.pipeline.accept([channel.parse(msg, time.time())])  # stored, acknowledged; then the process dies
    await channel.session.aclose()
    app.close()
    assert graph.sent() == []
    again = build_app(quick(config), knowledge)
    add_whatsapp(again, graph.url)
    async with serving(again):
        await asyncio.wait_for(again.pipeline.idle(), 10)
    assert [m for m in map(message_text, graph.sent()) if '"Tersimpan"' in m]
    assert proposal_state(again.storage, "whatsapp:ID.13491208655302741918") is not None
    again.close()


async def test_telegram_429_waits_retry_after_and_sends_once(app):
    from tests.fake_telegram import FakeBotAPI, TelegramUser, add_telegram

    fake = await FakeBotAPI().start()
    add_telegram(app, fake, polling=False, secret="s3cret")
    try:
        async with serving(app, "http://pandu.test") as client:
            fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
            update = {"update_id": 1, "message": fake.user_message(42, text="/bantuan")}
            t0 = time.monotonic()
            r = await client.post("/webhook/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
            assert r.status_code == 200
            [reply] = await TelegramUser(fake, 42)._collect(1)
            waited = time.monotonic() - t0
        assert "Cara memakai" in reply.text
        assert waited >= 0.9  # Telegram's retry_after was honoured, not a quick retry
        assert len(fake.called("sendMessage")) == 2 and len(fake.sent(42)) == 2  # the refused call and the one
    finally:
        await fake.stop()


async def test_polling_confirms_only_stored_updates(app, monkeypatch):
    """getUpdates' next offset (Telegram's acknowledgement) moves only after the updates are committed."""
    from bot.telegram import run_polling
    from tests.fake_telegram import FakeBotAPI, add_telegram

    fake = await FakeBotAPI().start()
    channel = add_telegram(app, fake)
    real_accept = app.pipeline.accept
    failures = [sqlite3.OperationalError("database or disk is full")] * 2

    async def flaky_accept(deliveries, also=None, seen=()):
        if failures:
            raise failures.pop()
        return await real_accept(deliveries, also, seen)

    monkeypatch.setattr(app.pipeline, "accept", flaky_accept)
    monkeypatch.setattr("bot.telegram.STORE_RETRY", 0.05)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_polling(app, channel, 1, stop, ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        uid = await fake.send_text(42, "/bantuan")
        await fake.wait_until(lambda: fake.sent(42), "the reply")
        offsets = [c.params.get("offset") for c in fake.called("getUpdates")]
        assert offsets.count(None) >= 3  # the same updates fetched again while they could not be stored
        assert uid + 1 in offsets or not failures
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await fake.stop()
    assert len(fake.sent(42)) == 1


async def test_signed_status_webhooks_confirm_sends(wa_app, graph):
    async with serving(wa_app) as client:
        async with wa_app.storage.writing():
            wa_app.storage.outbox.add("77.0", "whatsapp", "whatsapp:x", {"to": {}, "msg": {}})
        status = {"id": "wamid.X", "status": "sent", "timestamp": "1", "recipient_id": "62",
                  "biz_opaque_callback_data": "77.0"}  # fmt: skip
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
                   "value": {"messaging_product": "whatsapp", "statuses": [status]}}]}]}  # fmt: skip
        body = json.dumps(payload).encode()
        forged = await client.post("/webhook/whatsapp", content=body,
                                   headers={"content-type": "application/json", "x-hub-signature-256": "sha256=00"})
        assert forged.status_code == 403 and wa_app.storage.outbox.counts() == {"pending": 1}
        assert (await post(client, payload)).status_code == 200
    assert wa_app.storage.outbox.counts() == {}
    assert sign  # the helper signs like Meta


async def test_a_renderer_bug_sets_one_delivery_aside_and_the_queue_goes_on(wa_app, graph, monkeypatch, caplog):
    channel = wa_app.channels["whatsapp"]
    real_render = channel.render

    def render(outs, delivery):
        if "Cara memakai" in " ".join(o.reply.text for o in outs) or delivery.inbound.text == "/bantuan":
            raise ValueError("renderer bug")
        return real_render(outs, delivery)

    monkeypatch.setattr(channel, "render", render)
    async with serving(wa_app) as client:
        assert (await post(client, fresh("text_new", text="/bantuan"))).status_code == 200
        assert (await post(client, fresh("text_new", text="apa itu bkad"))).status_code == 200
    assert [m for m in map(message_text, graph.sent()) if "PP 43/2014 Pasal 144" in m]
    assert wa_app.storage.db.execute("SELECT count(*) FROM inbox WHERE state = 'pending'").fetchone()[0] == 0
    assert "set aside" in caplog.text


async def test_a_delivery_of_a_channel_not_running_here_waits_for_one_that_has_it(config, knowledge, graph):
    from bot.wa_webhook import parse_update

    app = build_app(quick(config), knowledge)
    channel = add_whatsapp(app, graph.url)
    [msg] = parse_update(fresh("text_new", text="/usulan Menunggu")).messages
    await app.pipeline.accept([channel.parse(msg, time.time())])
    await channel.session.aclose()
    del app.channels["whatsapp"]  # e.g. restarted as `./pandu telegram` only
    await app.pipeline.start()
    await asyncio.wait_for(app.pipeline.idle(), 10)
    assert app.storage.db.execute("SELECT count(*) FROM inbox WHERE state = 'pending'").fetchone()[0] == 1
    await app.pipeline.stop()
    app.close()
    again = build_app(quick(config), knowledge)
    add_whatsapp(again, graph.url)
    async with serving(again):
        await asyncio.wait_for(again.pipeline.idle(), 10)
    assert [m for m in map(message_text, graph.sent()) if '"Menunggu"' in m]
    again.close()
