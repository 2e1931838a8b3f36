"""The WhatsApp channel: signed webhooks posted to the real ASGI app, replies caught by a fake Graph API."""

from __future__ import annotations

import json
import logging
import re

import pytest

from bot.channel import Delivery
from bot.settings import settings_from
from bot.wa_webhook import parse_update
from bot.whatsapp import WhatsAppChannel, to_outgoing
from handlers import texts
from tests.conftest import FakeChat
from tests.fake_graph import choice_rows, message_text
from tests.wa_kit import (ENV, PHONE_ID, TOKEN, VERIFY_TOKEN, WaUser, add_whatsapp, fixture, fresh, post, serving,
                          sign, the_message)


@pytest.fixture
def wa_env(monkeypatch, graph):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WHATSAPP_API_BASE_URL", graph.url)


@pytest.fixture
async def channel(app, graph):
    ch = add_whatsapp(app, graph.url)
    yield ch
    await ch.session.aclose()  # for tests that use the channel without serving it


@pytest.fixture
async def client(app, channel):
    async with serving(app) as c:
        yield c


@pytest.fixture
def user(client, graph) -> WaUser:
    return WaUser(client, graph)


# -- configuration -----------------------------------------------------------------------------
def test_no_channel_unless_every_secret_is_set(config, knowledge):
    from bot.app import build_app

    env = {k: v for k, v in ENV.items() if k != "WHATSAPP_APP_SECRET"}
    for given, expected in ((env, None), ({**env, "WHATSAPP_APP_SECRET": "another-app-secret"}, WhatsAppChannel)):
        app = build_app(settings_from(config, given), knowledge, channels=("whatsapp",))
        try:
            assert type(app.channels.get("whatsapp")) is expected or expected is None and not app.channels
        finally:
            app.close()


def test_settings_repr_hides_secrets(config):
    settings = settings_from(config, ENV)
    assert settings.whatsapp is not None and PHONE_ID in repr(settings)
    for secret in (TOKEN, ENV["WHATSAPP_APP_SECRET"], VERIFY_TOKEN):
        assert secret not in repr(settings)


# -- verification and refusals -----------------------------------------------------------------
async def test_verification_right_and_wrong_token(client):
    ok = await client.get("/webhook/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                                       "hub.challenge": "1158201444"})  # fmt: skip
    assert (ok.status_code, ok.text) == (200, "1158201444")
    for params in ({"hub.mode": "subscribe", "hub.verify_token": "guess"},
                   {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN + "x"},
                   {"hub.mode": "subscribe"},
                   {"hub.verify_token": VERIFY_TOKEN},  # no hub.mode
                   {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN}):  # fmt: skip
        bad = await client.get("/webhook/whatsapp", params={**params, "hub.challenge": "1158201444"})
        assert bad.status_code == 403, params
        assert "1158201444" not in bad.text


async def test_verification_compares_the_token_in_constant_time(client, monkeypatch):
    import hmac as hmac_module

    seen = []
    original = hmac_module.compare_digest
    monkeypatch.setattr("bot.whatsapp.hmac.compare_digest", lambda a, b: seen.append((a, b)) or original(a, b))
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "7"}
    assert (await client.get("/webhook/whatsapp", params=params)).text == "7"
    assert seen == [(VERIFY_TOKEN.encode(), VERIFY_TOKEN.encode())]


async def test_unsigned_and_forged_deliveries_send_nothing(client, graph, app):
    payload = fresh("text_new", text="apa itu bkad")
    assert (await post(client, payload, signature=None)).status_code == 401
    assert (await post(client, payload, signature="sha256=" + "0" * 64)).status_code == 403
    body = json.dumps(payload).encode()
    forged = sign(body, secret="someone-elses-secret")
    assert (await post(client, payload, signature=forged)).status_code == 403
    assert graph.calls == []
    assert app.storage.db["inbox"].count == 0  # nothing was processed, so a real delivery still counts
    assert (await post(client, payload)).status_code == 200
    assert len(graph.sent()) == 1


