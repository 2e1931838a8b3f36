"""Every reproduction of issue 12 ("a proposal guide that never saves the wrong thing"), as a conversation that
asserts what was STORED (proposal_answers, and /ringkasan), not only what was said. Each failed before the
focus stack and the typed-input reader. Real SQLite file, real knowledge and flow files."""

import pytest

from handlers import checklist_texts as t
from handlers import texts
from handlers.focus import Focus
from knowledge.retrieval import Match, Result
from tests.conftest import FakeChat
from tests.test_checklist import answers, antar_desa, parties, pihak_ketiga, start


async def to_desa_step(chat: FakeChat) -> None:
    """/usulan, a name, 1, 1, 2: antar-Desa, one kecamatan, no BUM Desa → "Nama Desa …"."""
    for typed in ("/usulan", "Jalan tani", "1", "1", "2"):
        await chat.send(typed)
    assert "Nama Desa Bapak/Ibu" in chat.text


def summary(chat: FakeChat) -> str:
    return chat.text


# -- 1. questions and command words at a text step are never stored ---------------------------------------
@pytest.mark.parametrize("typed", ["maksudnya desa sy sendiri atau desa mitra", "gimana cara ngisinya",
                                   "contohnya gimana pak?", "ini diisi apa"])
async def test_questions_about_the_step_get_its_hint_and_store_nothing(chat, app, typed):
    await to_desa_step(chat)
    await chat.send(typed)
    assert "desa" not in answers(app)
    assert "Tersimpan" not in chat.text and "Desa yang mengusulkan" in chat.text  # the step's hint
    assert "Nama Desa Bapak/Ibu" in chat.text  # and the step again


async def test_gimana_cara_ngisinya_at_kecamatan_is_not_saved(chat, app):
    await to_desa_step(chat)
    await chat.send("Sukamaju")
    await chat.send("gimana cara ngisinya")
    assert "kecamatan" not in answers(app) and "Kecamatan Desa Bapak/Ibu?" in chat.text


@pytest.mark.parametrize("word,expected", [
    ("status", t.STATUS_HEADING.format(name="Jalan tani")), ("dokumen", t.DOCS_INTRO.format(name="Jalan tani")),
    ("batal", t.CANCELLED), ("Bunyi pasal", "tidak ada di langkah ini"), ("menu", texts.GREETING[:30]),
    ("mulai", texts.GREETING[:30]), ("tanya", texts.ASK_PROMPT[:30]), ("help", "Cara memakai Pandu"),
    ("lanjut", "Nama Desa Bapak/Ibu"), ("lanjutkan", "Nama Desa Bapak/Ibu"), ("hapus", t.CONFIRM_DELETE[:30]),
])  # fmt: skip
async def test_command_words_and_button_labels_at_a_step_do_their_thing_and_store_nothing(chat, app, word, expected):
    await to_desa_step(chat)
    await chat.send(word)
    assert expected in chat.text
    assert answers(app) == {}


@pytest.mark.parametrize("word", ["tidak", "ga", "sudah", "belum pak"])
async def test_yes_no_words_are_no_kabupaten_and_no_partner(chat, app, word):
    await to_desa_step(chat)
    for typed in ("Sukamaju", "Cibeber"):
        await chat.send(typed)
    await chat.send(word)  # at Kabupaten/kota
    assert "kabupaten" not in answers(app)
    await chat.send("Cianjur")
    await chat.send(word)  # at Desa mitra
    assert "mitra" not in answers(app) and "Tersimpan" not in chat.text
    assert answers(app) == {"desa": ("value", "Sukamaju"), "kecamatan": ("value", "Cibeber"),
                            "kabupaten": ("value", "Cianjur")}  # fmt: skip


