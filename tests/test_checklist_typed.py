"""What typed text means while a checklist step waits: greetings and thanks, bare numbers at a duration step,
and words that are neither a choice nor a question at a choice step."""

from bot.app import build_app
from handlers import checklist_texts as t
from handlers import texts
from tests.conftest import FakeChat
from tests.test_checklist import answers, antar_desa, parties, pihak_ketiga, start


async def test_greetings_and_thanks_at_a_text_step_are_not_saved(chat, app):
    await antar_desa(chat)
    for said in ("terima kasih", "ok pak", "selamat pagi", "halo"):
        await chat.send(said)
        assert "desa" not in answers(app), said
        assert "Tersimpan" not in chat.text and "Para pihak 1/4" in chat.text, said
        assert texts.NOT_FOUND not in chat.text and t.QUESTION_THEN_STEP not in chat.text
    await chat.send("Sukamaju")
    await chat.send("Terima kasih banyak, Pak")  # at the kecamatan step
    assert answers(app) == {"desa": ("value", "Sukamaju")}
    assert t.SMALLTALK["thanks"] + " " + t.CONTINUE_STEP.format(name="Jalan tani") in chat.text and "Kecamatan Desa Bapak/Ibu?" in chat.text


async def test_greeting_at_a_confirm_step_asks_the_step_again(chat, app):
    await antar_desa(chat)
    await parties(chat)
    before = answers(app)
    await chat.send("Selamat siang")
    assert t.SMALLTALK["greeting"] + " " + t.CONTINUE_STEP.format(name="Jalan tani") in chat.text and "Persiapan 1/7" in chat.text
    assert texts.GREETING_SHORT not in chat.text and t.QUESTION_THEN_STEP not in chat.text
    assert chat.labels == [t.SUDAH, t.BELUM, t.NA, t.WHY]
    assert answers(app) == before
    await chat.send("1")
    assert answers(app)["inventarisasi"] == ("sudah", "")


async def test_greeting_after_a_restart_resumes_without_saving(config, knowledge):
    first = build_app(config, knowledge)
    await antar_desa(FakeChat(first))
    first.close()
    second = build_app(config, knowledge)  # a new process days later: same file database
    try:
        chat = FakeChat(second)
        await chat.send("Assalamualaikum")
        assert t.SMALLTALK["greeting"] + " " + t.CONTINUE_STEP.format(name="Jalan tani") in chat.text and "Para pihak 1/4" in chat.text
        assert answers(second) == {}
    finally:
        second.close()


async def _to_duration_step(chat):
    await pihak_ketiga(chat, "Prakarsa pihak ketiga", "Yayasan Air", "Lembaga lainnya")
    await chat.tap(t.SUDAH)  # tahapan
    for value in ("Pengelolaan air bersih", "Pembangunan Desa", "Yayasan membangun, Desa memelihara"):
        await chat.send(value)
    assert "jangka waktu kerja samanya" in chat.text


async def test_numbers_at_a_duration_step_choose_its_buttons_and_others_ask_for_a_unit(chat, app):
    """"1" with "1. Lewati" shown is Lewati (issue 12); a number that is no button is a duration without a unit."""
    await _to_duration_step(chat)
    for n in ("3", "12"):
        await chat.send(n)
        assert "dengan satuannya" in chat.text and f"\"{n} tahun\"" in chat.text and "lewati" in chat.text
        assert "Dilewati" not in chat.text and t.WHY_HEADING not in chat.text
    assert "jangka-waktu" not in answers(app)
    await chat.send("2")
    assert t.WHY_HEADING in chat.text and "jangka-waktu" not in answers(app)
    await chat.send("1")
    assert answers(app)["jangka-waktu"] == ("skipped", "")


async def test_numbers_still_choose_the_buttons_on_other_text_steps(chat, app):
    await antar_desa(chat)
    await chat.send("1")
    assert answers(app)["desa"] == ("skipped", "")


async def test_non_question_at_a_choice_step_asks_to_choose(chat, app):
    await start(chat)
    await chat.tap("Dengan pihak ketiga")
    await chat.tap("Prakarsa Desa")
    await parties(chat, "CV Tirta")
    assert "Pihak ketiga itu termasuk yang mana?" in chat.text
    await chat.send("Cianjur")
    assert t.CHOOSE_ONE.format(n=3) in chat.text and "Pihak ketiga itu termasuk yang mana?" in chat.text
    assert texts.NOT_FOUND not in chat.text and t.QUESTION_THEN_STEP not in chat.text
    assert texts.MENU_ASK not in chat.labels and "jenis-mitra" not in answers(app)
    await chat.send("apa itu bkad")  # a real question is still answered, then the step again
    assert t.QUESTION_THEN_STEP in chat.text and "BKAD" in chat.text
    await chat.send("2")
    assert answers(app)["jenis-mitra"] == ("value", "Organisasi kemasyarakatan")


async def test_non_question_at_a_triage_question_asks_to_choose(chat, app):
    await start(chat)
    await chat.send("Sukamaju")
    assert t.CHOOSE_ONE.format(n=2) in chat.text and "Bapak/Ibu ingin bekerja sama dengan siapa?" in chat.text
    assert texts.NOT_FOUND not in chat.text
