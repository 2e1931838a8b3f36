"""`python -m bot telegram` as a real process against the fake Bot API: what an operator runs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


from handlers import texts
from tests.fake_graph import FakeGraph, _free_port, message_text
from tests.fake_telegram import TOKEN, FakeBotAPI, TelegramUser
from tests.wa_kit import ENV as WA_ENV
from tests.wa_kit import fresh, sign

REPO = Path(__file__).resolve().parent.parent


def bot_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(extra)
    return env


async def start_bot(fake: FakeBotAPI, db: Path, log: Path, *args: str) -> asyncio.subprocess.Process:
    env = bot_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=fake.base_url)
    with log.open("wb") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "telegram", "--db", str(db), "--poll-timeout", "1", *args,
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


async def stopped(proc: asyncio.subprocess.Process, sig: int) -> int:
    """Send a signal; the process must exit on its own within a few seconds."""
    proc.send_signal(sig)
    try:
        return await asyncio.wait_for(proc.wait(), 10)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("the bot did not stop within 10 seconds") from None


async def test_process_answers_menu_question_and_button_then_stops_on_sigterm(fake, tmp_path):
    log = tmp_path / "stderr.txt"
    proc = await start_bot(fake, tmp_path / "x.db", log, "--log-level", "INFO")
    try:
        await fake.wait_until(lambda: fake.called("getUpdates"), "the bot to poll")
        user = TelegramUser(fake, 42)
        [menu] = await user.send("/mulai")
        assert [label for label, _ in menu.buttons] == [texts.MENU_ASK, texts.MENU_PROPOSAL, texts.MENU_HELP]
        [answer] = await user.send("apa itu bkad")
        assert "PP 43/2014 Pasal 144" in answer.text
        [pasal] = await user.tap(texts.EXCERPT_BUTTON)
        assert "badan kerja sama antar-Desa" in pasal.text
    finally:
        rc = await stopped(proc, signal.SIGTERM)
    stderr = log.read_text()
    assert rc == 0, stderr
    assert "Traceback" not in stderr
    assert "is polling" in stderr  # INFO lines are there …
    assert TOKEN not in stderr and "ABC" not in stderr  # … but never the token
    assert "apa itu bkad" not in stderr  # nor what the user typed


async def test_process_stops_on_sigint(fake, tmp_path):
    log = tmp_path / "stderr.txt"
    proc = await start_bot(fake, tmp_path / "x.db", log)
    await fake.wait_until(lambda: fake.called("getUpdates"), "the bot to poll")
    assert await stopped(proc, signal.SIGINT) == 0, log.read_text()


async def test_refused_token_is_one_line_without_the_token(fake, tmp_path):
    env = bot_env(TELEGRAM_BOT_TOKEN="999:WRONGtoken", TELEGRAM_BASE_URL=fake.base_url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", "--db", str(tmp_path / "x.db"),
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    stderr = err.decode()
    assert proc.returncode == 2
    assert stderr.count("\n") == 1 and stderr.startswith("error:") and "refused" in stderr
    assert "WRONGtoken" not in stderr


async def test_serve_runs_the_telegram_webhook_next_to_whatsapp(fake, tmp_path):
    graph = await asyncio.to_thread(FakeGraph().start)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = bot_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=fake.base_url, TELEGRAM_WEBHOOK_SECRET="rahasia-1",
                  TELEGRAM_WEBHOOK_URL="https://pandu.example/webhook/telegram", **WA_ENV,
                  WHATSAPP_API_BASE_URL=graph.url)  # fmt: skip
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--port", str(port), "--db", str(tmp_path / "x.db"),
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    try:
        [hook] = await fake.wait_until(lambda: fake.called("setWebhook"), "setWebhook")
        assert hook.params["secret_token"] == "rahasia-1"
        update = {"update_id": 5, "message": fake.user_message(42, text="apa itu bkad")}
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            for _ in range(100):  # the webhook is registered before uvicorn listens
                try:
                    await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            r = await client.post("/webhook/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "x"})
            assert r.status_code == 403
            r = await client.post("/webhook/telegram", json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": "rahasia-1"})  # fmt: skip
            assert r.status_code == 200
            [answer] = await fake.wait_until(lambda: fake.sent(42), "the Telegram answer")
            assert "PP 43/2014 Pasal 144" in answer.text
            body = json.dumps(fresh("text_new", text="apa itu bkad")).encode()
            headers = {"content-type": "application/json", "x-hub-signature-256": sign(body)}
            r = await client.post("/webhook/whatsapp", content=body, headers=headers)
            assert r.status_code == 200
            [sent] = await asyncio.to_thread(graph.wait_for, 1)
            assert "PP 43/2014 Pasal 144" in message_text(sent)
    finally:
        rc = await stopped(proc, signal.SIGTERM)
        await asyncio.to_thread(graph.stop)
    stderr = log.read_text()
    assert rc == 0, stderr
    assert TOKEN not in stderr and "rahasia-1" not in stderr
    assert len(fake.sent(42)) == 1  # the update with the wrong secret was dropped


def test_unreachable_server_exits_1_so_a_service_manager_retries(tmp_path):
    port = _free_port()  # closed again: nothing listens there
    env = bot_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=f"http://127.0.0.1:{port}/bot")
    p = subprocess.run(
        [sys.executable, "-m", "bot", "telegram", "--db", str(tmp_path / "x.db")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and "cannot reach the Bot API" in p.stderr
    assert TOKEN not in p.stderr


@pytest.mark.parametrize(
    ("token", "message"), [(None, "TELEGRAM_BOT_TOKEN is not set"), ("not-a-token", "TELEGRAM_BOT_TOKEN is malformed")]
)
def test_missing_or_malformed_token_is_one_line(tmp_path, token, message):
    env = bot_env() if token is None else bot_env(TELEGRAM_BOT_TOKEN=token)
    p = subprocess.run(
        [sys.executable, "-m", "bot", "telegram", "--db", str(tmp_path / "x.db")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and message in p.stderr
    assert "Traceback" not in p.stderr
    if token:
        assert token not in p.stderr
    assert not (tmp_path / "x.db").exists()  # nothing was created before the check


@pytest.mark.parametrize("token", ["", "   ", "123:has spaces", "abc:DEF", "123456:", ":ABC", "123:ABC\nX"])
def test_read_token_rejects_bad_shapes(token):
    from bot.telegram import TelegramSetupError, read_token

    with pytest.raises(TelegramSetupError) as err:
        read_token(token.strip() or None)
    assert token.strip() == "" or token not in str(err.value)


async def test_serve_with_a_refused_token_stops_with_short_lines_and_no_traceback(fake, tmp_path):
    env = bot_env(TELEGRAM_BOT_TOKEN="999:WRONGtoken", TELEGRAM_BASE_URL=fake.base_url,
                  TELEGRAM_WEBHOOK_SECRET="rahasia-2")  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--port", str(_free_port()), "--db", str(tmp_path / "x.db"),
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    stderr = err.decode()
    assert proc.returncode != 0
    assert "Traceback" not in stderr, stderr
    assert "channel telegram failed to start" in stderr
    assert "WRONGtoken" not in stderr and "rahasia-2" not in stderr
