"""The Telegram channel: the real python-telegram-bot Application talking HTTP to a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import html
import logging

import httpx
import pytest

from bot.app import build_app
from bot.settings import SettingsError, api_urls, settings_from
from bot.telegram import (
    SECRET_HEADER,
    BotApiUnreachable,
    TelegramSetupError,
    build,
    document_only,
    render_outbound,
    render_parts,
    run_polling,
)
from bot.web import build_web_app
from handlers import router, texts
from handlers.messages import Choice, Document, Outbound, Reply
from tests.conftest import FakeChat
from tests.fake_graph import _free_port
from tests.fake_telegram import BOT_USERNAME, TOKEN, FakeBotAPI, TelegramUser, add_telegram

STICKER = {"file_id": "s1", "file_unique_id": "s1u", "type": "regular", "width": 512, "height": 512,
           "is_animated": False, "is_video": False}  # fmt: skip
UNSUPPORTED = {
    "sticker": STICKER,
    "photo": [{"file_id": "p1", "file_unique_id": "p1u", "width": 90, "height": 90}],
    "voice": {"file_id": "v1", "file_unique_id": "v1u", "duration": 3},
    "location": {"latitude": -6.2, "longitude": 106.8},
    "contact": {"phone_number": "+620000000", "first_name": "Budi"},
}


class RunningBot:
    """run_polling() as a task, with the events the CLI would set."""

    def __init__(self, app, fake: FakeBotAPI, token: str = TOKEN):
        self.stop_event = asyncio.Event()
        self.ready = asyncio.Event()
        channel = add_telegram(app, fake, token=token)
        self.task = asyncio.create_task(
            run_polling(app, channel, poll_timeout=1, stop=self.stop_event, ready=self.ready)
        )

    async def started(self) -> "RunningBot":
        ready = asyncio.create_task(self.ready.wait())
        done, _ = await asyncio.wait({ready, self.task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self.task in done:
            self.task.result()  # raises the start-up error
        assert self.ready.is_set(), "bot did not start"
        return self

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def running(app, fake):
    bot = await RunningBot(app, fake).started()
    yield bot
    await bot.stop()


async def eventually(predicate, what: str):
    """Poll a condition outside the fake (e.g. the database) for at most 5 seconds."""
    for _ in range(250):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def labels(call) -> list[str]:
    return [label for label, _ in call.buttons]


def rendered(outs: list[Outbound]) -> list[str]:
    """What the Telegram chat must show for these core replies: message texts, then document captions."""
    shown = []
    for out in outs:
        shown += [] if document_only(out.reply) else render_parts(out.reply)
        if out.reply.document is not None:
            shown.append(html.escape(out.reply.document.caption.strip(), quote=False))
    return shown


def token_of(replies: list[Outbound], label: str) -> str:
    for out in reversed(replies):
        for choice, token in zip(out.choices, out.choice_tokens):
            if choice.label == label:
                return token
    raise AssertionError(label)


async def mirrored(user: TelegramUser, mirror: FakeChat, text: str = "", label: str = "") -> list:
    """Send (or tap) the same thing in Telegram and in a core-only chat; Telegram must show what the core says."""
    if label:
        await mirror.tap_token(token_of(mirror.replies, label))
        calls = await user.tap(label, expect=len(rendered(mirror.last)))
    else:
        await mirror.send(text)
        calls = await user.send(text, expect=len(rendered(mirror.last)))
    assert [c.text for c in calls] == rendered(mirror.last)
    assert [label for c in calls for label in labels(c)] == mirror.labels
    return calls


async def mirrored_step(user: TelegramUser, mirror: FakeChat) -> list:
    """One step of whatever flow the core runs: tap the first button, or type an answer."""
    if mirror.labels:
        return await mirrored(user, mirror, label=mirror.labels[0])
    return await mirrored(user, mirror, text="Desa Sukamaju")


async def test_full_journey(app, running, fake):
    user = TelegramUser(fake, 42)
    [menu] = await user.send("/mulai")
    assert "Selamat datang" in menu.text
    assert menu.params["parse_mode"] == "HTML"
    assert labels(menu) == [texts.MENU_ASK, texts.MENU_PROPOSAL, texts.MENU_HELP]
    for _, data in menu.buttons:
        assert len(data.encode()) <= 16
        assert app.storage.get_menu("telegram:42", data.split(".")[0]) is not None

    [prompt] = await user.tap(texts.MENU_ASK)
    assert "ketik pertanyaan" in prompt.text
    [answer] = await user.send("apa itu bkad")
    assert answer.text.startswith("<b>")
    assert "PP 43/2014 Pasal 144" in answer.text
    assert texts.EXCERPT_BUTTON in labels(answer)
    [pasal] = await user.tap(texts.EXCERPT_BUTTON)
    assert pasal.text.startswith(f"<b>{texts.EXCERPT_HEADING}")
    assert "badan kerja sama antar-Desa" in pasal.text

    # The proposal flow is the core's: the Telegram chat must show exactly what the core says.
    mirror = FakeChat(app, "mirror")
    await mirror.send("/mulai")
    await mirrored(user, mirror, label=texts.MENU_PROPOSAL)
    for _ in range(2):
        await mirrored_step(user, mirror)
    [status] = await mirrored(user, mirror, text="/status")
    assert "Desa Sukamaju" in status.text

    answered = [c.params["callback_query_id"] for c in fake.called("answerCallbackQuery")]
    assert sorted(answered) == sorted(user.taps)


async def test_updates_of_one_chat_are_answered_in_order(running, fake):
    user = TelegramUser(fake, 42)
    await fake.send_text(42, "/bantuan")
    first, second = await user.send("/tentang", expect=2)
    assert "Cara memakai" in first.text
    assert "Tentang Pandu" in second.text


async def test_stale_and_forged_callbacks_get_expired_and_are_answered(app, running, fake):
    user = TelegramUser(fake, 42)
    [menu] = await user.send("/mulai")
    before = app.storage.latest_menu("telegram:42")
    for data in ("zzzzzzzz.0", menu.buttons[0][1].split(".")[0] + ".9", "x" * 64, "kb:pasal:bkad"):
        [reply] = await user.tap_data(data)
        assert "kedaluwarsa" in reply.text
    assert app.storage.latest_menu("telegram:42") == before
    # another chat's button is stale here too
    other = TelegramUser(fake, 43)
    [reply] = await other.tap_data(menu.buttons[0][1])
    assert "kedaluwarsa" in reply.text
    assert len(fake.called("answerCallbackQuery")) == 5


async def test_stickers_photos_voice_locations_contacts_get_a_polite_reply(running, fake):
    user = TelegramUser(fake, 42)
    for kind, content in UNSUPPORTED.items():
        [reply] = await user.push(**{kind: content})
        assert reply.text == html.escape(texts.UNSUPPORTED, quote=False), kind


async def test_edited_messages_are_ignored(running, fake):
    user = TelegramUser(fake, 42)
    edited = fake.user_message(42, text="apa itu bkad", edit_date=1)
    await fake.push(edited_message=edited)
    [reply] = await user.send("/bantuan")  # the only reply: the edit got none
    assert "Cara memakai" in reply.text


async def test_long_reply_is_split_under_4096_with_buttons_on_the_last_part(app, fake):
    paragraph = "Kerja sama Desa & pihak ketiga <wajib> dimusyawarahkan. " * 10
    text = "\n\n".join([paragraph.strip()] * 11)
    assert 6000 <= len(text) <= 7000
    reply = Reply(text, heading="Judul <uji>", choices=(Choice("Menu utama", "menu:mulai"),))
    channel = add_telegram(app, fake)
    await channel.bot.initialize()
    try:
        for i, call in enumerate(render_outbound(42, Outbound(reply, "m1", ("m1.0",)))):
            await channel.send(call, f"k{i}")
    finally:
        await channel.bot.shutdown()
    first, second = fake.sent(42)
    assert first.text.startswith("<b>Judul &lt;uji&gt;</b>\n\n")
    for part in (first, second):
        plain = html.unescape(part.text.replace("<b>", "").replace("</b>", ""))
        assert len(plain) <= 4096
        assert "<wajib>" in plain and "&lt;" in part.text
    assert first.buttons == [] and second.buttons == [("Menu utama", "m1.0")]
    joined = html.unescape(first.text.replace("<b>", "").replace("</b>", "") + "\n\n" + second.text)
    assert joined == "Judul <uji>\n\n" + text


async def test_document_is_sent_with_chat_actions(running, fake, monkeypatch):
    import bot.telegram as tg

    async def slow_document(ctx, arg):
        await asyncio.sleep(0.3)
        doc = Document("usulan.docx", b"PK\x03\x04 isi", caption="Draf <usulan>")
        return [Reply("Draf sudah siap.", document=doc)]

    monkeypatch.setattr(tg, "TYPING_AFTER", 0.05)
    monkeypatch.setitem(router.COMMANDS, "lambat", slow_document)
    user = TelegramUser(fake, 42)
    text, document = await user.send("/lambat", expect=2)
    assert text.method == "sendMessage" and text.text == "Draf sudah siap."
    assert document.method == "sendDocument"
    assert document.files["document"] == ("usulan.docx", b"PK\x03\x04 isi")
    assert document.params["caption"] == "Draf &lt;usulan&gt;"
    actions = [c.params["action"] for c in fake.called("sendChatAction")]
    assert actions[0] == "typing" and actions[-1] == "upload_document"


async def test_checklist_documents_arrive_as_docx_files(app, running, fake):
    user = TelegramUser(fake, 42)
    mirror = FakeChat(app, "mirror")
    await mirrored(user, mirror, text="/usulan")
    await mirrored(user, mirror, text="Jalan tani")
    for _ in range(3):  # the first choice of each triage question: the triage is done
        await mirrored_step(user, mirror)
    calls = await mirrored(user, mirror, text="/dokumen")
    documents = [c for c in calls if c.method == "sendDocument"]
    assert len(documents) == len([o for o in mirror.last if o.reply.document]) >= 2
    for call in documents:
        name, data = call.files["document"]
        assert (name.endswith(".docx") and data.startswith(b"PK")) or (name.endswith(".pdf") and data.startswith(b"%PDF"))
        assert call.text  # the caption names the document; no separate message repeats it
    # the introduction, the files, then (mid-flow) one message with a button back to the pending step
    assert len(calls) == len(documents) + 2
    assert calls[-1].params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Lanjutkan usulan"


async def test_start_up_sets_indonesian_commands_and_polls_for_buttons(running, fake):
    [call] = fake.called("setMyCommands")
    assert [c["command"] for c in call.params["commands"]] == [
        "mulai", "tanya", "usulan", "status", "ringkasan", "bantuan", "tentang", "hapus"
    ]  # fmt: skip
    assert all(c["description"] for c in call.params["commands"])
    polls = await fake.wait_until(lambda: fake.called("getUpdates"), "a poll")
    assert "callback_query" in polls[-1].params["allowed_updates"]
    assert fake.called("deleteWebhook")


def test_bot_has_the_rate_limiter_and_the_configured_server(app):
    from telegram.ext import AIORateLimiter

    from bot.settings import TelegramSettings
    from bot.telegram import TelegramChannel

    channel = TelegramChannel(app, TelegramSettings(TOKEN, "http://127.0.0.1:8081/bot"), polling=True)
    assert channel.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert channel.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    assert isinstance(channel.bot.rate_limiter, AIORateLimiter)


async def test_restart_mid_checklist_resumes_and_keeps_buttons_working(config, knowledge, fake):
    app1 = build_app(config, knowledge)
    bot1 = await RunningBot(app1, fake).started()
    user = TelegramUser(fake, 42)
    mirror = FakeChat(app1, "mirror")  # the same steps through the core alone, in the same database
    [menu] = await user.send("/mulai")
    await mirrored(user, mirror, text="/usulan")
    for _ in range(2):  # the proposal's name, then the first choice
        await mirrored_step(user, mirror)
    await bot1.stop()
    app1.close()

    app2 = build_app(config, knowledge)  # the same database file
    bot2 = await RunningBot(app2, fake).started()
    mirror.app = app2
    try:
        await mirrored_step(user, mirror)  # taps a button sent before the restart
        [status] = await mirrored(user, mirror, text="/status")
        assert "Desa Sukamaju" in status.text
        [prompt] = await user.tap(texts.MENU_ASK)  # the main menu from before the restart still works
        assert "ketik pertanyaan" in prompt.text
    finally:
        await bot2.stop()
        app2.close()
    assert labels(menu) == [texts.MENU_ASK, texts.MENU_PROPOSAL, texts.MENU_HELP]


async def test_group_commands_for_this_bot_and_replies_to_it(app, running, fake):
    group = TelegramUser(fake, -100777, kind="supergroup", user_id=501)
    [menu] = await group.send(f"/mulai@{BOT_USERNAME}")
    assert labels(menu) == [texts.MENU_ASK, texts.MENU_PROPOSAL, texts.MENU_HELP]
    # not for this bot: ignored
    await fake.send_text(-100777, "/mulai@OtherBot", kind="supergroup", user_id=501)
    await fake.send_text(-100777, "apa itu bkad", kind="supergroup", user_id=501)
    await fake.push(message=fake.user_message(-100777, user_id=501, kind="supergroup", sticker=STICKER))
    # a reply to the bot is answered (and is the only message since the menu)
    bot_msg = fake.bot_message(-100777, text="Selamat datang")
    [answer] = await group.send("apa itu bkad", reply_to_message=bot_msg)
    assert "PP 43/2014 Pasal 144" in answer.text
    # another member taps the button: the chat key is the group's
    [pasal] = await group.tap(texts.EXCERPT_BUTTON, user_id=502)
    assert "badan kerja sama antar-Desa" in pasal.text
    [mention] = await group.send(f"@{BOT_USERNAME} siapa saja anggota bkad")
    assert "Pasal" in mention.text
    keys = {r["chat_key"] for r in app.storage.db["chats"].rows}
    assert keys == {"telegram:-100777"}


async def test_group_proposal_prompts_ask_for_replies_and_replies_answer_them(app, running, fake):
    group = TelegramUser(fake, -100888, kind="supergroup", user_id=601)

    def reply_to(call):  # a member replies to the bot's message (what Telegram delivers under privacy mode)
        return {"reply_to_message": fake.bot_message(-100888, text=call.text)}

    [prompt] = await group.send(f"/usulan@{BOT_USERNAME}")
    assert "Nama usulan" in prompt.text and texts.TG_GROUP_REPLY_HINT in prompt.text
    assert prompt.params["reply_markup"].get("force_reply") is True  # no buttons: the reply field opens
    await fake.send_text(-100888, "Jalan tani", kind="supergroup", user_id=601)  # not a reply: not delivered
    [kind] = await group.send("Jalan tani", **reply_to(prompt))
    assert '"Jalan tani" dibuat' in kind.text and texts.TG_GROUP_REPLY_HINT not in kind.text  # buttons to tap
    assert "inline_keyboard" in kind.params["reply_markup"]  # buttons stay buttons
    await group.tap("Dengan Desa lain", user_id=602)
    await group.tap("Satu kecamatan")
    result, step = await group.tap("Tidak", expect=2)
    assert texts.TG_GROUP_REPLY_HINT not in result.text  # only the message that asks
    assert "Nama Desa" in step.text and texts.TG_GROUP_REPLY_HINT in step.text
    [saved] = await group.send("Sukamaju", **reply_to(step))
    assert "Tersimpan: \"Sukamaju\"" in saved.text and "Kecamatan" in saved.text
    [status] = await group.send("/status")
    assert texts.TG_GROUP_REPLY_HINT not in status.text  # /status waits for nothing
    private = TelegramUser(fake, 4242)
    [prompt] = await private.send("/usulan")
    assert texts.TG_GROUP_REPLY_HINT not in prompt.text and "reply_markup" not in prompt.params


async def test_blocked_user_is_marked_inactive_and_not_retried(app, running, fake):
    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await fake.send_text(42, "/mulai")
    await eventually(lambda: fake.called("sendMessage") and not app.storage.chat_active("telegram:42"), "inactive")
    assert len(fake.called("sendMessage")) == 1
    # the user comes back: the chat is active again and nothing else was queued for it
    user = TelegramUser(fake, 42)
    user.seen = 1
    [reply] = await user.send("/bantuan")
    assert "Cara memakai" in reply.text
    assert app.storage.chat_active("telegram:42")


async def test_membership_updates_mark_the_chat(app, running, fake):
    await fake.send_text(42, "/mulai")
    await fake.wait_until(lambda: fake.sent(42), "the menu")
    bot_user = {"id": fake.bot_id, "is_bot": True, "first_name": "Pandu"}

    async def member(old: dict, new: dict) -> None:
        await fake.push(my_chat_member={
            "chat": fake.chat(42), "from": {"id": 42, "is_bot": False, "first_name": "Kades"}, "date": 1,
            "old_chat_member": {"user": bot_user, **old}, "new_chat_member": {"user": bot_user, **new},
        })  # fmt: skip

    await member({"status": "member"}, {"status": "kicked", "until_date": 0})
    await eventually(lambda: not app.storage.chat_active("telegram:42"), "inactive")
    await member({"status": "kicked", "until_date": 0}, {"status": "member"})
    await eventually(lambda: app.storage.chat_active("telegram:42"), "active again")


async def test_error_handler_logs_context_and_apologises(running, fake, caplog):
    caplog.set_level(logging.INFO)
    fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    user = TelegramUser(fake, 42)
    failed, apology = await user.send("apa itu bkad rahasia", expect=2)
    assert failed.text and failed.text != apology.text  # the reply the fake refused
    assert apology.text == texts.ERROR
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and "BadRequest" in errors[0].getMessage()
    logged = caplog.text
    assert TOKEN not in logged
    assert "bkad rahasia" not in "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)


async def test_token_never_reaches_the_logs(caplog):
    from bot.telegram import hide_in_logs

    hide_in_logs("987:SECRETPART")
    log = logging.getLogger("telegram.test")
    with caplog.at_level(logging.DEBUG):
        log.warning("calling https://api.telegram.org/bot%s/getMe", "987:SECRETPART")
        try:
            raise RuntimeError("url bot987:SECRETPART/x")
        except RuntimeError:
            log.exception("failed")
    assert "987:SECRETPART" not in caplog.text
    assert "[redacted]" in caplog.text


async def test_refused_token_and_unreachable_server_are_one_line_errors(app, fake):
    with pytest.raises(TelegramSetupError) as refused:
        await RunningBot(app, fake, token="999:WRONG").started()
    assert "refused" in str(refused.value) and "999:WRONG" not in str(refused.value)

    port = _free_port()  # nothing listens there
    from bot.settings import TelegramSettings
    from bot.telegram import TelegramChannel

    channel = TelegramChannel(app, TelegramSettings(TOKEN, f"http://127.0.0.1:{port}/bot"), polling=True)
    with pytest.raises(BotApiUnreachable) as unreachable:
        await run_polling(app, channel, poll_timeout=1)
    assert "cannot reach" in str(unreachable.value) and TOKEN not in str(unreachable.value)


def test_base_url_is_used_for_files_too():
    assert api_urls("http://127.0.0.1:8081/bot") == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")
    assert api_urls("https://tg.example/api/") == ("https://tg.example/api/bot", "https://tg.example/api/file/bot")
    assert api_urls(None) is None and api_urls(" ") is None
    with pytest.raises(SettingsError):
        api_urls("ftp://127.0.0.1/bot")


# -- webhook -------------------------------------------------------------------------------------
SECRET = "s3cret-Token_1"


def test_web_channel_needs_token_and_secret(app, config):
    def channel_for(env):
        app.settings = settings_from(config, env)
        return build(app)

    assert channel_for({"TELEGRAM_WEBHOOK_SECRET": SECRET}) is None
    assert channel_for({"TELEGRAM_BOT_TOKEN": TOKEN}) is None
    with pytest.raises(TelegramSetupError, match="TELEGRAM_WEBHOOK_SECRET"):
        channel_for({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "spaces are not allowed"})
    with pytest.raises(TelegramSetupError, match="https"):
        channel_for({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
                     "TELEGRAM_WEBHOOK_URL": "http://insecure.example/webhook/telegram"})  # fmt: skip
    assert channel_for({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET}) is not None


async def test_webhook_route_checks_the_secret(app, fake):
    add_telegram(app, fake, polling=False, secret=SECRET, webhook_url="https://pandu.example/webhook/telegram")
    web = build_web_app(app)
    dropped = {"update_id": 1, "message": fake.user_message(77, text="/bantuan")}
    accepted = {"update_id": 2, "message": fake.user_message(77, text="/mulai")}
    async with web.router.lifespan_context(web):
        [hook] = fake.called("setWebhook")
        assert hook.params["url"] == "https://pandu.example/webhook/telegram"
        assert hook.params["secret_token"] == SECRET
        assert fake.called("setMyCommands")
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://pandu.test") as client:
            r = await client.post("/webhook/telegram", json=dropped, headers={SECRET_HEADER: "wrong"})
            assert r.status_code == 403
            r = await client.post("/webhook/telegram", json=dropped)
            assert r.status_code == 403
            r = await client.post("/webhook/telegram", content=b"{not json",
                                  headers={SECRET_HEADER: SECRET, "content-type": "application/json"})
            assert r.status_code == 400
            r = await client.post("/webhook/telegram", json={"nonsense": 1}, headers={SECRET_HEADER: SECRET})
            assert r.status_code == 200  # with the secret it is Telegram's: acknowledged, or it comes back for ever
            r = await client.post("/webhook/telegram", json=accepted, headers={SECRET_HEADER: SECRET})
            assert r.status_code == 200
            [menu] = await fake.wait_until(lambda: fake.sent(77), "the reply to the accepted update")
            assert labels(menu) == [texts.MENU_ASK, texts.MENU_PROPOSAL, texts.MENU_HELP]
            tap = {"update_id": 3, "callback_query": {
                "id": "q1", "from": {"id": 77, "is_bot": False, "first_name": "Kades"}, "chat_instance": "ci",
                "data": menu.buttons[2][1], "message": fake.bot_message(77, text="menu")}}  # fmt: skip
            r = await client.post("/webhook/telegram", json=tap, headers={SECRET_HEADER: SECRET})
            assert r.status_code == 200
            await fake.wait_until(lambda: len(fake.sent(77)) == 2 and fake.called("answerCallbackQuery"), "help")
    texts_sent = [c.text for c in fake.sent(77)]
    assert "Selamat datang" in texts_sent[0] and "Cara memakai" in texts_sent[1]  # /bantuan was dropped


async def _call_webhook(channel, messages: list[dict], headers: dict[str, str]):
    """Call the webhook route with raw ASGI messages (a client that drops or lies about its size)."""
    from starlette.requests import Request

    scope = {"type": "http", "method": "POST", "path": "/webhook/telegram", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}  # fmt: skip
    pending = list(messages)

    async def receive() -> dict:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    return await channel.receive(Request(scope, receive))


async def test_webhook_client_dropping_mid_upload_or_claiming_a_huge_body_is_refused(app):
    from bot.telegram import MAX_WEBHOOK_BODY

    channel = add_telegram(app, polling=False, secret=SECRET)
    headers = {SECRET_HEADER: SECRET, "content-type": "application/json"}
    dropped = [{"type": "http.request", "body": b'{"update_id": 5, "mess', "more_body": True},
               {"type": "http.disconnect"}]  # fmt: skip
    r = await _call_webhook(channel, dropped, headers)
    assert r.status_code == 400  # not an exception (a 500 with a traceback)
    small = [{"type": "http.request", "body": b'{"update_id": 6}', "more_body": False}]
    r = await _call_webhook(channel, small, {**headers, "content-length": str(MAX_WEBHOOK_BODY + 1)})
    assert r.status_code == 413  # refused from its Content-Length, before reading
    assert app.storage.db["inbox"].count == 0