# -- 2. /ubah can be left without a change -----------------------------------------------------------------
@pytest.mark.parametrize("leave", ["tidak jadi", "gak jadi pak", "kembali"])
async def test_ubah_can_be_left_without_change(chat, app, leave):
    await to_desa_step(chat)
    await chat.send("Sukamaju")
    for typed in ("/ubah", "1", "1"):
        await chat.send(typed)
    assert "Nama Desa Bapak/Ibu" in chat.text and "Jawaban tersimpan: Sukamaju" in chat.text
    await chat.send(leave)
    assert t.EDIT_CANCELLED in chat.text and "Kecamatan Desa Bapak/Ibu?" in chat.text  # back where it was
    assert answers(app) == {"desa": ("value", "Sukamaju")}
    await chat.send("Cibeber")  # and the guide goes on
    assert answers(app)["kecamatan"] == ("value", "Cibeber")


@pytest.mark.parametrize("leave", ["/batal", "batal"])
async def test_batal_during_ubah_leaves_the_edit_unchanged_and_stops_the_guide(chat, app, leave):
    await to_desa_step(chat)
    await chat.send("Sukamaju")
    for typed in ("/ubah", "1", "1", leave):
        await chat.send(typed)
    assert t.EDIT_CANCELLED in chat.text and t.CANCELLED in chat.text
    await chat.send("1")  # nothing is stored while the guide is stopped
    assert answers(app) == {"desa": ("value", "Sukamaju")}
    await chat.send("/usulan")
    assert "Kecamatan Desa Bapak/Ibu?" in chat.text  # resumes where it was before /ubah
    await chat.send("Cibeber")
    assert answers(app)["kecamatan"] == ("value", "Cibeber")


async def test_batal_at_a_pending_confirmation_stores_nothing_then_or_after(chat, app):
    await to_desa_step(chat)
    await chat.send("coba")  # "Simpan "coba" sebagai Desa pengusul?"
    await chat.send("/batal")
    assert t.CANCELLED in chat.text
    for typed in ("1", "ya", "Sukamaju"):
        await chat.send(typed)
    assert answers(app) == {}


async def test_ubah_changes_when_answered(chat, app):
    await to_desa_step(chat)
    await chat.send("Sukamaju")
    for typed in ("/ubah", "1", "1", "Sukamukti"):
        await chat.send(typed)
    assert answers(app) == {"desa": ("value", "Sukamukti")}
    assert "Kecamatan Desa Bapak/Ibu?" in chat.text
    assert Focus.from_json(app.storage.get_focus("test:u1")).find("edit") is None


# -- 3. after /batal nothing is stored until the user resumes ---------------------------------------------
async def test_after_batal_nothing_typed_or_tapped_is_stored(chat, app):
    await to_desa_step(chat)
    await chat.send("Sukamaju")
    await chat.send("/batal")
    assert t.CANCELLED in chat.text
    skip_token = None
    for out in reversed(chat.replies):
        if t.SKIP in [c.label for c in out.choices]:
            skip_token = out.choice_tokens[[c.label for c in out.choices].index(t.SKIP)]
            break
    for typed in ("1", "belum", "Cibeber", "sudah"):
        await chat.send(typed)
        assert "Tersimpan" not in chat.text, typed
    await chat.tap_token(skip_token)  # the old step's "Lewati" button
    assert "Tersimpan" not in chat.text and "dihentikan" in chat.text
    assert answers(app) == {"desa": ("value", "Sukamaju")}
    await chat.send("/usulan")  # resuming: the step waits where it was
    await chat.send("Cibeber")
    assert answers(app)["kecamatan"] == ("value", "Cibeber")


# -- 4. a topic list offered at a Sudah/Belum step owns the next number ------------------------------------
async def test_a_number_after_topics_offered_mid_step_picks_the_topic_not_sudah(chat, app, monkeypatch):
    await to_desa_step(chat)
    await parties(chat)
    kb = app.knowledge.kb
    topics = (Match(kb.by_id["fasilitasi-camat"], 50.0), Match(kb.by_id["bkad-pengertian"], 48.0))
    search = app.knowledge.retriever.search
    monkeypatch.setattr(app.knowledge.retriever, "search",
                        lambda q: Result(q, "suggest", topics[0], topics) if "camat" in q else search(q))
    await chat.send("camat itu ngapain?")
    assert texts.SUGGEST in chat.text and t.BACK_TO_STEP in chat.labels
    assert "inventarisasi" not in answers(app)
    await chat.send("1")  # the first topic, not "Sudah"
    assert kb.by_id["fasilitasi-camat"].title in chat.text and "Persiapan 1/7" in chat.text
    assert "inventarisasi" not in answers(app)
    await chat.send("1")  # now the step's own first button
    assert answers(app)["inventarisasi"] == ("sudah", "")


