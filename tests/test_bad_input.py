"""Bad input, table-driven: every case gets a short polite reply, nothing escapes, nothing is lost.

The same table runs through the core (App.handle) and through each channel that exists.
"""

from __future__ import annotations

import logging

import pytest

from bot.app import App
from bot.storage import MENUS_KEPT
from handlers import texts
from handlers.messages import Inbound
from tests.conftest import FakeChat
from tests.reliability import assert_db_intact, assert_no_errors, snapshot

# (id, text, the reply it must get: a handlers.texts template's fixed start, or None for "any polite reply")
TEXT_CASES = [
    ("empty", "", texts.EMPTY),
    ("whitespace", "   \n\t  \n", texts.EMPTY),
    ("huge", "kerja sama desa " * 1250, texts.TOO_LONG.split("(")[0]),  # 20,000 characters
    ("huge-one-word", "a" * 20000, texts.TOO_LONG.split("(")[0]),
    ("huge-invisible", "\u200b" * 20000, texts.EMPTY),
    ("emoji", "🙏🏽👍😀🇮🇩", None),
    ("emoji-huge", "😀" * 20000, texts.TOO_LONG.split("(")[0]),
    ("zero-width", "\u200b\u200c\u200d\ufeff\u2060", texts.EMPTY),
    ("control", "\x01\x02\x07\x1b\x7f\x9b", texts.EMPTY),
    ("nul-only", "\x00\x00\x00", texts.EMPTY),
    ("nul-inside", "apa itu\x00 bkad", None),
    ("ansi", "\x1b[31mmerah\x1b[0m", None),
    ("lone-surrogate", "\ud800\udfff\ud83d", texts.EMPTY),
    ("rtl-arabic", "مرحبا، كيف حالك؟", None),
    ("rtl-override", "\u202eapa itu bkad\u202c", None),
    ("rtl-hebrew", "שלום עולם", None),
    ("sql-drop", "'; DROP TABLE chats; --", None),
    ("sql-or", "1' OR '1'='1", None),
    ("sql-bobby", "Robert'); DROP TABLE question_log;--", None),
    ("html-bold", "<b>tebal</b>", None),
    ("html-script", "<script>alert(1)</script>", None),
    ("markdown", "*_[", None),
    ("markdown-link", "[klik](http://contoh.invalid) `kode` ~~coret~~ ||rahasia||", None),
    ("format-string", "{0} {n} %s %d {max!r}", None),
    ("unknown-command", "/terbang", texts.UNKNOWN_COMMAND.split("{")[0]),
    ("command-like-html", "/b<b>x</b>", None),
    ("unknown-command-long", "/" + "x" * 3000, texts.UNKNOWN_COMMAND.split("{")[0]),
    ("command-other-bot", "/mulai@BotLain", texts.GREETING[:20]),
    ("command-garbage-args", "/mulai ;;; <b> *_[ \x00 DROP", texts.GREETING[:20]),
    ("help-garbage-args", "/bantuan " + "%" * 3000, "Cara memakai"),
    ("ask-garbage-args", "/tanya '; DROP TABLE menus; --", None),
    ("ask-huge-args", "/tanya " + "bkad " * 700, texts.TOO_LONG.split("(")[0]),
    ("slash-only", "/", None),
    ("slash-digits", "/123", None),
    ("superscript-digit", "²", None),
    ("arabic-digit", "٣", None),
    ("fullwidth-digit", "３", None),
    ("negative-number", "-1", None),
]

POLITE_STARTS = (
    texts.EMPTY,
    texts.TOO_LONG.split("(")[0],
    texts.UNKNOWN_COMMAND.split("{")[0],
    texts.OUT_OF_RANGE.split("{")[0],
    texts.EXPIRED,
    texts.NOT_FOUND[:40],
    texts.SUGGEST,
    texts.GREETING_SHORT,
    texts.GREETING[:20],
    texts.UNSUPPORTED,
)
MAX_REPLY = 1500  # characters: a phone screen or two


def assert_polite(outs, expected: str | None, entry_ok: bool = False) -> None:
    """One or more short replies, each a known polite text (or a knowledge-base answer if entry_ok)."""
    assert outs, "no reply at all"
    for out in outs:
        assert out.text.strip()
        assert len(out.text) <= MAX_REPLY, len(out.text)
        if texts.ERROR in out.text:
            raise AssertionError("the generic error apology was sent: a handler failed")
    first = outs[0].text
    if expected is not None:
        assert first.startswith(expected), first[:120]
    elif not entry_ok:
        assert first.startswith(POLITE_STARTS) or "Bapak/Ibu" in first, first[:120]


