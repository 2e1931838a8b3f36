"""Privacy and access: a chat never reaches another chat's data; deleting a chat leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage import StorageError

from handlers.focus import Focus
from handlers import checklist_texts as t
from handlers import texts
from handlers.messages import Inbound
from tests.conftest import FakeChat
from handlers import router
from handlers.context import Context
from tests.reliability import CHECKLIST_TO_CONFIRM_STEP, assert_no_errors, integrity, proposal_state, rows_mentioning, snapshot

VICTIM_ID = "korban-8812"
SECRET_QUESTION = "pertanyaan pribadi desa sukamakmur zxq"


async def _full_session(app, chat_id: str, question: str) -> FakeChat:
    """Questions, buttons, and a proposal named after the chat with answers, left waiting at a step."""
    chat = FakeChat(app, chat_id, "telegram")
    await chat.send("/mulai")
    await chat.tap(texts.MENU_ASK)
    await chat.send("apa itu bkad")
    await chat.tap(texts.EXCERPT_BUTTON)
    await chat.send(question)
    await chat.send("resep rendang")
    steps = list(CHECKLIST_TO_CONFIRM_STEP)
    steps[1] = f"Usulan {chat_id}"  # the proposal name
    steps[-1] = f"Desa {chat_id}"  # a partner village
    for text in steps:
        await chat.send(text)
    await chat.send("1")  # Sudah
    return chat


def _needles(app, chat_id: str, question: str) -> list[str]:
    key = f"telegram:{chat_id}"
    return [key, chat_id, app.storage.chat_hash(key), question, f"Desa {chat_id}", f"Usulan {chat_id}"]


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
    mentioned = {row.split(":")[0] for row in rows_mentioning(app.storage, needles)}
    assert {"chats", "menus", "chat_focus", "question_log", "proposals", "proposal_answers"} <= mentioned

    victim = FakeChat(app, VICTIM_ID, "telegram")
    await victim.send("/hapus")
    await victim.tap(t.DELETE_YES)
    assert victim.text == t.DELETED

    assert rows_mentioning(app.storage, needles) == []
    # nothing left in the bytes on disk either: deleted rows are overwritten and the WAL emptied
    raw = b"".join(p.read_bytes() for p in Path(config.db_path).parent.glob("pandu.db*"))
    for needle in needles:
        assert needle.encode() not in raw, needle
    # the neighbour keeps everything
    neighbour = _needles(app, "tetangga-5", "pertanyaan tetangga yang tetap ada")[:4]
    assert all(rows_mentioning(app.storage, [n]) for n in neighbour)
    assert Focus.from_json(app.storage.get_focus("telegram:tetangga-5")).guide is not None
    assert proposal_state(app.storage, "telegram:tetangga-5")[1]
    assert integrity(app.storage) == "ok"


async def test_after_deletion_the_chat_starts_afresh(app):
    victim = await _full_session(app, VICTIM_ID, SECRET_QUESTION)
    old_tokens = [tok for out in victim.replies for tok in out.choice_tokens]
    await victim.send("/hapus")
    await victim.send("1")  # typed confirmation
    assert victim.text == t.DELETED
    for token in old_tokens[-5:]:
        outs = await victim.tap_token(token)
        assert [o.text for o in outs] == [texts.EXPIRED]
    assert app.storage.get_focus(f"telegram:{VICTIM_ID}") is None
    await victim.send("/status")
    assert victim.text == t.NO_PROPOSAL


async def test_no_payload_reaches_another_chats_proposal(app, caplog):
    """Even a forged payload (users only ever send short tokens) cannot cross chats with a proposal id."""
    await _full_session(app, VICTIM_ID, SECRET_QUESTION)
    victim_key = f"telegram:{VICTIM_ID}"
    pid = app.storage.active_proposal(victim_key)
    step, answers = proposal_state(app.storage, victim_key)
    rev = app.storage.load_proposal(victim_key, pid)[0]["revision"]
    before = snapshot(app.storage, victim_key)
    attacker = FakeChat(app, "penyerang", "telegram")
    await attacker.send("/usulan Punya saya")
    await attacker.send("/hapus")  # the attacker's own confirmation is pending too
    payloads = [f"usl:o:{pid}", f"usl:w:{pid}:{step}", f"usl:d:{pid}", f"usl:r:{pid}", f"usl:st:{pid}",
                f"usl:e:{pid}:{rev}:persiapan", f"usl:g:{pid}:{rev}:{step}", f"usl:s:{pid}:{rev}:{step}",
                f"usl:a:{pid}:{rev}:{step}:sudah", f"usl:a:{pid}:{rev}:{step}:belum"]  # fmt: skip
    for payload in payloads:
        replies = await router.dispatch_payload(Context(app, Inbound("telegram", "penyerang")), payload)
        shown = " ".join(r.heading + r.text + " ".join(c.label for c in r.choices) for r in replies)
        assert replies[0].text in (texts.EXPIRED, t.STALE), payload
        assert f"Usulan {VICTIM_ID}" not in shown and f"Desa {VICTIM_ID}" not in shown
    assert snapshot(app.storage, victim_key) == before
    assert proposal_state(app.storage, victim_key) == (step, answers)
    assert_no_errors(caplog)


def test_storage_never_writes_into_another_chats_proposal(app):
    a = app.storage.create_proposal("test:a")
    app.storage.save_proposal("test:a", {"id": a, "name": "A", "flow": "", "outcome": "", "at": "step", "current": "x",
                                         "revision": 1, "triage": {}}, {"s1": ("sudah", "")})  # fmt: skip
    forged = {"id": a, "name": "B", "flow": "", "outcome": "", "at": "step", "current": "y", "revision": 9, "triage": {}}
    with pytest.raises(StorageError, match="does not belong"):
        app.storage.save_proposal("test:b", forged, {"s1": ("belum", ""), "s2": ("value", "dari B")})
    data, answers = app.storage.load_proposal("test:a", a)
    assert (data["name"], data["current"], answers) == ("A", "x", {"s1": ("sudah", "")})
    assert app.storage.load_proposal("test:b", a) is None


# == WhatsApp: deleting a chat leaves no trace of the user's phone number, not even inside message ids ==
def _realistic_wamid(phone: str, n: int) -> str:
    """A message id shaped like Meta's: base64 of a small header, the sender's number and a random part."""
    import base64

    raw = b"\x1c\x18\r" + phone.encode() + b"\x15\x02\x00\x12\x18\x16" + f"3EB0{n:018d}".encode() + b"\x00"
    return "wamid." + base64.b64encode(raw).decode()


def _decoded_values(storage) -> list[bytes]:
    """Every stored value, plus the base64 decoding of every base64-looking piece of it."""
    import base64
    import re

    out = []
    for table in storage.db.table_names():
        for row in storage.db.execute(f"SELECT * FROM [{table}]").fetchall():
            for value in row:
                text = str(value)
                out.append(text.encode())
                for piece in re.findall(r"[A-Za-z0-9+/]{16,}={0,2}", text):
                    try:
                        out.append(base64.b64decode(piece + "=" * (-len(piece) % 4)))
                    except ValueError:
                        pass
    return out


async def test_whatsapp_chat_deletion_leaves_no_phone_number(app):
    from tests.fake_graph import FakeGraph, message_text
    from tests.wa_kit import add_whatsapp, fresh, post, serving, the_message

    phone = "6281234567890"  # the sender of the "old" fixtures (no business-scoped user id)
    graph = FakeGraph().start()
    add_whatsapp(app, graph.url)
    try:
        async with serving(app) as client:
            said = ["/mulai", "apa itu bkad", SECRET_QUESTION, "/usulan Usulan rahasia", "/hapus", "1"]
            for n, text in enumerate(said):
                if text == "/hapus":
                    keys = [r[0] for r in app.storage.db.execute("SELECT chat_key FROM chats")]
                    assert app.storage.active_proposal(keys[0]) is not None
                payload = fresh("text_old", text=text)
                the_message(payload)["id"] = _realistic_wamid(phone, n)
                assert (await post(client, payload)).status_code == 200
    finally:
        graph.stop()
    assert message_text(graph.sent()[-1]) == t.DELETED, [message_text(b)[:50] for b in graph.sent()]
    assert len(keys) == 1 and phone not in keys[0]  # the chat key is a salted hash, never the number
    leftovers = [v for v in _decoded_values(app.storage)
                 if phone.encode() in v or SECRET_QUESTION.encode() in v or b"Usulan rahasia" in v]  # fmt: skip
    assert leftovers == []
    assert rows_mentioning(app.storage, [keys[0]]) == []