async def test_a_topic_title_typed_from_an_older_answer_is_shown_not_stored(chat, app):
    await to_desa_step(chat)
    await parties(chat)
    await chat.send("apa itu bkad?")
    await chat.send("Sudah")  # answers the step
    title = app.knowledge.kb.by_id["bkad-keanggotaan"].title
    await chat.send(title)  # a related topic's label from the answer, typed at the next step
    assert "skala-prioritas" not in answers(app) and "PP 43/2014 Pasal 144" in chat.text


# -- 5. everyday yes/no words ----------------------------------------------------------------------------
@pytest.mark.parametrize("typed,status", [
    ("sudah pak", "sudah"), ("iya sudah", "sudah"), ("sudha", "sudah"), ("yes", "sudah"), ("sampun", "sudah"),
    ("udh", "sudah"), ("belum pak", "belum"), ("blm ada", "belum"), ("nggak", "belum"), ("no", "belum"),
    ("dereng", "belum"), ("mboten", "belum"), ("tdk berlaku", "na"),
])  # fmt: skip
async def test_everyday_yes_no_at_a_sudah_belum_step(chat, app, typed, status):
    await to_desa_step(chat)
    await parties(chat)
    await chat.send(typed)
    assert answers(app)["inventarisasi"] == (status, "")


@pytest.mark.parametrize("typed,option", [("iya", "ya"), ("yes", "ya"), ("enggih", "ya"), ("nggak", "tidak"),
                                          ("mboten", "tidak"), ("no", "tidak")])
async def test_everyday_yes_no_at_a_ya_tidak_triage_question(chat, app, typed, option):
    for said in ("/usulan", "Jalan tani", "1", "1"):
        await chat.send(said)
    assert "melibatkan BUM Desa" in chat.text
    await chat.send(typed)
    triage = app.storage.db.execute("SELECT triage FROM proposals").fetchone()[0]
    assert f'"bum-desa": "{option}"' in triage


# -- 6. durations -------------------------------------------------------------------------------------------
async def _to_duration(chat):
    await pihak_ketiga(chat, "Prakarsa pihak ketiga", "Yayasan Air", "Lembaga lainnya")
    await chat.tap(t.SUDAH)
    for value in ("Pengelolaan air bersih", "Pembangunan Desa", "Yayasan membangun, Desa memelihara"):
        await chat.send(value)
    assert "jangka waktu kerja samanya" in chat.text


@pytest.mark.parametrize("typed,stored", [("setahun", "1 tahun"), ("2th", "2 tahun"), ("1thn", "1 tahun"),
                                          ("6 bln", "6 bulan"), ("dua tahun", "2 tahun"), ("2025-2027", "2025–2027"),
                                          ("sampai proyek selesai", "sampai proyek selesai")])
async def test_durations_as_people_write_them_are_stored(chat, app, typed, stored):
    await _to_duration(chat)
    await chat.send(typed)
    assert answers(app)["jangka-waktu"] == ("value", stored)


async def test_one_at_a_duration_step_is_lewati(chat, app):
    await _to_duration(chat)
    await chat.send("1")
    assert answers(app)["jangka-waktu"] == ("skipped", "")


# -- 7. the name step ---------------------------------------------------------------------------------------
async def test_name_step_short_name_lewati_and_tes(chat, app):
    await chat.send("/usulan")
    await chat.send("2")
    assert t.NAME_TOO_SHORT in chat.text and "/lewati" not in chat.text
    await chat.send("/lewati")
    assert t.CANNOT_SKIP_NAME in chat.text and "pilih salah satu" not in chat.text
    await chat.send("Tes")  # a plausible name, or a test: asked, not taken as a greeting
    assert t.CONFIRM_VALUE.format(value="Tes", field=t.NAME_HEADING) in chat.text
    await chat.send("ya")
    assert app.storage.db.execute("SELECT name FROM proposals").fetchone()[0] == "Tes"
    assert "Bapak/Ibu ingin bekerja sama dengan siapa?" in chat.text


