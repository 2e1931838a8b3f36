"""The three kinds of miss, as the user sees them: out of scope, not settled by the texts, unclear."""

from tests.conftest import FakeChat


async def test_out_of_scope_says_so(app):
    chat = FakeChat(app)
    await chat.send("Selamat pagi pak, dana desa tahap 2 kapan cair?")
    assert "di luar cakupan" in chat.text
    rows = list(app.storage.question_log())
    assert rows[-1]["outcome"] == "none"


async def test_in_scope_but_not_settled_points_to_camat_and_offers_topics(app):
    chat = FakeChat(app)
    await chat.send("apakah bkad berbadan hukum?")
    assert "di luar cakupan" not in chat.text
    assert "Camat atau Dinas PMD" in chat.text
    assert chat.labels, "the closest topics are offered"
    await chat.tap(chat.labels[0])
    assert "Dasar:" in chat.text


async def test_unclear_offers_topics(app):
    chat = FakeChat(app)
    await chat.send("kerja sama")
    assert chat.text.startswith("Maaf, saya belum yakin") or "Dasar:" in chat.text


async def test_an_introduction_alone_is_asked_for_the_question(app):
    chat = FakeChat(app)
    await chat.send("saya kepala desa Sukamaju kecamatan Cibeber")
    assert "Silakan tulis pertanyaan" in chat.text
    await chat.send("Assalamualaikum, saya kepala desa Sukamaju kecamatan Cibeber")
    assert chat.text.startswith("Halo, Bapak/Ibu.")


async def test_a_wrapped_question_gets_the_same_answer_as_the_plain_one(app):
    chat = FakeChat(app)
    await chat.send("siapa saja anggota bkad")
    plain = chat.text
    await chat.send(
        "Assalamualaikum wr wb 🙏\\nSaya sekdes Mekarjaya, Kab. Garut.\\nSiapa saja anggota BKAD?\\nTerima kasih"
    )
    assert chat.text == plain
