"""Secrets never reach logs or replies; user message text is not logged at INFO or above; no markup echo."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_app
from handlers import qa, texts
from tests.conftest import FakeChat
from tests.procs import reap

REPO = Path(__file__).resolve().parent.parent

# Fake secrets: every environment variable the project reads (or will read) for a token or secret.
FAKE_SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456789:AAFakeTelegramTokenNeverLogged_xyz",
    "TELEGRAM_WEBHOOK_SECRET": "fake-telegram-webhook-secret-5f1e",
    "WHATSAPP_TOKEN": "EAAFakeWhatsappAccessTokenNeverLogged9",
    "WHATSAPP_APP_SECRET": "fake-whatsapp-app-secret-c0ffee",
    "WHATSAPP_VERIFY_TOKEN": "fake-whatsapp-verify-token-beef",
    "PANDU_LOG_SALT": "fake-log-salt-never-logged-0a9b",
}

# What the users type: each carries a marker that must not appear in logs at INFO or above.
USER_TEXTS = [
    "/mulai",
    "apa itu bkad penanda-satu",
    "resep rendang penanda-dua",
    "<b>penanda-tiga</b> *_[",
    "'; DROP TABLE chats; -- penanda-empat",
    "/tanya siapa anggota bkad penanda-lima",
    "/terbang penanda-enam",
    "",
    "x" * 5000 + " penanda-tujuh",
]
MARKERS = [f"penanda-{n}" for n in ("satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan")]


@pytest.fixture
def secret_env(monkeypatch):
    for name, value in FAKE_SECRETS.items():
        monkeypatch.setenv(name, value)


async def _full_session(app, caplog, monkeypatch) -> list[str]:
    """A user session, an admin session and one failing handler; returns every reply text."""
    user = FakeChat(app, "555", "telegram")
    for text in USER_TEXTS:
        await user.send(text)
    await user.send("/mulai")
    await user.tap(texts.MENU_ASK)
    await user.send("apa itu bkad")
    await user.tap(texts.EXCERPT_BUTTON)
    admin = FakeChat(app, "1", "telegram")
    await admin.send("/statistik")
    await admin.send("/muatulang")

    async def broken(ctx, question):
        raise ValueError(f"cannot handle {question!r} with {os.environ['TELEGRAM_BOT_TOKEN']}")

    monkeypatch.setattr(qa, "answer_question", broken)
    await user.send("bagaimana kerja sama penanda-delapan")
    assert user.text == texts.ERROR  # the failure became the polite apology, and nothing else
    return [(o.reply.heading + "\n" + o.text + "\n" + " ".join(c.label for c in o.choices)) for o in user.replies + admin.replies]


async def test_no_secret_in_logs_or_replies_and_no_user_text_at_info(
    config, knowledge, secret_env, caplog, monkeypatch
):
    cfg = replace(config, admin=replace(config.admin, chats=("telegram:1",)))
    app = build_app(cfg, knowledge)
    caplog.set_level(logging.DEBUG)
    try:
        replies = await _full_session(app, caplog, monkeypatch)
    finally:
        app.close()
    assert caplog.records, "nothing was logged: the test would prove nothing"
    everything = "\n".join(caplog.handler.format(r) for r in caplog.records)
    for name, secret in FAKE_SECRETS.items():
        assert secret not in everything, f"{name} appears in the logs"
        assert all(secret not in r for r in replies), f"{name} appears in a reply"
    loud = "\n".join(caplog.handler.format(r) for r in caplog.records if r.levelno >= logging.INFO)
    for marker in MARKERS:
        assert marker not in loud, f"user text {marker!r} logged at INFO or above"
    assert any(r.levelno >= logging.ERROR for r in caplog.records)  # the failure itself is logged …
    assert "ValueError" in loud  # … with its type and where it happened


def test_cli_session_logs_no_secret_and_no_user_text(tmp_path):
    env = {**os.environ, **FAKE_SECRETS}
    lines = "\n".join(t for t in USER_TEXTS if t) + "\n"
    for level in ("INFO", "DEBUG"):
        p = subprocess.run(  # a fresh database each time, so start-up has something to log at INFO
            [sys.executable, "-m", "bot", "console", "--db", str(tmp_path / f"{level}.db"), "--log-level", level],
            cwd=REPO, input=lines, capture_output=True, text=True, timeout=120, env=env,
        )
        assert p.returncode == 0, p.stderr
        for name, secret in FAKE_SECRETS.items():
            assert secret not in p.stderr and secret not in p.stdout, f"{name} leaked at {level}"
        assert p.stderr.strip(), f"{level} logging produced nothing: the check would prove nothing"
        if level == "INFO":
            for marker in MARKERS:
                assert marker not in p.stderr, marker


# Inputs that would change the look of a reply if a renderer used HTML or Markdown unescaped.
MARKUP = ["<b>tebal</b>", "*_[", "<a href='x'>klik</a>", "[x](http://contoh.invalid)", "`kode`"]


@pytest.mark.parametrize("markup", MARKUP)
async def test_core_replies_never_echo_user_markup(app, markup):
    """Replies are plain text built from our own strings: user input is not echoed back."""
    chat = FakeChat(app, "9")
    for text in (markup, f"apa itu bkad {markup}", f"/tanya {markup}", f"/mulai {markup}", f"/x{markup}"):
        for out in await chat.send(text):
            shown = [out.reply.heading, out.text, *(c.label for c in out.choices)]
            assert all(markup not in s for s in shown), (text, shown)


# == WhatsApp: the real `python -m bot whatsapp` process at DEBUG, signed deliveries, a fake Graph API ==
def _records_at_info_or_above(stderr: str) -> str:
    """The log records (with their continuation lines) of level INFO or above from CLI stderr."""
    keep, loud = [], False
    for line in stderr.splitlines():
        parts = line.split(" ", 3)
        if len(parts) >= 3 and parts[2] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            loud = parts[2] != "DEBUG"
        if loud:
            keep.append(line)
    return "\n".join(keep)


def test_whatsapp_process_logs_no_secret_and_no_user_text(tmp_path):
    import json
    import signal

    import httpx

    from tests.fake_graph import FakeGraph, _free_port
    from tests.wa_kit import PHONE_ID, fresh, sign

    graph = FakeGraph().start()
    port = _free_port()
    env = {**os.environ, **FAKE_SECRETS, "WHATSAPP_PHONE_ID": PHONE_ID, "WHATSAPP_API_BASE_URL": graph.url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "whatsapp", "--port", str(port), "--db", str(tmp_path / "wa.db"),
         "--log-level", "DEBUG"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        from tests.test_whatsapp_process import wait_ready

        wait_ready(base, proc)
        verify = FAKE_SECRETS["WHATSAPP_VERIFY_TOKEN"]
        for token in (verify, "salah"):
            httpx.get(f"{base}/webhook/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": token,
                                                          "hub.challenge": "77"})  # fmt: skip
        secret = FAKE_SECRETS["WHATSAPP_APP_SECRET"]
        texts_sent = [t for t in USER_TEXTS if t.strip()]
        for text in texts_sent:
            body = json.dumps(fresh("text_new", text=text)).encode()
            headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, secret)}
            assert httpx.post(f"{base}/webhook/whatsapp", content=body, headers=headers).status_code == 200
        body = json.dumps(fresh("text_new", text="penanda-delapan")).encode()
        forged = {"content-type": "application/json", "x-hub-signature-256": sign(body, "bukan-rahasia")}
        assert httpx.post(f"{base}/webhook/whatsapp", content=body, headers=forged).status_code == 403
        assert len(graph.wait_for(len(texts_sent))) >= len(texts_sent)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        stderr = proc.stderr.read()
    finally:
        reap(proc)
        graph.stop()
    assert " DEBUG " in stderr, "DEBUG logging produced nothing: the check would prove nothing"
    for name, value in FAKE_SECRETS.items():
        assert value not in stderr, f"{name} appears in the logs"
    loud = _records_at_info_or_above(stderr)
    for marker in MARKERS:
        assert marker not in loud, f"user text {marker!r} logged at INFO or above"


# == Telegram: a full webhook session with fake secrets, logs captured at DEBUG ==
async def test_telegram_session_logs_no_secret_and_no_user_text(config, knowledge, caplog):
    from bot.app import build_app
    from bot.settings import settings_from
    from bot.telegram import SECRET_HEADER
    from tests.fake_telegram import FakeBotAPI
    from tests.wa_kit import serving

    caplog.set_level(logging.DEBUG)
    fake = await FakeBotAPI(token=FAKE_SECRETS["TELEGRAM_BOT_TOKEN"]).start()
    secret = FAKE_SECRETS["TELEGRAM_WEBHOOK_SECRET"]
    app = build_app(settings_from(config, {**FAKE_SECRETS, "TELEGRAM_BASE_URL": fake.base_url}), knowledge,
                    channels=("telegram",))  # fmt: skip
    try:
        if True:
            async with serving(app, "http://pandu.test") as client:
                update_ids = iter(range(1, 1000))

                async def post(update: dict, header: str = secret) -> int:
                    body = {"update_id": next(update_ids), **update}
                    r = await client.post("/webhook/telegram", json=body, headers={SECRET_HEADER: header})
                    return r.status_code

                for text in [t for t in USER_TEXTS if t] + ["/usulan Jalan penanda-delapan"]:
                    before = len(fake.sent(55))
                    assert await post({"message": fake.user_message(55, text=text)}) == 200
                    await fake.wait_until(lambda before=before: len(fake.sent(55)) > before, "a reply")
                assert await post({"message": fake.user_message(55, text="penanda-satu")}, "salah") == 403
                fake.fail_next("sendMessage", 500, "Internal Server Error")  # a failing send is logged …
                assert await post({"message": fake.user_message(55, text="/bantuan")}) == 200
                await fake.wait_until(lambda: fake.called("sendMessage") and not fake.failures["sendMessage"], "x")
                await asyncio.sleep(0.3)
    finally:
        await fake.stop()
        app.close()
    everything = "\n".join(caplog.handler.format(r) for r in caplog.records)
    assert "httpx" in everything or "telegram" in everything, "nothing was logged: the test would prove nothing"
    for name, value in FAKE_SECRETS.items():
        assert value not in everything, f"{name} appears in the logs"
        assert FAKE_SECRETS["TELEGRAM_BOT_TOKEN"].split(":")[1] not in everything
    loud = "\n".join(caplog.handler.format(r) for r in caplog.records if r.levelno >= logging.INFO)
    for marker in MARKERS:
        assert marker not in loud, f"user text {marker!r} logged at INFO or above"


# == Renderers: user input that the core echoes on purpose (proposal names, answers) stays plain text ==
HOSTILE_NAME = "<b>Jalan</b> *_[ <script>x</script> `kode` &amp;"


async def _echoing_replies(app) -> list:
    """Replies of a real session that quote user input: the proposal name and a typed answer."""
    chat = FakeChat(app, "77", "telegram")
    outs = []
    for text in ["/usulan " + HOSTILE_NAME, "1", "1", "2", HOSTILE_NAME, "/status", "/ringkasan"]:
        outs += await chat.send(text)
    echoed = [o for o in outs if "<b>Jalan</b>" in o.reply.heading + o.text]
    assert len(echoed) >= 3, "the session no longer echoes the input: the test would prove nothing"
    return outs


async def test_telegram_html_escapes_every_echo_of_user_input(app):
    import html
    import re

    from bot.telegram import render_parts

    for out in await _echoing_replies(app):
        for part in render_parts(out.reply):
            tags = re.findall(r"<[^>]*>", part)
            assert set(tags) <= {"<b>", "</b>"}, tags  # only our own bold heading is markup
            assert "<script>" not in part and "<b>Jalan" not in part
        shown = html.unescape(re.sub(r"</?b>", "", "\n\n".join(render_parts(out.reply))))
        assert shown.replace("\n", "") == (
            (out.reply.heading + out.reply.text) if out.reply.heading else out.reply.text
        ).replace("\n", "")  # nothing the user typed is lost or altered on screen


async def test_whatsapp_headings_with_user_input_cannot_change_formatting(app):
    from bot.wa_render import render

    for out in await _echoing_replies(app):
        first = render(out)[0].text
        if out.reply.heading:
            heading = first.split("\n\n", 1)[0]
            assert heading.startswith("*") and heading.endswith("*")
            assert not any(ch in heading[1:-1] for ch in "*_~`"), heading