async def test_a_doubtful_value_refused_stays_unsaved(chat, app):
    await to_desa_step(chat)
    await chat.send("coba")
    assert "Simpan \"coba\" sebagai Desa pengusul?" in chat.text
    await chat.send("bukan")
    assert t.NOT_SAVED in chat.text and answers(app) == {}
    await chat.send("coba")
    await chat.send("Sukamaju")  # another answer instead of Ya/Bukan: read afresh at the step
    assert answers(app) == {"desa": ("value", "Sukamaju")}


# -- 8. "sudah dijawab" only when an answer was given ------------------------------------------------------
async def test_out_of_scope_question_mid_step_is_not_called_answered(chat, app):
    await to_desa_step(chat)
    await chat.send("kapan dana desa tahap 2 cair?")
    assert t.QUESTION_THEN_STEP not in chat.text and t.QUESTION_NOT_ANSWERED in chat.text
    assert texts.MENU_ASK not in chat.labels  # no main menu in the middle of a step
    assert "Nama Desa Bapak/Ibu" in chat.text and answers(app) == {}


# -- 9. consistency between steps --------------------------------------------------------------------------
async def test_agreement_of_a_musyawarah_not_held_is_not_asked(chat, app):
    await to_desa_step(chat)
    await parties(chat)
    for _ in range(2):
        await chat.send("sudah")  # inventarisasi, skala prioritas
    await chat.send("belum")  # Musyawarah Desa not held
    assert "menyepakati" not in chat.text  # its agreement is not asked
    assert "hasil-musdes" not in answers(app)
    await chat.send("/status")
    assert "Kesepakatan Musyawarah Desa (menunggu: Musyawarah Desa oleh BPD)" in chat.text


async def test_partner_reply_is_not_asked_before_the_offer_letter_is_sent(chat, app):
    await antar_desa(chat)
    await parties(chat)
    for _ in range(7):
        await chat.send("sudah")  # the Persiapan stage
    assert "surat penawaran" in chat.text.lower()
    await chat.send("belum")
    for value in ("Pembangunan Desa", "Jalan tani", "Gotong royong", "2 tahun", "Desa A membangun, Desa B merawat"):
        await chat.send(value)
    assert "menanggapi" not in chat.text and "tanggapan-mitra" not in answers(app)
    assert "Pendanaan" in chat.text or "pendanaan" in chat.text


async def test_editing_a_prerequisite_asks_the_step_that_waited(chat, app):
    await to_desa_step(chat)
    await parties(chat)
    for typed in ("sudah", "sudah", "belum"):
        await chat.send(typed)
    for typed in ("/ubah", "Persiapan", "Musyawarah Desa oleh BPD", "sudah"):
        await chat.send(typed)
    assert "menyepakati" in chat.text  # the agreement step is asked now
    await chat.send("sudah")
    assert answers(app)["hasil-musdes"] == ("sudah", "")


async def test_empty_message_mid_step_repeats_the_step(chat, app):
    await to_desa_step(chat)
    await chat.send("")
    assert texts.EMPTY.split(".")[0] in chat.text and "Nama Desa Bapak/Ibu" in chat.text
    assert answers(app) == {}


async def test_documents_after_an_antar_kabupaten_stop_say_why_and_offer_a_new_proposal(chat, app):
    await start(chat)
    await chat.tap("Dengan Desa lain")
    await chat.tap("Kabupaten/kota lain, satu provinsi")
    await chat.tap("Tidak, kerja sama lain")
    await chat.send("/dokumen")
    assert "tidak ada dokumen" in chat.text and "ketik /usulan untuk melanjutkan" not in chat.text
    assert chat.labels == [t.NEW] and not any(o.reply.document for o in chat.last)
    await chat.send("1")
    assert t.NAME_HEADING in chat.text


