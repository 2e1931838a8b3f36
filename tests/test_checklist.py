"""Transcript tests of the proposal checklist: triage paths, steps, skip/edit/cancel/resume, questions
mid-flow, stale and double taps, validation, /hapus. Real SQLite file, real knowledge and flow files."""

from handlers import checklist_texts as t
from handlers import texts
from handlers.checklist import validate
from handlers.focus import Focus
from tests.conftest import FakeChat


async def start(chat: FakeChat, name: str = "Jalan tani") -> None:
    await chat.send("/usulan")
    assert t.NAME_HEADING in chat.text
    await chat.send(name)
    assert "Bapak/Ibu ingin bekerja sama dengan siapa?" in chat.text


async def antar_desa(chat: FakeChat, where: str = "Satu kecamatan", bum: str = "Tidak") -> None:
    await start(chat)
    await chat.tap("Dengan Desa lain")
    await chat.tap(where)
    await chat.tap(bum)


async def pihak_ketiga(chat: FakeChat, prakarsa: str, partner: str, kind: str) -> None:
    await start(chat)
    await chat.tap("Dengan pihak ketiga")
    await chat.tap(prakarsa)
    await parties(chat, partner)
    await chat.tap(kind)
    await signer(chat)


async def signer(chat: FakeChat, name: str = "Budi Santoso", position: str = "Direktur") -> None:
    """The third party's signatory and position (asked for the Perjanjian Bersama)."""
    for value in (name, position):
        await chat.send(value)


async def parties(chat: FakeChat, partner: str = "Sukajaya") -> None:
    for value in ("Sukamaju", "Cibeber", "Cianjur", partner):
        await chat.send(value)


def proposal_rows(app, chat_key="test:u1"):
    return list(app.storage.db.execute("SELECT * FROM proposals WHERE chat_key = ?", [chat_key]).fetchall())


def focus(app, chat_key="test:u1") -> Focus:
    """The chat's stored focus record."""
    return Focus.from_json(app.storage.get_focus(chat_key))


