"""Test kit for the delivery guarantees: a bot process on a config of its own, and a load of signed deliveries."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.wa_kit import ENV as WA_ENV
from tests.wa_kit import fresh, sign

REPO = Path(__file__).resolve().parent.parent


def write_config(directory: Path, **delivery: float) -> Path:
    """A config file in `directory` (the real knowledge base; delivery settings for quick retries)."""
    lines = ["[knowledge]", f'path = "{REPO / "knowledge"}"', "", "[delivery]"]
    values = {"retry_first_s": 0.2, "retry_max_s": 2.0, "confirm_wait_s": 5.0, **delivery}
    lines += [f"{k} = {v}" for k, v in values.items()]
    path = directory / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class BotProcess:
    """`python -m bot <command> --port P --db DB --config C` with a log file; killed for good at the end."""

    def __init__(self, command: str, db: Path, config: Path, port: int, env: dict[str, str], log: Path):
        self.args = [sys.executable, "-m", "bot", command, "--port", str(port), "--db", str(db),
                     "--config", str(config), "--log-level", "INFO"]  # fmt: skip
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "TELEGRAM_"))}, **env}
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc: subprocess.Popen | None = None

    async def start(self, timeout: float = 60) -> "BotProcess":
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)  # fmt: skip
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"bot exited early: {self.log.read_text()[-2000:]}")
                try:
                    if (await client.get(f"{self.base}/healthz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("bot did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        """SIGTERM (clean stop); the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return -9

    def reap(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@dataclass
class Load:
    """Deliveries by user, each with a marker its reply names; what each attempt got."""

    bodies: dict[str, list[tuple[str, bytes]]]  # user → [(marker, body)]
    acked: set[str] = field(default_factory=set)  # markers whose delivery got 200
    refused: set[str] = field(default_factory=set)  # markers whose delivery got no 200 (resent later)

    @property
    def markers(self) -> list[str]:
        return [m for items in self.bodies.values() for m, _ in items]


def wa_load(users: int, per_user: int) -> Load:
    """Signed-ready WhatsApp deliveries: each user starts proposals named D<user>-<n> (the reply repeats it)."""
    bodies: dict[str, list[tuple[str, bytes]]] = {}
    for u in range(users):
        wa_id, bsuid = f"62812{u:07d}", f"ID.{7000000000 + u}"
        items = []
        for n in range(per_user):
            marker = f"D{u:03d}x{n:03d}"
            payload = fresh("text_new", text=f"/usulan {marker}")
            value = payload["entry"][0]["changes"][0]["value"]
            value["contacts"][0].update(wa_id=wa_id, user_id=bsuid)
            value["messages"][0].update({"from": wa_id, "from_user_id": bsuid})
            items.append((marker, json.dumps(payload).encode()))
        bodies[wa_id] = items
    return Load(bodies)


async def post_wa(client: httpx.AsyncClient, base: str, body: bytes) -> int:
    """POST one signed delivery; the HTTP status, or 0 when the connection failed."""
    headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, WA_ENV["WHATSAPP_APP_SECRET"])}
    try:
        return (await client.post(f"{base}/webhook/whatsapp", content=body, headers=headers)).status_code
    except httpx.HTTPError:
        return 0


async def run_load(load: Load, post, stop_after: float | None = None, on_stop=None) -> None:
    """Each user posts its deliveries one after another (users side by side); a user stops at its first refusal.

    After `stop_after` seconds, or once half the deliveries are acknowledged if that comes first, `on_stop()`
    runs (e.g. kill -9 the bot): deliveries in flight then fail.
    """

    async def user(items: list[tuple[str, bytes]]) -> None:
        for i, (marker, body) in enumerate(items):
            status = await post(body)
            if status != 200:
                load.refused.update(m for m, _ in items[i:])  # the platform resends this and everything after
                return
            load.acked.add(marker)

    tasks = [asyncio.create_task(user(items)) for items in load.bodies.values()]
    if stop_after is not None:
        deadline = time.monotonic() + stop_after
        while time.monotonic() < deadline and len(load.acked) < len(load.markers) // 2:
            await asyncio.sleep(0.01)
        on_stop()
    await asyncio.wait_for(asyncio.gather(*tasks), 120)


async def resend(load: Load, post) -> None:
    """The platform resends every unacknowledged delivery, each user's in order; all must get 200 now."""

    async def user(items: list[tuple[str, bytes]]) -> None:
        for marker, body in items:
            if marker in load.refused:
                assert await post(body) == 200, marker
                load.acked.add(marker)

    await asyncio.wait_for(asyncio.gather(*(user(items) for items in load.bodies.values())), 120)


async def eventually(predicate, what: str, timeout: float = 90, describe=None) -> None:
    """Wait (bounded) until predicate() is true; on a timeout, describe() says what is missing."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {describe() if describe else ''}")
        await asyncio.sleep(0.1)
