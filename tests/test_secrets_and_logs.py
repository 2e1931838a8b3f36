"""Secrets never reach logs or replies; user message text is not logged at INFO or above; no markup echo."""

from __future__ import annotations

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