async def test_malformed_json_is_400_and_wrong_content_type_415(client, graph):
    assert (await post(client, b'{"object": "whatsapp_business_account", "entry": [')).status_code == 400
    assert (await post(client, b"\xff\xfe not utf-8")).status_code == 400
    assert (await post(client, b'["not", "an", "update"]')).status_code == 400
    r = await post(client, fresh("text_new"), content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    assert graph.calls == []


async def test_oversized_delivery_is_413(client, graph):
    payload = fresh("text_new")
    payload["padding"] = "x" * (300 * 1024)
    assert (await post(client, payload)).status_code == 413
    assert graph.calls == []


@pytest.mark.parametrize("shape", ["new", "old"])
async def test_status_updates_are_accepted_and_ignored(client, graph, shape):
    for status in ("sent", "delivered", "read"):
        payload = fixture(f"status_{shape}")
        payload["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = status
        assert (await post(client, payload)).status_code == 200
    assert graph.calls == []


async def test_duplicate_delivery_is_answered_once(client, graph):
    payload = fresh("text_old", text="apa itu bkad")
    for _ in range(3):
        assert (await post(client, payload)).status_code == 200
    assert len(graph.sent()) == 1


async def test_seen_message_ids_survive_a_restart(config, knowledge, wa_env, graph):
    from bot.app import build_app

    payload = fresh("text_new", text="apa itu bkad")
    for _ in range(2):  # two processes, one after the other, on the same database file
        app = build_app(config, knowledge)
        add_whatsapp(app, graph.url)
        async with serving(app) as c:
            assert (await post(c, payload)).status_code == 200
        app.close()
    assert len(graph.sent()) == 1


async def test_message_for_another_phone_number_is_ignored(client, graph):
    payload = fresh("text_new", text="apa itu bkad")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999999"
    assert (await post(client, payload)).status_code == 200
    assert graph.calls == []


# -- conversations -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["new", "old"])
async def test_question_gets_answer_with_citation_in_both_shapes(client, graph, shape):
    user = WaUser(client, graph, shape)
    sent = await user.send("apa itu bkad")
    assert len(sent) == 1
    assert sent[0]["to"] == "6281234567890"  # the phone number while the webhook carries it
    assert "PP 43/2014 Pasal 144" in user.text
    assert user.text.startswith("*")  # the heading, bold
    assert any(row["title"].endswith(texts.EXCERPT_BUTTON) for row in user.rows)
    assert all(call.authorization == f"Bearer {TOKEN}" for call in graph.calls)


async def test_chat_keys_bsuid_when_present_else_hashed_wa_id(client, graph, app):
    await WaUser(client, graph, "old").send("/mulai")  # a number only: keyed by its salted hash
    keys = {row["chat_key"] for row in app.storage.db["chats"].rows}
    assert len(keys) == 1 and next(iter(keys)).startswith("whatsapp:wa-")
    await WaUser(client, graph, "new").send("/mulai")  # the same number with its BSUID: the chat moves to the BSUID
    await WaUser(client, graph, "old").send("/mulai")  # and the number alone still reaches it (issue 15, item 9)
    keys = {row["chat_key"] for row in app.storage.db["chats"].rows}
    assert keys == {"whatsapp:ID.13491208655302741918"}
    # the phone number is stored nowhere
    dump = "\n".join(app.storage.db.conn.iterdump())
    assert "6281234567890" not in dump


async def test_changing_the_log_salt_keeps_a_wa_id_chat_and_its_data(config, knowledge, wa_env, graph, monkeypatch):
    """A user without a business-scoped id keeps the same chat (and its proposal) when PANDU_LOG_SALT changes."""
    from bot.app import build_app

    found = []
    for salt in ("first-log-salt", "second-log-salt"):
        monkeypatch.setenv("PANDU_LOG_SALT", salt)
        app = build_app(settings_from(config, {"PANDU_LOG_SALT": salt}), knowledge)
        ch = add_whatsapp(app, graph.url)
        async with serving(app) as c:
            if not found:
                await WaUser(c, graph, "old").send("/usulan")  # a proposal begins: the chat now has data
        key = ch.chat_key(parse_update(fresh("text_old")).messages[0])
        found.append((key, app.storage.active_proposal(key)))
        app.close()
    assert found[0][0].startswith("whatsapp:wa-") and found[0][1] is not None
    assert found[1] == found[0]


async def test_username_user_without_phone_number_is_answered_by_bsuid(client, graph):
    payload = fresh("text_new", text="apa itu bkad")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["contacts"][0]["wa_id"]
    del the_message(payload)["from"]
    assert (await post(client, payload)).status_code == 200
    sent = graph.sent()
    assert len(sent) == 1
    assert sent[0]["recipient"] == "ID.13491208655302741918" and "to" not in sent[0]


async def test_unreadable_message_is_logged_loudly_and_others_still_answered(client, graph, caplog):
    payload = fresh("text_old", text="apa itu bkad")
    value = payload["entry"][0]["changes"][0]["value"]
    broken = dict(the_message(payload), id="wamid.BROKEN")
    del broken["type"]
    value["messages"].insert(0, broken)
    with caplog.at_level(logging.ERROR, logger="bot.wa_webhook"):
        assert (await post(client, payload)).status_code == 200
    assert any("could not read a message" in r.getMessage() for r in caplog.records)
    assert "apa itu bkad" not in caplog.text  # user text is never logged
    assert len(graph.sent()) == 1


@pytest.mark.parametrize("name", ["image_new", "image_old", "sticker_new", "sticker_old"])
async def test_media_gets_a_polite_text_only_reply(client, graph, name):
    assert (await post(client, fresh(name))).status_code == 200
    sent = graph.sent()
    assert [message_text(b) for b in sent] == [texts.UNSUPPORTED]


async def test_other_unsupported_types_and_reactions(client, graph):
    for age, kind, content in [(30, "location", {"latitude": -6.2, "longitude": 106.8}),
                               (20, "audio", {"id": "1", "mime_type": "audio/ogg", "voice": True}),
                               (10, "contacts", [{"name": {"formatted_name": "Budi"}}])]:  # fmt: skip
        payload = fresh("sticker_old", age=age)  # sent apart (several at once are an album: one reply)
        msg = the_message(payload)
        del msg["sticker"]
        msg["type"], msg[kind] = kind, content
        assert (await post(client, payload)).status_code == 200
    payload = fresh("sticker_new")
    msg = the_message(payload)
    del msg["sticker"]
    msg["type"], msg["reaction"] = "reaction", {"message_id": "wamid.X", "emoji": "👍"}
    assert (await post(client, payload)).status_code == 200
    assert [message_text(b) for b in graph.sent()] == [texts.UNSUPPORTED] * 3


async def test_forged_or_foreign_button_ids_change_nothing(client, graph, app):
    user = WaUser(client, graph, "new")
    await user.send("/mulai")
    token = user.rows[0]["id"]
    other = WaUser(client, graph, "old", wa_id="6289900001111")  # another chat cannot use this chat's button
    await other._deliver(fresh("button_reply_old", reply_id=token, wa_id=other.wa_id))
    assert texts.EXPIRED in other.text
    await user._deliver(fresh("button_reply_new", reply_id="zzzzzzzz.0"))
    assert texts.EXPIRED in user.text
    await user._deliver(fresh("list_reply_new", reply_id="more:zzzzzzzz:9"))
    assert texts.EXPIRED in user.text


async def test_full_journey_matches_the_core(client, graph, app, config, knowledge):
    """Question → answer with citation → Bunyi pasal → start a proposal → (a step from a list) → /status.

    Each step's WhatsApp text is compared with what the core says to a console-like chat, so the
    channel adds and loses nothing; checklist steps work here as soon as the checklist is merged.
    """
    from bot.app import build_app

    core_app = build_app(config.with_db(str(config.db_path) + ".core.db"), knowledge)
    core = FakeChat(core_app)
    user = WaUser(client, graph, "new")
    try:
        async def step(action: str, arg: str) -> None:
            if action == "send":
                await user.send(arg)
                await core.send(arg)
            else:
                await user.tap(arg)
                await core.tap(next(label for label in core.labels if arg in label))
            expected = [o.text.strip() for o in core.last if o.text.strip()]
            for part in expected:
                assert part in user.text
            rows = user.rows
            assert len(rows) == len(core.labels)
            for row, label in zip(rows, core.labels):  # titles are the labels, numbered in lists, shortened
                title = re.sub(r"^\d+\. ", "", row["title"]).removesuffix("…")
                assert label.startswith(title) and (title == label or label in row.get("description", label))

        await step("send", "apa itu bkad")
        assert "PP 43/2014 Pasal 144" in user.text
        await step("tap", texts.EXCERPT_BUTTON)
        assert "Bunyi pasal" in user.text and "badan kerja sama antar-Desa" in user.text
        await step("send", "/mulai")
        await step("tap", "Siapkan usulan")
        await step("send", "Jalan tani Sukamaju")
        await step("tap", "Dengan Desa lain")
        assert "Desa mitra berada di mana?" in user.text
        (menu,) = [b for b in user.last if b.get("type") == "interactive"]
        assert menu["interactive"]["type"] == "list"  # 3 or 4 places and "Kenapa?": a list message
        await step("tap", "Satu kecamatan")  # the first place, whatever the others are
        assert user.last_delivery_kind == "list_reply"
        assert "Desa mitra berada di mana?" not in user.text  # the step moved on
        await step("send", "/status")
        assert "Jalan tani Sukamaju" in user.text
        assert "Status usulan" in user.text
    finally:
        core_app.close()


async def proposal_with_answers(user: WaUser, name: str) -> None:
    """A proposal between villages with the four parties skipped and two preparation steps answered."""
    await user.send("/usulan")
    await user.send(name)
    for label in ("Dengan Desa lain", "Satu kecamatan", "Tidak", "Lewati", "Lewati", "Lewati", "Lewati",
                  "Sudah", "Sudah"):  # fmt: skip
        await user.tap(label)


async def test_dokumen_sends_intro_documents_and_one_button_message_without_repeated_captions(client, graph):
    user = WaUser(client, graph, "new")
    await proposal_with_answers(user, "Jalan tani")
    await user.send("/dokumen")
    kinds = [b["type"] for b in user.last]
    assert kinds[0] == "text" and kinds[-1] == "interactive"
    docs = user.last[1:-1]
    assert len(docs) >= 2 and {b["type"] for b in docs} == {"document"}
    captions = [b["document"]["caption"] for b in docs]
    assert all(c and c not in user.last[0]["text"]["body"] for c in captions)  # each caption once, on its document
    assert [r["title"] for r in choice_rows(user.last[-1])] == ["Lanjutkan usulan"]


async def test_user_text_echoed_back_cannot_format_whatsapp_messages(client, graph):
    user = WaUser(client, graph, "new")
    await proposal_with_answers(user, "Jalan *tani* _Sukamaju_ ~baru~ `x`")
    await user.send("/status")
    assert "Jalan ∗tani∗ ˍSukamajuˍ ˜baru˜ ˋxˋ" in user.text
    await user.send("/dokumen")
    bodies = [message_text(b) for b in user.last] + [r["title"] + r.get("description", "") for r in user.rows]
    for body in bodies:
        inner = body[1:body.index("*", 1)] + body[body.index("*", 1) + 1 :] if body.startswith("*") else body
        assert not any(m in inner for m in "*_~`"), body


async def test_ubah_menus_show_the_current_answers(client, graph):
    user = WaUser(client, graph, "new")
    await proposal_with_answers(user, "Jalan tani")
    await user.send("/ubah")
    await user.tap("Para pihak")  # four steps: a list, each row with its answer
    rows = user.rows
    assert [r["title"] for r in rows][:4] == ["1. Desa pengusul", "2. Kecamatan", "3. Kabupaten/kota", "4. Desa mitra"]
    assert all(r.get("description") == "Dilewati" for r in rows[:4])
    await user.send("/ubah")
    await user.tap("Persiapan")  # two answered steps: reply buttons, the answers in the body
    (menu,) = [b for b in user.last if b.get("type") == "interactive"]
    assert menu["interactive"]["type"] == "button"
    assert "• Inventarisasi bidang/po…: Sudah" in user.text and "• Skala prioritas: Sudah" in user.text


async def test_every_choice_answers_to_its_number_typed(client, graph):
    user = WaUser(client, graph, "old")
    await user.send("/mulai")
    await user.send("3")  # "Bantuan"
    assert "/tentang" in user.text
    await user.send("/mulai")
    await user.send("bantuan")  # the label typed
    assert "/tentang" in user.text


async def test_long_text_is_split_at_4096(channel, graph, app):
    from handlers.messages import Choice, Outbound, Reply
    from bot.wa_render import render

    para = "Kerja sama Desa diatur dalam peraturan. " * 40
    out = Outbound(Reply("\n\n".join([para] * 8), heading="Panjang", choices=(Choice("Menu utama", "menu:mulai"),)),
                   "menuid01", ("menuid01.0",))  # fmt: skip
    for i, wm in enumerate(render(out)):
        await channel.send(to_outgoing("ID.1", wm), f"k{i}")
    sent = graph.sent()
    assert len(sent) >= 3
    assert all(len(message_text(b)) <= 4096 for b in sent)
    assert sent[-1]["type"] == "interactive" and len(message_text(sent[-1])) <= 1024
    joined = " ".join(" ".join(message_text(b).split()) for b in sent)
    assert joined.count("Kerja sama Desa diatur") == 8 * 40


async def test_document_is_uploaded_then_sent_as_document(channel, graph, app):
    from handlers.messages import Document, Outbound, Reply
    from bot.wa_render import render

    data = b"PK\x03\x04 fake docx bytes"
    out = Outbound(Reply("Draf usulan siap.", document=Document("usulan-kerja-sama.docx", data, caption="Draf usulan")))
    for i, wm in enumerate(render(out)):
        await channel.send(to_outgoing("ID.2", wm), f"k{i}")
    media = [c for c in graph.calls if c.kind == "media"]
    assert len(media) == 1
    assert media[0].body["file"]["data"] == data
    assert media[0].body["file"]["filename"] == "usulan-kerja-sama.docx"
    docs = [b for b in graph.sent() if b["type"] == "document"]
    assert docs and docs[0]["document"]["id"] == media[0].answer_id
    assert docs[0]["document"]["filename"] == "usulan-kerja-sama.docx"


async def test_no_message_outside_the_24_hour_window(client, graph, channel, app, caplog):
    # A message first delivered 25 hours late (e.g. after an outage): processed, but nothing is sent.
    with caplog.at_level(logging.WARNING, logger="bot.whatsapp"):
        assert (await post(client, fresh("text_new", text="apa itu bkad", age=25 * 3600))).status_code == 200
    assert graph.calls == []
    assert "24-hour" in caplog.text
    # a chat that never wrote cannot be messaged at all
    from handlers.messages import Inbound, Outbound, Reply

    delivery = Delivery("x", Inbound("whatsapp", "ID.999"), {"address": "ID.999"})
    assert channel.render([Outbound(Reply("halo"))], delivery) == []
    assert graph.calls == []
    # a fresh message opens the window again
    assert (await post(client, fresh("text_new", text="apa itu bkad"))).status_code == 200
    assert len(graph.sent()) == 1


async def test_long_menu_pages_with_lainnya_served_without_the_core(client, graph, app, channel):
    """14 choices: page 1 has rows 1–9 and "Lainnya"; "Lainnya" shows 10–14; numbers stay global."""
    from tests.wa_kit import WaUser
    from handlers import router
    from handlers.messages import Choice, Reply

    async def many(ctx, arg):
        return [Reply("Pilih topik:", choices=tuple(Choice(f"Topik nomor {i}", "menu:bantuan") for i in range(1, 15)))]

    router.COMMANDS["banyak"] = many
    try:
        user = WaUser(client, graph, "new")
        await user.send("/banyak")
        rows = user.rows
        assert len(rows) == 10 and rows[-1]["title"] == texts.WA_MORE
        assert [r["title"] for r in rows[:9]] == [f"{i}. Topik nomor {i}" for i in range(1, 10)]
        await user.tap(texts.WA_MORE)  # the core serves the stored menu's next page; nothing else changes
        rows = user.rows
        assert [r["title"] for r in rows] == [f"{i}. Topik nomor {i}" for i in range(10, 15)]
        await user.tap("14. Topik")  # a row of page 2 carries the core's own token
        assert "/tentang" in user.text
        await user.send("/banyak")
        await user.send("12")  # typed numbers count over all pages
        assert "/tentang" in user.text
    finally:
        del router.COMMANDS["banyak"]