# -- the record itself ----------------------------------------------------------------------------------------
async def test_the_focus_record_is_the_only_state_and_survives_a_corrupt_row(chat, app):
    await to_desa_step(chat)
    app.storage.set_focus("test:u1", "{not json")  # a damaged row: the chat starts free, nothing breaks
    await chat.send("Sukamaju")
    assert texts.ERROR not in chat.text and answers(app) == {}
    await chat.send("/usulan")
    await chat.send("Sukamaju")
    assert answers(app) == {"desa": ("value", "Sukamaju")}


# -- answers wrapped in courtesy ------------------------------------------------------------------------------
@pytest.mark.parametrize("typed,status", [("Assalamualaikum pak, sudah", "sudah"), ("selamat pagi bu, belum", "belum"),
                                          ("ok pak, sudah 🙏", "sudah"), ("siap, belum pak", "belum")])
async def test_a_yes_or_no_wrapped_in_a_greeting_or_thanks_is_read(chat, app, typed, status):
    await to_desa_step(chat)
    await parties(chat)
    await chat.send(typed)
    assert answers(app)["inventarisasi"] == (status, "")


async def test_a_value_wrapped_in_thanks_is_stored_without_it(chat, app):
    await to_desa_step(chat)
    await chat.send("Sukamaju, terima kasih pak")
    await chat.send("Selamat siang. Kec. Cibeber")
    assert answers(app) == {"desa": ("value", "Sukamaju"), "kecamatan": ("value", "Cibeber")}


# -- 3. a self-introduction typed where a name is asked is checked before it is stored -------------------------
INTRODUCTIONS = ["Saya Budi, sekdes Sukamaju", "Saya Sutarno, kepala desa di Kecamatan Playen, Kabupaten Gunungkidul",
                 "saya kades Mekarsari kec. Cibeber"]


@pytest.mark.parametrize("typed", INTRODUCTIONS)
async def test_an_introduction_is_no_proposal_name_until_confirmed(chat, app, typed):
    await chat.send("/usulan")
    await chat.send(typed)
    assert t.CONFIRM_VALUE.format(value=typed[:57] + "…" if len(typed) > 60 else typed, field="Nama usulan") in chat.text
    names = "SELECT name FROM proposals"  # /usulan opens the proposal with an empty name
    assert [r[0] for r in app.storage.db.execute(names)] == [""]
    await chat.tap(t.CONFIRM_NO)
    assert t.NOT_SAVED in chat.text and t.NAME_HEADING in chat.text
    assert [r[0] for r in app.storage.db.execute(names)] == [""]
    await chat.send("Jalan tani")
    assert [r[0] for r in app.storage.db.execute(names)] == ["Jalan tani"]


@pytest.mark.parametrize("typed", INTRODUCTIONS[:2])
async def test_an_introduction_at_nama_desa_is_not_stored_unless_confirmed(chat, app, typed):
    await to_desa_step(chat)
    await chat.send(typed)
    assert "desa" not in answers(app) and "Simpan" in chat.text
    await chat.tap(t.CONFIRM_NO)
    assert answers(app) == {} and "Nama Desa Bapak/Ibu" in chat.text
    await chat.send("Sukamaju")
    assert answers(app) == {"desa": ("value", "Sukamaju")}


async def test_a_greeting_and_an_introduction_alone_store_nothing(chat, app):
    await chat.send("/usulan")
    await chat.send("Assalamualaikum pak, saya Budi, sekdes Sukamaju")
    assert t.NAME_HEADING in chat.text and "Simpan" not in chat.text
    assert [r[0] for r in app.storage.db.execute("SELECT name FROM proposals")] == [""]


async def test_a_plain_name_is_stored_at_once(chat, app):
    """Only a message that is nothing but an introduction is checked: "Budi Santoso" and "Sukamaju" are names."""
    await chat.send("/usulan")
    await chat.send("Budi Santoso")
    assert "Simpan" not in chat.text
    assert [r[0] for r in app.storage.db.execute("SELECT name FROM proposals")] == ["Budi Santoso"]
    for typed in ("1", "1", "2", "Sukamaju"):
        await chat.send(typed)
    assert answers(app) == {"desa": ("value", "Sukamaju")}
