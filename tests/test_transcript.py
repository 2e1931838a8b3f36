"""Transcript tests through the channel-agnostic core: what a user sends, what the bot replies."""

from handlers import texts
from tests.conftest import FakeChat


async def test_start_shows_main_menu(chat):
    await chat.send("/mulai")
    assert "Selamat datang" in chat.text
    assert chat.labels == [texts.MENU_ASK, texts.MENU_PROPOSAL, texts.MENU_HELP]


async def test_choose_by_number_then_ask_then_bunyi_pasal(chat):
    await chat.send("/mulai")
    await chat.send("1")  # typed number selects "Tanya aturan"
    assert "ketik pertanyaan" in chat.text
    await chat.send("apa itu bkad")
    assert "PP 43/2014 Pasal 144" in chat.text
    assert texts.EXCERPT_BUTTON in chat.labels
    await chat.tap(texts.EXCERPT_BUTTON)
    assert "Bunyi pasal" in chat.text
    assert "badan kerja sama antar-Desa" in chat.text


async def test_choose_by_label(chat):
    await chat.send("/mulai")
    await chat.send("bantuan")  # typed label, any case
    assert "/mulai" in chat.text and "/tentang" in chat.text


async def test_answer_cites_permendagri_for_antar_desa_instrument(chat):
    await chat.send("kerja sama antar desa dituangkan dalam apa")
    assert "Permendagri 96/2017 Pasal 3" in chat.text


async def test_out_of_scope_question_is_declined(chat):
    await chat.send("berapa harga beras hari ini")
    assert "di luar cakupan" in chat.text
    assert "Pasal" not in chat.text


async def test_greeting_and_thanks_are_not_answered_from_the_kb(chat):
    await chat.send("halo pak")
    assert chat.text.startswith("Halo")
    await chat.send("terima kasih")
    assert chat.text.startswith("Sama-sama")


async def test_about_states_version_and_not_legal_advice(chat, knowledge):
    await chat.send("/tentang")
    assert "bukan nasihat hukum" in chat.text
    assert knowledge.kb.version in chat.text
    assert "Permendagri" not in chat.text or "Dalam Negeri Nomor 96 Tahun 2017" in chat.text


async def test_unknown_command_empty_and_unsupported(chat, app):
    from handlers.messages import Inbound

    await chat.send("/terbang sekarang")
    assert "tidak dikenal" in chat.text
    await chat.send("   \u200b ")
    assert "kosong" in chat.text
    out = await app.handle(Inbound("test", "u1", "", kind="unsupported", what="sticker"))
    assert "hanya memahami pesan teks" in out[0].text


async def test_number_out_of_range(chat):
    await chat.send("/mulai")
    await chat.send("7")
    assert "1 sampai 3" in chat.text


async def test_forged_and_stale_buttons_change_nothing(chat, app):
    await chat.send("/mulai")
    token = chat.last[0].choice_tokens[0]
    await chat.tap_token("zzzzzzzz.0")
    assert "kedaluwarsa" in chat.text
    await chat.tap_token(token.split(".")[0] + ".9")
    assert "kedaluwarsa" in chat.text
    # another chat cannot use this chat's button
    other = type(chat)(app, chat_id="u2")
    await other.tap_token(token)
    assert "kedaluwarsa" in other.text
    # the owner still can
    await chat.tap_token(token)
    assert "ketik pertanyaan" in chat.text


async def test_very_long_message_is_refused_politely(chat):
    await chat.send("kerja sama " * 2000)
    assert "terlalu panjang" in chat.text


async def test_control_characters_are_cleaned(chat):
    await chat.send("apa itu\x00 bkad\u200b\x07")
    assert "PP 43/2014 Pasal 144" in chat.text


async def test_suggestion_offers_topics_as_choices(config, knowledge):
    """With a calibration under which no answer is sure enough, an in-scope question gets "Maksud Bapak/Ibu:"
    and 2–3 topics."""
    from dataclasses import replace

    from bot.app import Knowledge, build_app
    from knowledge.retrieval import Retriever

    cal = knowledge.retriever.calibration
    unsure = replace(cal, answer=replace(cal.answer, bias=-50.0))
    strict = config
    kn = Knowledge(knowledge.kb, Retriever(knowledge.kb, knowledge.retriever.norm, strict.retrieval, calibration=unsure))
    app = build_app(strict, kn)
    try:
        chat = FakeChat(app)
        await chat.send("siapa saja anggota bkad")
        assert chat.text.startswith("Maaf, saya belum yakin")
        assert 2 <= len(chat.labels) <= 3
        await chat.send("1")
        assert "Dasar:" in chat.text
    finally:
        app.close()


async def test_question_log_keeps_no_chat_id(chat, app):
    await chat.send("apa itu bkad")
    rows = list(app.storage.question_log())
    assert len(rows) == 1
    assert rows[0]["question"] == "apa itu bkad"
    assert rows[0]["outcome"] == "answer"
    assert "test:u1" not in rows[0]["chat_hash"]
    assert rows[0]["chat_hash"] == app.storage.chat_hash("test:u1")
