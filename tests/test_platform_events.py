"""Issue 15, items 1–9: every update a platform sends gets the right treatment, fed with payloads written by others.

Each payload comes from tests/fixtures/<platform>/external/ (pywa's test data, the WhatsApp Java library's fixtures,
telegram-rs captures, a real forum-topic capture, Meta's and Telegram's references: the file says which).
WhatsApp goes through the real signed webhook and a fake Graph API; Telegram through python-telegram-bot against
the fake Bot API (polling) or the webhook route.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import httpx
import pytest

from bot.app import build_app
from bot.config import AdminConfig
from bot.web import build_web_app
from handlers import checklist_texts, texts
from tests.fake_graph import choice_rows, message_text
from tests.fake_telegram import BOT_USERNAME, FakeBotAPI, TelegramUser, add_telegram
from tests.recorded import recorded, wa_message, wa_recorded, wa_value
from tests.wa_kit import add_whatsapp, post, serving

USER = "972987654321"  # the sender of pywa's payloads
NEW_NUMBER = "972912345678"  # his number after user_changed_number
BSUID = "US.13491208655302741918"


# -- WhatsApp ---------------------------------------------------------------------------------
@pytest.fixture
async def wa(app, graph):
    channel = add_whatsapp(app, graph.url)
    async with serving(app) as client:
        yield client, channel


async def said(client, graph, payload) -> list[dict]:
    """Post a signed delivery; the messages the bot sent because of it."""
    before = len(graph.sent())
    r = await post(client, payload)
    assert r.status_code == 200, r.text
    return graph.sent()[before:]


async def test_1_a_new_user_opening_the_chat_gets_the_welcome_and_the_menu(wa, graph):
    client, _ = wa
    [welcome] = await said(client, graph, wa_recorded("request_welcome"))
    assert welcome["to"] == USER
    assert texts.GREETING.splitlines()[0] in message_text(welcome)
    assert texts.UNSUPPORTED not in message_text(welcome)
    titles = [row["title"].rstrip("…") for row in choice_rows(welcome)]  # WhatsApp button titles: ≤ 20 characters
    assert [label.startswith(t) for label, t in zip([texts.MENU_ASK, texts.MENU_PROPOSAL, texts.MENU_HELP], titles)] == [True] * 3


@pytest.mark.parametrize("name", ["revoke", "edit", "identity_changed", "user_changed_number",
                                  "user_changed_number_new_wa_id", "user_changed_user_id"])  # fmt: skip
async def test_2_notices_that_are_not_messages_get_no_reply(wa, graph, caplog, name):
    client, _ = wa
    caplog.set_level(logging.DEBUG)
    assert await said(client, graph, wa_recorded(name)) == []  # neither the apology nor anything else
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("name", ["user_changed_number", "user_changed_number_new_wa_id"])
async def test_2_a_changed_number_moves_the_chat_to_the_new_number(wa, graph, app, name):
    client, channel = wa
    [created] = await said(client, graph, wa_recorded("text_number_only", text="/usulan Jalan tani"))
    old_key, new_key = channel.chat_key_of(None, USER), channel.chat_key_of(None, NEW_NUMBER)
    pid = app.storage.active_proposal(old_key)
    assert pid is not None and '"Jalan tani" dibuat' in message_text(created)

    assert await said(client, graph, wa_recorded(name)) == []  # nothing is sent to the old number

    [status] = await said(client, graph, wa_recorded("text_number_only", text="/status", sender=NEW_NUMBER))
    assert status["to"] == NEW_NUMBER
    assert checklist_texts.STATUS_HEADING.format(name="Jalan tani") in message_text(status)
    assert app.storage.active_proposal(new_key) == pid  # stored under the new number now
    assert app.storage.proposals(old_key) == []
    assert app.storage.usage_stats()["chats"] == 1


async def test_3_an_interactive_message_meta_could_not_read_gets_a_reply_and_no_error(wa, graph, caplog):
    client, _ = wa
    [reply] = await said(client, graph, wa_recorded("interactive_with_errors"))
    assert message_text(reply) == texts.UNSUPPORTED
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert any("131000" in r.getMessage() for r in caplog.records)  # Meta's error code is logged (WARNING)
    [reply] = await said(client, graph, wa_recorded("unsupported"))  # the Java library's "unsupported" message
    assert message_text(reply) == texts.UNSUPPORTED and reply["to"] == "1111111111111"


async def test_3_a_contact_naming_someone_else_never_decides_the_chat(wa, graph, app):
    client, channel = wa
    other = wa_recorded("text_with_bsuid", text="/usulan Rahasia tetangga", sender="972955555555")
    await said(client, graph, other)  # another user, with a business-scoped id, has a proposal
    assert app.storage.proposals(f"whatsapp:{BSUID}")
    # a message from USER whose only contact is that other user (wa_id and user_id both contradict nothing of his)
    payload = wa_recorded("text_number_only", text="/status")
    wa_value(payload)["contacts"] = [{"profile": {"name": "Tetangga"}, "wa_id": "972955555555", "user_id": BSUID}]
    [status] = await said(client, graph, payload)
    assert status["to"] == USER
    assert "Rahasia tetangga" not in message_text(status)
    assert checklist_texts.NO_PROPOSAL in message_text(status)
    assert app.storage.proposals(channel.chat_key_of(None, USER)) == []


@pytest.mark.parametrize("bad_from", [972987654321, ["972987654321"], {"id": "972987654321"}, "97298 7654321",
                                      "+972987654321\n", True])  # fmt: skip
async def test_3_a_sender_id_of_the_wrong_type_is_never_a_send_address(wa, graph, app, bad_from):
    client, _ = wa
    payload = wa_recorded("text_number_only", text="/mulai")
    wa_message(payload)["from"] = bad_from
    wa_value(payload)["contacts"] = []
    assert await said(client, graph, payload) == []  # refused (logged), not answered at some made-up address
    assert app.storage.usage_stats()["chats"] == 0


async def test_7_an_album_of_photos_gets_one_apology(wa, graph, app):
    client, _ = wa
    sent, album_time = [], int(time.time()) - 600
    for n in range(3):  # WhatsApp sends each photo of an album as its own message, a second apart at most
        sent += await said(client, graph, wa_recorded("image", timestamp=str(album_time + n // 2)))
    assert [message_text(b) for b in sent] == [texts.UNSUPPORTED]
    later = wa_recorded("image", timestamp=str(int(time.time())))  # a photo ten minutes later: told again
    assert [message_text(b) for b in await said(client, graph, later)] == [texts.UNSUPPORTED]


async def test_9_the_business_scoped_id_arriving_keeps_the_chat(wa, graph, app):
    client, channel = wa
    await said(client, graph, wa_recorded("text_number_only", text="/usulan Jalan tani"))
    pid = app.storage.active_proposal(channel.chat_key_of(None, USER))
    [status] = await said(client, graph, wa_recorded("text_with_bsuid", text="/status"))  # now with his BSUID
    assert checklist_texts.STATUS_HEADING.format(name="Jalan tani") in message_text(status)
    assert "Belum ada usulan" not in message_text(status)
    assert app.storage.active_proposal(f"whatsapp:{BSUID}") == pid
    [again] = await said(client, graph, wa_recorded("text_number_only", text="/status"))  # the number alone: same chat
    assert checklist_texts.STATUS_HEADING.format(name="Jalan tani") in message_text(again)
    assert app.storage.usage_stats()["chats"] == 1  # one person, counted once


@pytest.mark.parametrize("entry", [f"whatsapp:{USER}", "whatsapp:+972 98-765-4321"])
async def test_9_an_admin_listed_by_phone_number_is_recognised_however_keyed(config, knowledge, graph, entry):
    admin_config = dataclasses.replace(config, admin=AdminConfig(chats=(entry,)))
    app = build_app(admin_config, knowledge)
    add_whatsapp(app, graph.url)
    try:
        async with serving(app) as client:
            [stats] = await said(client, graph, wa_recorded("text_number_only", text="/statistik"))
            assert texts.STATS_HEADING in message_text(stats)
            [stats] = await said(client, graph, wa_recorded("text_with_bsuid", text="/statistik"))  # keyed by BSUID
            assert texts.STATS_HEADING in message_text(stats)
            [other] = await said(client, graph, wa_recorded("text_number_only", text="/statistik", sender="972900000000"))
            assert message_text(other) == texts.UNKNOWN_COMMAND.format(cmd="/statistik")
    finally:
        app.close()


# -- Telegram ---------------------------------------------------------------------------------
@pytest.fixture
async def polling(app, fake):
    from bot.telegram import run_polling

    channel = add_telegram(app, fake)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_polling(app, channel, poll_timeout=1, stop=stop, ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    yield channel
    stop.set()
    await asyncio.wait_for(task, 10)


def in_topic(fake: FakeBotAPI, update: dict, text: str) -> dict:
    """The recorded forum-topic message with other text (a command, or a reply to the bot's message in the topic)."""
    msg = dict(update["message"], text=text, message_id=next(fake._message_ids))
    msg["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}] if text.startswith("/") else []
    return msg


async def test_4_replies_and_the_reply_prompt_stay_in_the_forum_topic(app, fake, polling):
    update = recorded("telegram", "forum_topic_command")
    chat_id = update["message"]["chat"]["id"]
    group = TelegramUser(fake, chat_id, kind="supergroup")
    fake.chats[chat_id] = update["message"]["chat"]
    await fake.push(message=in_topic(fake, update, "/usulan"))
    [prompt] = await group._collect(1)
    assert prompt.params.get("message_thread_id") == 2  # in the topic, not in "General"
    assert prompt.params["reply_markup"].get("force_reply") is True
    bot_msg = fake.bot_message(chat_id, text=prompt.text, message_thread_id=2, is_topic_message=True)
    await fake.push(message=dict(in_topic(fake, update, "Jalan tani"), reply_to_message=bot_msg))
    [kinds] = await group._collect(1)
    assert '"Jalan tani" dibuat' in kinds.text and kinds.params.get("message_thread_id") == 2
    query = {"id": "q-topic", "from": update["message"]["from"], "chat_instance": "ci", "data": kinds.buttons[0][1],
             "message": fake.bot_message(chat_id, text=kinds.text, message_thread_id=2, is_topic_message=True)}
    await fake.push(callback_query=query)
    [next_step] = await group._collect(1)
    assert next_step.params.get("message_thread_id") == 2
    assert all(c.params.get("message_thread_id") == 2 for c in fake.sent(chat_id))
    assert app.storage.active_proposal(f"telegram:{chat_id}") is not None


async def test_5_a_group_upgraded_to_a_supergroup_keeps_its_proposals(app, fake, polling):
    old, new = -216055857, -1001113717682  # the ids of telegram-rs's capture
    group = TelegramUser(fake, old, kind="group", user_id=174976101)
    [created] = await group.send(f"/usulan@{BOT_USERNAME} Jalan tani")
    assert '"Jalan tani" dibuat' in created.text
    pid = app.storage.active_proposal(f"telegram:{old}")
    await fake.push(message=recorded("telegram", "migrate_to_chat_id_current")["message"])
    await fake.push(message=recorded("telegram", "migrate_from_chat_id")["message"])
    supergroup = TelegramUser(fake, new, kind="supergroup", user_id=174976101)
    [status] = await supergroup.send("/status")
    assert "Status usulan: Jalan tani" in status.text and "Belum ada usulan" not in status.text
    assert app.storage.active_proposal(f"telegram:{new}") == pid
    assert app.storage.proposals(f"telegram:{old}") == []
    # a reply still addressed to the old group is delivered in the supergroup (Telegram names it in its error)
    fake.fail_next("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to=new)
    await fake.push(message=fake.user_message(old, user_id=174976101, kind="group", text="/bantuan"))
    [help_] = await supergroup._collect(1)
    assert "Cara memakai" in help_.text


async def test_6_bare_commands_of_other_bots_are_left_alone(app, fake, polling):
    update = recorded("telegram", "group_command_for_another_bot")
    chat_id = update["message"]["chat"]["id"]
    group = TelegramUser(fake, chat_id, kind="supergroup", user_id=174976101)
    fake.chats[chat_id] = update["message"]["chat"]
    await fake.push(message=update["message"])  # "/random 1 5000": another bot's command
    [status] = await group.send("/status")  # a bare command that is Pandu's is answered (and is the only reply)
    assert checklist_texts.NO_PROPOSAL in status.text
    [unknown] = await group.send(f"/FOOBAR@{BOT_USERNAME}")  # addressed to Pandu: told it is unknown
    assert unknown.text == texts.UNKNOWN_COMMAND.format(cmd="/foobar")
    private = TelegramUser(fake, 174976101)
    [told] = await private.send("/random 1 5000")  # in a private chat every command is for Pandu
    assert told.text == texts.UNKNOWN_COMMAND.format(cmd="/random")


async def test_7_an_album_of_three_photos_gets_one_apology(app, fake, polling):
    photo = recorded("telegram", "album_photo")["message"]
    user = TelegramUser(fake, photo["chat"]["id"])
    fake.chats[photo["chat"]["id"]] = photo["chat"]
    for n in range(3):
        await fake.push(message=dict(photo, message_id=photo["message_id"] + n))
    [apology] = await user._collect(1)
    assert apology.text == texts.UNSUPPORTED
    [reply] = await user.send("/bantuan")  # the next reply is to the next message: no more apologies came
    assert "Cara memakai" in reply.text


async def test_8_an_update_python_telegram_bot_cannot_read_is_acknowledged_and_polling_goes_on(app, fake, polling, caplog):
    unreadable = recorded("telegram", "migrate_to_chat_id")["message"]  # a real capture without from.is_bot
    uid = await fake.push(message=unreadable)
    user = TelegramUser(fake, 42)
    [reply] = await user.send("/bantuan")
    assert "Cara memakai" in reply.text
    offsets = [c.params.get("offset") for c in fake.called("getUpdates")]
    assert any(isinstance(o, int) and o > uid for o in offsets)  # acknowledged: Telegram will not send it again
    lines = [r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(lines) == 1 and str(uid) in lines[0]
    assert "Fedor" not in caplog.text and "supergroup-test-knsd" not in caplog.text  # its content is not logged


async def test_8_the_webhook_acknowledges_an_unreadable_update_once(app, fake, caplog):
    add_telegram(app, fake, polling=False, secret="s3cret")
    web = build_web_app(app)
    update = recorded("telegram", "migrate_to_chat_id")
    async with web.router.lifespan_context(web):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://pandu.test") as client:
            r = await client.post("/webhook/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    assert r.status_code == 200  # a 4xx would make Telegram send it again and again
    lines = [r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(lines) == 1 and str(update["update_id"]) in lines[0]
    assert "Fedor" not in caplog.text
