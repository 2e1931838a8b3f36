"""Shared fixtures: a real config, the real knowledge base, a real SQLite file, a fake chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App, Knowledge, build_app, load_knowledge
from bot.config import Config, load_config
from handlers.messages import Inbound, Outbound
from tests.fake_graph import FakeGraph
from tests.fake_telegram import FakeBotAPI

REPO = Path(__file__).resolve().parent.parent
# A copy of shared/eval/dev-questions.jsonl, so the suite runs from a clone alone.
DEV_QUESTIONS = REPO / "tests" / "data" / "dev-questions.jsonl"


@pytest.fixture(scope="session")
def base_config() -> Config:
    return load_config(REPO / "config.toml")


@pytest.fixture(scope="session")
def knowledge(base_config: Config) -> Knowledge:
    return load_knowledge(base_config)


@pytest.fixture
def config(base_config: Config, tmp_path: Path) -> Config:
    return base_config.with_db(str(tmp_path / "pandu.db"))


@pytest.fixture
def app(config: Config, knowledge: Knowledge):
    a = build_app(config, knowledge)
    yield a
    a.close()


class FakeChat:
    """A user in a fake channel: sends text, taps buttons by label, and records every reply."""

    def __init__(self, app: App, chat_id: str = "u1", channel: str = "test"):
        self.app = app
        self.chat_id = chat_id
        self.channel = channel
        self.replies: list[Outbound] = []
        self.last: list[Outbound] = []

    async def send(self, text: str) -> list[Outbound]:
        return await self._deliver(Inbound(self.channel, self.chat_id, text))

    async def tap(self, label: str) -> list[Outbound]:
        """Tap the button with this label among the most recent replies that have buttons."""
        for out in reversed(self.last or self.replies):
            for choice, token in zip(out.choices, out.choice_tokens):
                if choice.label == label:
                    return await self.tap_token(token)
        raise AssertionError(f"no button {label!r} in {[c.label for o in self.last for c in o.choices]}")

    async def tap_token(self, token: str) -> list[Outbound]:
        return await self._deliver(Inbound(self.channel, self.chat_id, "", choice=token, kind="choice"))

    async def _deliver(self, msg: Inbound) -> list[Outbound]:
        self.last = await self.app.handle(msg)
        self.replies.extend(self.last)
        return self.last

    @property
    def text(self) -> str:
        """All text of the most recent replies, joined."""
        return "\n".join((o.reply.heading + "\n" + o.text).strip() for o in self.last)

    @property
    def labels(self) -> list[str]:
        return [c.label for o in self.last for c in o.choices]


@pytest.fixture
def chat(app: App) -> FakeChat:
    return FakeChat(app)


@pytest.fixture(scope="module")
def graph_server():
    """A fake Graph API on 127.0.0.1, one per test module."""
    server = FakeGraph().start()
    yield server
    server.stop()


@pytest.fixture
def graph(graph_server: FakeGraph) -> FakeGraph:
    """The module's fake Graph API, cleared for this test."""
    graph_server.clear()
    return graph_server


@pytest.fixture
async def fake():
    """A fake Telegram Bot API on 127.0.0.1 for one test."""
    server = await FakeBotAPI().start()
    yield server
    await server.stop()
