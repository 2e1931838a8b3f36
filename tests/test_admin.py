"""Admin commands: /statistik and /muatulang work only for chats listed in config [admin] chats."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_app, load_knowledge
from bot.config import Config
from handlers import texts
from tests.conftest import REPO, FakeChat
from tests.reliability import assert_no_errors

ADMIN = "telegram:777"


@pytest.fixture
def admin_config(config: Config) -> Config:
    return replace(config, admin=replace(config.admin, chats=(ADMIN,)))


@pytest.fixture
def admin_app(admin_config, knowledge):
    a = build_app(admin_config, knowledge)
    yield a
    a.close()


@pytest.mark.parametrize("command", ["/statistik", "/muatulang", "/STATISTIK extra args"])
@pytest.mark.parametrize("who", [("telegram", "778"), ("whatsapp", "777"), ("test", "telegram:777")])
async def test_non_admins_get_the_ordinary_unknown_command_reply(admin_app, caplog, command, who):
    channel, chat_id = who
    chat = FakeChat(admin_app, chat_id, channel)
    kb_before = admin_app.knowledge
    await chat.send(command)
    name = command.split()[0][1:].lower()
    assert chat.text == texts.UNKNOWN_COMMAND.format(cmd="/" + name)
    await chat.send("/" + name + "x")  # a command that really does not exist: the same kind of reply
    assert chat.text == texts.UNKNOWN_COMMAND.format(cmd="/" + name + "x")
    assert admin_app.knowledge is kb_before
    assert_no_errors(caplog)


async def test_no_admins_by_default(app):
    chat = FakeChat(app, "777", "telegram")
    await chat.send("/statistik")
    assert chat.text == texts.UNKNOWN_COMMAND.format(cmd="/statistik")


async def test_admin_commands_are_not_advertised(admin_app):
    chat = FakeChat(admin_app, "1")
    await chat.send("/bantuan")
    assert "/statistik" not in chat.text and "/muatulang" not in chat.text


async def test_statistik_counts_chats_outcomes_and_top_unanswered(admin_app, caplog):
    users = [FakeChat(admin_app, str(i), "whatsapp") for i in range(3)]
    await users[0].send("apa itu bkad")  # answer
    await users[1].send("resep rendang padang")  # none
    await users[2].send("resep rendang padang")  # none
    await users[2].send("Resep rendang padang ")  # the same question, counted together
    await users[1].send("cara menanam padi")  # none
    await users[0].send("/usulan Jalan tani")
    admin = FakeChat(admin_app, "777", "telegram")
    await admin.send("/statistik")
    out = admin.text
    assert out.startswith(texts.STATS_HEADING)
    assert "Percakapan: 4 (aktif 4)" in out  # three users and the admin
    assert "telegram: 1, whatsapp: 3" in out
    assert "Usulan kerja sama: 1" in out
    assert "Pertanyaan tercatat: 5" in out
    counts = dict(re.findall(r"• ([a-z ]+): (\d+)", out))
    assert counts["dijawab"] == "1"
    assert int(counts["ditawari topik"]) + int(counts["di luar cakupan"]) == 4
    lines = out.split(texts.STATS_UNANSWERED, 1)[1].strip().splitlines()
    assert lines[:2] == ["1. resep rendang padang (3×)", "2. cara menanam padi (1×)"]
    assert "apa itu bkad" not in out  # answered questions are not "unanswered"
    assert_no_errors(caplog)


async def test_statistik_on_an_empty_database(admin_app):
    admin = FakeChat(admin_app, "777", "telegram")
    await admin.send("/statistik")
    assert "Pertanyaan tercatat: 0" in admin.text
    assert texts.STATS_NO_UNANSWERED in admin.text


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A private copy of the knowledge base that a test may edit."""
    target = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture
def reload_app(admin_config, kb_copy):
    cfg = replace(admin_config, knowledge=replace(admin_config.knowledge, path=str(kb_copy)))
    a = build_app(cfg, load_knowledge(cfg))
    yield a
    a.close()


def _edit_entry(kb_dir: Path, entry_id: str, old: str, new: str) -> None:
    path = kb_dir / "entries" / f"{entry_id}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


async def test_muatulang_reloads_without_restart(reload_app, kb_copy, caplog):
    user = FakeChat(reload_app, "5", "whatsapp")
    await user.send("apa itu bkad")
    entry = reload_app.knowledge.kb.by_id["bkad-pengertian"]
    assert entry.title in user.text
    _edit_entry(kb_copy, "bkad-pengertian", entry.title, "BKAD (judul baru)")
    await user.send("apa itu bkad")
    assert "BKAD (judul baru)" not in user.text  # not before the reload
    admin = FakeChat(reload_app, "777", "telegram")
    await admin.send("/muatulang")
    n = len(reload_app.knowledge.kb.entries)
    assert admin.text == texts.RELOAD_OK.format(
        version=reload_app.knowledge.kb.version, date=reload_app.knowledge.kb.date, entries=n
    )
    await user.send("apa itu bkad")
    assert "BKAD (judul baru)" in user.text
    assert_no_errors(caplog)


@pytest.mark.parametrize(
    "breakage",
    [
        ("bkad-pengertian", 'id = "bkad-pengertian"', 'id = "bkad-pengertian'),  # not valid TOML
        ("bkad-pengertian", "Pasal 144", "Pasal 9999"),  # a citation the sources do not have
    ],
    ids=["bad-toml", "bad-citation"],
)
async def test_muatulang_refuses_a_broken_kb_and_keeps_the_old_one(reload_app, kb_copy, caplog, breakage):
    old = reload_app.knowledge
    user = FakeChat(reload_app, "5", "whatsapp")
    await user.send("apa itu bkad")
    answer_before = user.text
    _edit_entry(kb_copy, *breakage)
    admin = FakeChat(reload_app, "777", "telegram")
    await admin.send("/muatulang")
    assert admin.text.startswith(texts.RELOAD_REFUSED.split("{")[0])
    assert f"versi {old.kb.version}" in admin.text
    assert "bkad-pengertian" in admin.text  # the admin sees what is wrong
    assert reload_app.knowledge is old
    await user.send("apa itu bkad")
    assert user.text == answer_before
    assert_no_errors(caplog)


async def test_muatulang_refuses_a_missing_folder(reload_app, kb_copy):
    old = reload_app.knowledge
    shutil.rmtree(kb_copy)
    admin = FakeChat(reload_app, "777", "telegram")
    await admin.send("/muatulang")
    assert admin.text.startswith(texts.RELOAD_REFUSED.split("{")[0])
    assert reload_app.knowledge is old