def answers(app, chat_key="test:u1") -> dict[str, tuple[str, str]]:
    rows = app.storage.db.execute(
        "SELECT step, status, value FROM proposal_answers WHERE chat_key = ?", [chat_key]
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


# -- triage ------------------------------------------------------------------------------------------------
async def test_menu_button_starts_a_proposal(chat):
    await chat.send("/mulai")
    await chat.tap(texts.MENU_PROPOSAL)
    assert t.NAME_HEADING in chat.text


async def test_triage_antar_desa_same_kecamatan_without_bum_desa(chat, app):
    await antar_desa(chat, "Satu kecamatan", "Tidak")
    text = chat.text
    assert "Peraturan Bersama Kepala Desa" in text and "Musyawarah antar-Desa" in text
    assert "badan kerja sama antar-Desa (BKAD)" in text
    assert "Permendagri 96/2017 Pasal 3 ayat (3)" in text and "UU 6/2014 Pasal 92 ayat (3)" in text
    assert "Para pihak 1/4" in text
    p = app.storage.db.execute("SELECT flow, outcome, triage FROM proposals").fetchone()
    assert p[0] == "antar-desa" and p[1] == "antar-desa-bkad"


async def test_triage_antar_kecamatan_with_bum_desa_uses_musyawarah_desa(chat, app):
    await antar_desa(chat, "Beda kecamatan, satu kabupaten/kota", "Ya")
    assert "Musyawarah Desa" in chat.text and "Pemerintah Desa" in chat.text
    assert "Permendagri 96/2017 Pasal 4 ayat (2)" in chat.text
    await chat.send("/status")
    # both forums (Musyawarah antar-Desa and Musyawarah Desa) and the BKAD question that shows both texts
    assert "Penyusunan rancangan 0/7" in chat.text
    assert "Pembentukan BKAD" not in chat.text


async def test_triage_another_kabupaten_stops_with_antar_daerah_rule(chat, app):
    await start(chat)
    await chat.tap("Dengan Desa lain")
    await chat.tap("Kabupaten/kota lain, satu provinsi")
    await chat.tap("Tidak, kerja sama lain")  # not founding a BUM Desa bersama (PP 11/2021 Pasal 7 ayat (4))
    assert "kerja sama antar-Daerah" in chat.text
    assert "Permendagri 96/2017 Pasal 3 ayat (2)" in chat.text
    assert "berhenti" in chat.text
    assert focus(app).guide is None
    await chat.send("apa itu bkad")  # no longer in the flow: an ordinary question
    assert "Para pihak" not in chat.text and "BKAD" in chat.text
    await chat.send("/status")  # says why it stopped, and offers a new proposal, not "continue"
    assert "berhenti saat penentuan jenis" in chat.text and "kerja sama antar-Daerah" in chat.text
    assert t.STATUS_TRIAGE not in chat.text and chat.labels == [t.NEW]
    await chat.send("/usulan")
    assert t.WHERE_STOPPED in chat.text and "selesai" not in chat.text
    assert chat.labels == [t.NEW]
    await chat.tap(t.NEW)
    assert t.NAME_HEADING in chat.text


async def test_triage_another_province_stops_honestly(chat, app):
    await start(chat)
    await chat.tap("Dengan Desa lain")
    await chat.tap("Provinsi lain")
    await chat.tap("Tidak, kerja sama lain")
    assert "tidak diatur dalam teks peraturan yang tersedia" in chat.text and "Camat atau Dinas PMD" in chat.text
    assert "antar-Daerah" not in chat.text and "berhenti" in chat.text
    assert focus(app).guide is None
    p = app.storage.db.execute("SELECT outcome, current FROM proposals").fetchone()
    assert tuple(p) == ("lintas-provinsi", "")
    assert app.storage.db.execute("SELECT at FROM proposals").fetchone()[0] == "stopped"


async def test_triage_pihak_ketiga_prakarsa_desa(chat, app):
    await pihak_ketiga(chat, "Prakarsa Desa", "CV Tani Makmur", "Pihak swasta")
    outcome = next(o.text for o in chat.replies if o.reply.heading == t.OUTCOME_HEADING)
    assert "Perjanjian Bersama" in outcome and "Permendagri 96/2017 Pasal 5 ayat (2) huruf a" in outcome
    await chat.tap("Sudah")  # inventarisasi
    await chat.tap("Sudah")  # skala prioritas
    # RKP Desa rests on a machine-altered copy: the step says it is unverified
    assert "RKP Desa" in chat.text and texts.UNVERIFIED_MARK in chat.text and "belum dicocokkan" in chat.text


async def test_triage_pihak_ketiga_prakarsa_pihak_ketiga_is_honest_about_pasal_15(chat, app, knowledge):
    await pihak_ketiga(chat, "Prakarsa pihak ketiga", "Yayasan Air Bersih", "Organisasi kemasyarakatan")
    outcome = next(o.text for o in chat.replies if o.reply.heading == t.OUTCOME_HEADING)
    assert "Pasal 15" in outcome and "Permendagri 96/2017 Pasal 5 ayat (2) huruf b" in outcome
    assert "Tahapan 1/1" in chat.text
    assert t.NO_BASIS in chat.text
    # Only what Pasal 5 ayat (2)/(3), Pasal 6 and PP 43/2014 Pasal 143 establish is required on this path.
    flow = knowledge.flows.flows["pihak-ketiga-prakarsa-mitra"]
    cited = {c.split(" ayat")[0].split(" huruf")[0] for s in flow.steps for c in s.citations}
    assert cited <= {"Permendagri 96/2017 Pasal 5", "Permendagri 96/2017 Pasal 6", "PP 43/2014 Pasal 143"}


# -- kenapa, skip, edit, cancel, resume ---------------------------------------------------------------------
async def test_kenapa_shows_citation_and_excerpt_and_asks_again(chat):
    await antar_desa(chat)
    await parties(chat)
    await chat.tap(t.WHY)
    assert "Kerja sama antar-Desa dilakukan melalui tahapan" not in chat.text
    assert "Kepala Desa melakukan inventarisasi atas bidang dan/atau potensi Desa" in chat.text
    assert "Permendagri 96/2017 Pasal 13 ayat (2) huruf a" in chat.text
    assert "Persiapan 1/7" in chat.text  # the step is asked again


async def test_skip_stays_missing_edit_changes_cancel_keeps_resume_returns(chat, app):
    await antar_desa(chat)
    await chat.send("Sukamaju")
    await chat.send("/lewati")  # kecamatan skipped
    assert "Dilewati" in chat.text and "Kabupaten/kota Desa" in chat.text
    await chat.send("Cianjur")
    await chat.send("Sukajaya")
    await chat.send("/status")
    assert "Para pihak 3/4" in chat.text and "Kecamatan" in chat.text
    # /ubah → stage → step → new answer; then back to the first unanswered step
    await chat.send("/ubah")
    await chat.tap("Para pihak")
    await chat.tap("Kecamatan")
    assert "Kecamatan Desa Bapak/Ibu?" in chat.text
    await chat.send("Cibeber")
    assert "Persiapan 1/7" in chat.text
    assert answers(app)["kecamatan"] == ("value", "Cibeber")
    # /batal leaves the flow; typed text is a question again
    await chat.send("/batal")
    assert focus(app).guide is None
    await chat.send("siapa saja anggota bkad")
    assert "Persiapan" not in chat.text
    # /usulan resumes at the same step with the same answers
    await chat.send("/usulan")
    assert "Persiapan 1/7" in chat.text
    await chat.send("/ringkasan")
    assert "Sukamaju" in chat.text and "Cibeber" in chat.text and "Sukajaya" in chat.text


async def test_several_named_proposals_one_active(chat, app):
    await antar_desa(chat)
    await chat.send("/usulan Air bersih dengan PDAM")
    assert "Air bersih dengan PDAM" in chat.text
    await chat.tap("Dengan pihak ketiga")
    await chat.send("/batal")
    await chat.send("/usulan")
    assert t.RESUME.format(name="Air bersih dengan PDAM") in chat.labels
    assert t.OPEN.format(name="Jalan tani") in chat.labels
    await chat.tap(t.OPEN.format(name="Jalan tani"))
    assert "Para pihak 1/4" in chat.text
    assert len(proposal_rows(app)) == 2
    assert app.storage.db.execute("SELECT count(*) FROM proposals WHERE active = 1").fetchone()[0] == 1


async def test_whole_flow_reaches_the_end_and_offers_documents(chat, app):
    await antar_desa(chat)
    await parties(chat)
    for _ in range(60):
        if "Semua langkah" in chat.text:
            break
        if t.SUDAH in chat.labels:
            await chat.tap(t.SUDAH)
        else:
            await chat.send("/lewati")
    assert "Semua langkah" in chat.text and t.DOCS_BUTTON in chat.labels
    await chat.tap(t.DOCS_BUTTON)
    docs = [o.reply.document for o in chat.last if o.reply.document]
    assert len(docs) == 6  # instrument, offer letters, summary: each as PDF and .docx
    # every step visited but the skipped text steps are missing: never called "selesai"
    missing = sum(1 for status, _ in answers(app).values() if status == "skipped")
    assert missing > 0
    await chat.send("/usulan")
    assert t.WHERE_DONE.format(n=missing) in chat.text and "(selesai" not in chat.text
    await chat.send("/status")
    assert t.WHERE_DONE.format(n=missing).capitalize() in chat.text


# -- questions mid-flow -------------------------------------------------------------------------------------
async def test_question_on_a_confirm_step_is_answered_then_the_step_is_asked_again(chat, app):
    await antar_desa(chat)
    await parties(chat)
    before = answers(app)
    await chat.send("apa itu bkad")
    assert "PP 43/2014 Pasal 144" in chat.text or "UU 6/2014 Pasal 92" in chat.text
    assert t.QUESTION_THEN_STEP in chat.text and "Persiapan 1/7" in chat.text
    assert answers(app) == before
    await chat.send("1")  # the number refers to the re-asked step again
    assert answers(app)["inventarisasi"] == ("sudah", "")


async def test_question_on_a_text_step_versus_an_answer(chat, app):
    await antar_desa(chat)
    await chat.send("siapa saja anggota bkad?")
    assert "Para pihak 1/4" in chat.text and t.QUESTION_THEN_STEP in chat.text
    assert "desa" not in answers(app)
    await chat.send("Sukamaju")
    assert answers(app)["desa"] == ("value", "Sukamaju")


# -- stale and double taps ----------------------------------------------------------------------------------
async def test_double_tap_applies_once_and_stale_tap_changes_nothing(chat, app):
    await antar_desa(chat)
    await parties(chat)
    out = chat.last[-1]
    sudah = out.choice_tokens[[c.label for c in out.choices].index(t.SUDAH)]
    belum = out.choice_tokens[[c.label for c in out.choices].index(t.BELUM)]
    await chat.tap_token(sudah)
    assert "Persiapan 2/7" in chat.text
    rev = app.storage.db.execute("SELECT revision FROM proposals").fetchone()[0]
    await chat.tap_token(sudah)  # the same tap again (double tap or redelivery)
    assert "kedaluwarsa" in chat.text and "Persiapan 2/7" in chat.text
    await chat.tap_token(belum)  # a stale button of the previous step
    assert "kedaluwarsa" in chat.text
    assert answers(app)["inventarisasi"] == ("sudah", "")
    assert "skala-prioritas" not in answers(app)
    assert app.storage.db.execute("SELECT revision FROM proposals").fetchone()[0] == rev


async def test_other_chat_cannot_use_buttons(app):
    alice, bob = FakeChat(app, "alice"), FakeChat(app, "bob")
    await antar_desa(alice)
    token = alice.last[-1].choice_tokens[0]
    await bob.tap_token(token)
    assert "kedaluwarsa" in bob.text
    assert answers(app, "test:bob") == {} and answers(app, "test:alice") == {}


# -- validation ---------------------------------------------------------------------------------------------
async def test_validation_messages(chat, app):
    await chat.send("/usulan")
    await chat.send("x" * 200)
    assert "Nama terlalu panjang" in chat.text
    await chat.send("Jalan tani")
    await chat.tap("Dengan pihak ketiga")
    await chat.tap("Prakarsa pihak ketiga")
    await chat.send(".")
    assert "terlalu pendek" in chat.text
    await chat.send("12345")
    assert "bukan hanya angka" in chat.text
    await parties(chat, "Yayasan Air")
    await chat.tap("Lembaga lainnya")
    await signer(chat)
    await chat.tap(t.SUDAH)  # tahapan
    await chat.send("Pengelolaan air bersih")  # ruang lingkup
    await chat.send("Pembangunan Desa")  # bidang
    await chat.send("Yayasan membangun, Desa memelihara")  # tata cara
    assert "jangka waktu" in chat.text.lower()
    await chat.send("5")
    assert "dengan satuannya" in chat.text and "5 tahun" in chat.text
    await chat.send("lama sekali")
    assert "belum jelas" in chat.text
    await chat.send("y" * 2000)
    assert "terlalu panjang" in chat.text
    assert "jangka_waktu" not in answers(app) and "jangka-waktu" not in answers(app)
    await chat.send("5 tahun sejak ditandatangani")
    assert answers(app)["jangka-waktu"] == ("value", "5 tahun sejak ditandatangani")


def test_validate_function():
    assert validate("duration", "Januari 2026 sampai Desember 2027") is None
    assert validate("duration", "18 bulan") is None
    assert validate("text", "Dana Desa") is None
    assert validate("name", "") == t.TOO_SHORT


# -- /hapus ---------------------------------------------------------------------------------------------------
async def test_hapus_asks_then_deletes_everything_of_this_chat_only(app):
    me, other = FakeChat(app, "me"), FakeChat(app, "other")
    await antar_desa(me)
    await antar_desa(other)
    await me.send("Sukamaju")
    await me.send("/hapus")
    assert t.DELETE_YES in me.labels
    await me.tap(t.DELETE_NO)
    assert "tidak ada yang dihapus" in me.text.lower()
    assert answers(app, "test:me")
    await me.send("/hapus")
    confirm = me.last[0].choice_tokens[0]
    await me.tap(t.DELETE_YES)
    assert "sudah dihapus" in me.text
    for table in ("proposals", "proposal_answers", "chat_focus", "menus"):
        n = app.storage.db.execute(f"SELECT count(*) FROM {table} WHERE chat_key = 'test:me'").fetchone()[0]
        assert n == 0, table
    assert proposal_rows(app, "test:other")
    await me.tap_token(confirm)  # the old confirmation cannot fire again
    assert "kedaluwarsa" in me.text
    await me.send("/status")
    assert t.NO_PROPOSAL in me.text


async def test_commands_outside_a_flow_are_polite(chat):
    for cmd, expected in (("/status", t.NO_PROPOSAL), ("/lewati", t.NOT_IN_FLOW), ("/dokumen", t.NO_PROPOSAL),
                          ("/ubah", t.NO_PROPOSAL), ("/ringkasan", t.NO_PROPOSAL)):
        await chat.send(cmd)
        assert expected in chat.text, cmd


async def test_text_step_buttons_answer_to_their_numbers(chat, app):
    """A client without buttons is never stuck: "1"/"2" on a text step choose Lewati/Kenapa?."""
    await antar_desa(chat)
    assert chat.labels == [t.SKIP, t.WHY]
    await chat.send("2")
    assert t.WHY_HEADING in chat.text and "Permendagri 96/2017 Pasal 3" in chat.text
    await chat.send("1")
    assert "Dilewati" in chat.text
    await chat.send("Sukamaju")
    assert "Sukamaju" in chat.text
    assert sorted(status for status, _ in answers(app).values()) == ["skipped", "value"]


async def test_documents_mid_flow_offer_the_way_back(chat):
    await antar_desa(chat)
    await chat.send("/dokumen")
    assert sum(1 for o in chat.last if o.reply.document) == 6
    assert chat.labels == [t.CONTINUE_BUTTON]
    await chat.send("1")
    assert "Nama Desa Bapak/Ibu" in chat.text


async def test_number_at_the_name_step_is_not_taken_from_an_older_menu(chat, app):
    await chat.send("/mulai")
    await chat.tap(texts.MENU_PROPOSAL)
    await chat.send("1")  # the name step has no buttons: "1" is not "Tanya aturan" from the main menu
    assert "ketik pertanyaan" not in chat.text
    await chat.send("Jalan tani")
    assert "Bapak/Ibu ingin bekerja sama dengan siapa?" in chat.text