async def _prepared(app: App) -> FakeChat:
    """A chat with a menu, an answered question and a saved mode, so losses would show."""
    chat = FakeChat(app, "korban")
    await chat.send("apa itu bkad")
    await chat.send("/mulai")
    app.storage.set_state(chat_key(chat), "probe", {"step": 3, "answers": {"nama": "Desa Sukamaju"}})
    return chat


def chat_key(chat: FakeChat) -> str:
    return f"{chat.channel}:{chat.chat_id}"


@pytest.mark.parametrize("case_id,text,expected", TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
async def test_bad_text_through_the_core(app, caplog, case_id, text, expected):
    chat = await _prepared(app)
    before = snapshot(app.storage, chat_key(chat))
    caplog.set_level(logging.DEBUG)
    outs = await chat.send(text)
    assert_no_errors(caplog)
    assert_polite(outs, expected, entry_ok=case_id in ("nul-inside", "rtl-override"))
    assert_db_intact(app.storage, chat_key(chat), before)


@pytest.mark.parametrize("typed,n", [("9", 9), ("0", 0), ("999", 999), ("4.", 4), ("007", 7)])
async def test_typed_choice_number_out_of_range(app, caplog, typed, n):
    chat = await _prepared(app)
    before = snapshot(app.storage, chat_key(chat))
    outs = await chat.send(typed)
    assert_no_errors(caplog)
    assert outs[0].text == texts.OUT_OF_RANGE.format(n=n, max=3)
    assert_db_intact(app.storage, chat_key(chat), before)


async def _token_cases(app: App, chat: FakeChat) -> list[tuple[str, str]]:
    """(id, token) pairs: stale, forged, foreign, oversized and malformed button tokens."""
    await chat.send("/mulai")
    good = chat.last[0].choice_tokens[0]
    stale = good
    for _ in range(MENUS_KEPT):  # push the first menu out of the kept window
        await chat.send("/mulai")
    other = FakeChat(app, "tetangga")
    await other.send("/mulai")
    foreign = other.last[0].choice_tokens[0]
    menu_id = chat.last[0].menu_id
    return [
        ("stale", stale),
        ("foreign-chat", foreign),
        ("forged-menu", "AAAAAAAA.0"),
        ("index-out-of-range", f"{menu_id}.7"),
        ("index-negative", f"{menu_id}.-1"),
        ("index-superscript", f"{menu_id}.²"),
        ("index-arabic", f"{menu_id}.٣"),
        ("no-index", menu_id),
        ("empty", ""),
        ("dots", "..."),
        ("oversized", "A" * 5000 + ".1"),
        ("oversized-index", f"{menu_id}." + "9" * 5000),
        ("nul", f"{menu_id}\x00.0"),
        ("surrogate", f"{menu_id}\ud800.0"),
        ("sql", "x' OR '1'='1.0"),
        ("payload-not-token", "menu:usulan"),
        ("payload-kb", "kb:show:bkad-pengertian"),
    ]


async def test_bad_button_tokens_through_the_core(app, caplog):
    chat = await _prepared(app)
    cases = await _token_cases(app, chat)
    key = chat_key(chat)
    app.storage.set_state(key, "probe", {"step": 3})
    for case_id, token in cases:
        before = snapshot(app.storage, key)
        caplog.clear()
        outs = await chat.tap_token(token)
        assert_no_errors(caplog)
        assert [o.text for o in outs] == [texts.EXPIRED], case_id
        assert_db_intact(app.storage, key, before)


async def test_double_tap_of_a_stale_button_changes_nothing(app, caplog):
    chat = await _prepared(app)
    token = chat.last[0].choice_tokens[2]
    first = await chat.tap_token(token)
    second = await chat.tap_token(token)  # menus stay tappable: the same answer, nothing else
    assert first[0].text == second[0].text
    assert_no_errors(caplog)


@pytest.mark.parametrize("what", ["sticker", "photo", "voice", "location", "", "x" * 10000])
async def test_unsupported_content(app, caplog, what):
    chat = await _prepared(app)
    key = chat_key(chat)
    before = snapshot(app.storage, key)
    outs = await app.handle(Inbound("test", "korban", "", kind="unsupported", what=what))
    assert_no_errors(caplog)
    assert [o.text for o in outs] == [texts.UNSUPPORTED]
    assert_db_intact(app.storage, key, before)
