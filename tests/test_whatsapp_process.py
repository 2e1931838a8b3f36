"""End to end: the real `python -m bot whatsapp` process, signed HTTP deliveries, a fake Graph API."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fake_graph import FakeGraph, _free_port, message_text
from tests.wa_kit import ENV, VERIFY_TOKEN, fresh, sign
from tests.procs import reap

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def graph():
    server = FakeGraph().start()
    yield server
    server.stop()


def start_bot(tmp_path: Path, graph: FakeGraph, port: int) -> subprocess.Popen:
    env = {**os.environ, **ENV, "WHATSAPP_API_BASE_URL": graph.url}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "whatsapp", "--port", str(port), "--db", str(tmp_path / "wa.db")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"bot exited early: {proc.communicate()[1]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("bot did not start")


def test_process_verifies_rejects_forgery_answers_and_stops_on_sigterm(tmp_path, graph):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_bot(tmp_path, graph, port)
    try:
        wait_ready(base, proc)
        r = httpx.get(f"{base}/webhook/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                                          "hub.challenge": "8421"})  # fmt: skip
        assert (r.status_code, r.text) == (200, "8421")

        body = json.dumps(fresh("text_new", text="kerja sama antar desa dituangkan dalam apa")).encode()
        headers = {"content-type": "application/json"}
        forged = httpx.post(f"{base}/webhook/whatsapp", content=body,
                            headers={**headers, "x-hub-signature-256": sign(body, "wrong")})  # fmt: skip
        assert forged.status_code == 403

        ok = httpx.post(f"{base}/webhook/whatsapp", content=body, headers={**headers, "x-hub-signature-256": sign(body)})
        assert ok.status_code == 200
        sent = graph.wait_for(1)
        assert len(sent) == 1  # only the signed delivery was answered
        assert sent[0]["to"] == "6281234567890"
        assert "Permendagri 96/2017 Pasal 3" in message_text(sent[0])

        proc.send_signal(signal.SIGTERM)
        start = time.monotonic()
        rc = proc.wait(timeout=10)
        assert time.monotonic() - start < 5
        assert rc == 0
        stderr = proc.stderr.read()
        assert "Traceback" not in stderr
        for secret in (ENV["WHATSAPP_TOKEN"], ENV["WHATSAPP_APP_SECRET"]):
            assert secret not in stderr
    finally:
        reap(proc)


def test_missing_setting_stops_start_up_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATSAPP_")}
    env.update({k: v for k, v in ENV.items() if k != "WHATSAPP_VERIFY_TOKEN"})
    p = subprocess.run([sys.executable, "-m", "bot", "whatsapp", "--db", str(tmp_path / "x.db")],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "WHATSAPP_VERIFY_TOKEN" in p.stderr


def test_serve_without_any_channel_is_an_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "TELEGRAM_"))}
    p = subprocess.run([sys.executable, "-m", "bot", "serve", "--db", str(tmp_path / "x.db")],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert p.returncode == 2
    assert "no webhook channel is configured" in p.stderr
