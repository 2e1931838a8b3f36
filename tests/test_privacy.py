"""Privacy and access: a chat never reaches another chat's data; deleting a chat leaves nothing."""

from __future__ import annotations

from pathlib import Path

from handlers import texts
from handlers.messages import Inbound
from tests.conftest import FakeChat
from tests.reliability import assert_no_errors, integrity, rows_mentioning

VICTIM_ID = "korban-8812"
SECRET_QUESTION = "pertanyaan pribadi desa sukamakmur zxq"


async def _full_session(app, chat_id: str, question: str) -> FakeChat:
    chat = FakeChat(app, chat_id, "telegram")
    await chat.send("/mulai")
    await chat.tap(texts.MENU_ASK)
    await chat.send("apa itu bkad")
    await chat.tap(texts.EXCERPT_BUTTON)
    await chat.send(question)
    await chat.send("resep rendang")
    app.storage.set_state(f"telegram:{chat_id}", "probe", {"nama_desa": f"Desa {chat_id}", "step": 2})
    return chat


def _needles(app, chat_id: str, question: str) -> list[str]:
    key = f"telegram:{chat_id}"
    return [key, chat_id, app.storage.chat_hash(key), question, f"Desa {chat_id}"]


async def test_a_chats_button_tokens_do_nothing_in_another_chat(app, caplog):
    victim = await _full_session(app, VICTIM_ID, SECRET_QUESTION)
    attacker = FakeChat(app, "penyerang", "telegram")
    await attacker.send("/mulai")
    tokens = [t for out in victim.replies for t in out.choice_tokens]
    assert len(tokens) >= 8
    for token in tokens:
        outs = await attacker.tap_token(token)
        assert [o.text for o in outs] == [texts.EXPIRED]
    # the same id on another channel is another chat, too
    for token in tokens:
        outs = await app.handle(Inbound("whatsapp", VICTIM_ID, "", choice=token, kind="choice"))
        assert [o.text for o in outs] == [texts.EXPIRED]
    assert app.storage.get_state(f"telegram:{VICTIM_ID}") == ("probe", {"nama_desa": f"Desa {VICTIM_ID}", "step": 2})
    assert_no_errors(caplog)


async def test_typed_numbers_use_only_the_own_chats_menu(app):
    await _full_session(app, VICTIM_ID, SECRET_QUESTION)
    stranger = FakeChat(app, "orang-lain", "telegram")
    await stranger.send("1")  # no menu of its own yet: a question, not the victim's button
    assert texts.EXCERPT_HEADING not in stranger.text
    assert SECRET_QUESTION not in stranger.text


async def test_delete_chat_leaves_nothing_in_any_table_or_in_the_file(app, config):
    await _full_session(app, VICTIM_ID, SECRET_QUESTION)
    await _full_session(app, "tetangga-5", "pertanyaan tetangga yang tetap ada")
    needles = _needles(app, VICTIM_ID, SECRET_QUESTION)
    assert len(rows_mentioning(app.storage, needles)) >= 4  # chats, menus, chat_state, question_log

    counts = app.storage.delete_chat(f"telegram:{VICTIM_ID}")
    assert counts["question_log"] == 3 and counts["chats"] == 1 and counts["chat_state"] == 1

    assert rows_mentioning(app.storage, needles) == []
    # nothing left in the bytes on disk either: deleted rows are overwritten and the WAL emptied
    raw = b"".join(p.read_bytes() for p in Path(config.db_path).parent.glob("pandu.db*"))
    for needle in needles:
        assert needle.encode() not in raw, needle
    # the neighbour keeps everything
    neighbour = _needles(app, "tetangga-5", "pertanyaan tetangga yang tetap ada")[:4]
    assert all(rows_mentioning(app.storage, [n]) for n in neighbour)
    assert app.storage.get_state("telegram:tetangga-5")[0] == "probe"
    assert integrity(app.storage) == "ok"


async def test_after_deletion_the_chat_starts_afresh(app):
    victim = await _full_session(app, VICTIM_ID, SECRET_QUESTION)
    old_tokens = [t for out in victim.replies for t in out.choice_tokens]
    app.storage.delete_chat(f"telegram:{VICTIM_ID}")
    outs = await victim.tap_token(old_tokens[-1])
    assert [o.text for o in outs] == [texts.EXPIRED]
    assert app.storage.get_state(f"telegram:{VICTIM_ID}") == ("", {})
