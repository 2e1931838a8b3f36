"""The drafts as a Camat's staff would receive them: opened with python-docx and pypdf, checked for layout.

The proposal of issue 13 (Desa Sukamaju, Kec. Cibeber, Kab. Cianjur; partners Desa Sukajaya and Desa Mekarsari) is
filled through the chat and its documents are opened as files: no doubled words, no drafting notes or citation
lines in the text a village signs, every village named and signing once, missing answers as placeholders.
"""

import io
import re
import shutil
import subprocess

import docx
import pytest
from pypdf import PdfReader

from handlers import checklist_texts as t
from handlers import documents, drafts
from handlers.checklist import Answer, At, Proposal
from handlers.docmodel import NOTES_HEADING
from tests.test_checklist import antar_desa, parties, signer, start

ANSWERS = {
    "ruang_lingkup": "Pembangunan dan pemeliharaan jalan tani penghubung",
    "bidang": "Pembangunan Desa",
    "tata_cara": "Dikerjakan bersama oleh ketiga Desa",
    "jangka_waktu": "3 tahun sejak ditandatangani",
    "hak_kewajiban": "Setiap Desa memelihara ruas jalan di wilayahnya",
    "pendanaan": "APB Desa masing-masing",
    "perubahan": "Disepakati dalam Musyawarah antar-Desa",
}
PROMPTS = {
    "ruang_lingkup": "ruang lingkup kerja samanya", "bidang": "bidang kerja samanya",
    "tata_cara": "tata cara dan ketentuan pelaksanaannya", "jangka_waktu": "jangka waktu kerja samanya",
    "hak_kewajiban": "hak dan kewajiban masing-masing", "pendanaan": "pendanaan kerja sama ini",
    "perubahan": "perubahan, penundaan, dan pembatalan kerja sama ini",
}  # fmt: skip
DOUBLED = re.compile(r"\b(Desa|Kab\.|Kabupaten|Kec\.|Kecamatan)[ \t]+\1\b", re.IGNORECASE)  # within a line
LEGAL_REFS = re.compile(r"Dasar:|Permendagri|PP \d|UU \d|Isi minimal|terpotong")


# -- helpers -------------------------------------------------------------------------------------------------
def docx_text(document) -> tuple[list[str], str]:
    """The paragraphs of a .docx (tables included, in order) and its text up to the drafting notes."""
    d = docx.Document(io.BytesIO(document.data))
    lines = []
    for block in d.element.body.iterchildren():
        if block.tag.endswith("}p"):
            lines.append("".join(t.text or "" for t in block.iter() if t.tag.endswith("}t")))
        elif block.tag.endswith("}tbl"):
            for cell in block.iter():
                if cell.tag.endswith("}tc"):
                    paras = [p for p in cell.iter() if p.tag.endswith("}p")]
                    lines.append("\n".join("".join(t.text or "" for t in p.iter() if t.tag.endswith("}t"))
                                           for p in paras))  # fmt: skip
    text = "\n".join(lines)
    return lines, text.split(NOTES_HEADING)[0]


def pdf_pages(document) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(document.data)).pages]


def body_of(pages: list[str]) -> str:
    """The text of the pages up to the drafting notes, page numbers ("– 2 –") left out."""
    text = re.sub(r"(?m)^– \d+ –$", "", "\n".join(pages))
    return text.split(NOTES_HEADING)[0].strip()


async def fill_antar_desa(chat, partners="Desa Sukajaya, Desa Mekarsari", desa="Desa Sukamaju"):
    await antar_desa(chat)
    for value in (desa, "Kec. Cibeber", "Kab. Cianjur", partners):
        await chat.send(value)
    for _ in range(40):
        text = chat.last[-1].reply.text
        field = next((f for f in ANSWERS if chat.last[-1].reply.heading and PROMPTS[f] in text), None)
        if "perselisihan akan diselesaikan" in text:
            await chat.send("/lewati")  # left missing: must appear as a placeholder
        elif field:
            await chat.send(ANSWERS[field])
        elif t.SUDAH in chat.labels:
            await chat.tap(t.SUDAH)
        else:
            break
    assert "Semua langkah" in chat.text


def by_name(chat) -> dict:
    return {o.reply.document.filename: o.reply.document for o in chat.last if o.reply.document}


def proposal(flows, triage, values, pid=1, name="Jalan tani", choices=None):
    """A proposal built directly (no chat): every confirm step "Sudah", text steps from `values`."""
    flow_id = "antar-desa" if triage.get("jenis") == "antar-desa" else "pihak-ketiga-prakarsa-desa"
    flow = flows.flows[flow_id]
    answers = {}
    for s in flow.steps_for(triage):
        if s.field in values:
            answers[s.id] = Answer("value", values[s.field])
        elif s.kind == "confirm":
            answers[s.id] = Answer("sudah")
        elif s.kind == "choice":
            answers[s.id] = Answer("value", (choices or {}).get(s.id, s.options[0]))
    outcome = {"tidak": "antar-desa-bkad", "ya": "antar-desa-pemerintah-desa"}.get(triage.get("bum-desa"), flow_id)
    return Proposal(pid, name, flow_id, outcome, at=At.DONE, triage=triage, answers=answers)


ANTAR = {"jenis": "antar-desa", "wilayah": "satu-kecamatan", "bum-desa": "tidak"}
PARTIES = {"desa": "Desa Sukamaju", "kecamatan": "Kec. Cibeber", "kabupaten": "Kab. Cianjur",
           "mitra": "Desa Sukajaya, Desa Mekarsari"}  # fmt: skip


# -- the proposal of issue 13, through the chat ---------------------------------------------------------------
async def test_issue_13_proposal_gives_pdf_and_docx_a_camat_could_work_from(chat, app):
    await fill_antar_desa(chat)
    await chat.send("/dokumen")
    docs = [o.reply.document for o in chat.last if o.reply.document]
    pid = app.storage.db.execute("SELECT id FROM proposals").fetchone()[0]
    stems = [f"usulan-{pid}-jalan-tani-{k}" for k in ("rancangan-peraturan-bersama", "surat-penawaran", "ringkasan")]
    assert [d.filename for d in docs] == [f"{s}.pdf" for s in stems] + [f"{s}.docx" for s in stems]
    assert [d.mime for d in docs[:3]] == ["application/pdf"] * 3 and all("wordprocessingml" in d.mime for d in docs[3:])
    named = by_name(chat)
    for ext, read in (("docx", lambda d: docx_text(d)[1]), ("pdf", lambda d: body_of(pdf_pages(d)))):
        perber = read(named[f"{stems[0]}.{ext}"])
        _check_peraturan_bersama(perber, ext)
        letters = read(named[f"{stems[1]}.{ext}"])
        _check_letters(letters, ext)
        summary = read(named[f"{stems[2]}.{ext}"])
        assert "Desa Sukajaya" in summary and "Desa Mekarsari" in summary and not DOUBLED.search(summary), ext
        assert "Permendagri 96/2017 Pasal 13 ayat (2) huruf a" in summary.replace("\n", " ")  # a working paper
    # the drafting notes are there, on their own page, with the citations
    notes = pdf_pages(named[f"{stems[0]}.pdf"])[-1]
    assert NOTES_HEADING in notes and "Permendagri 96/2017 Pasal 6" in notes and "PP 43/2014 Pasal 88 ayat (2)" in notes


def _flat(text: str) -> str:
    return " ".join(text.split())


def _check_peraturan_bersama(text: str, ext: str) -> None:
    flat = _flat(text)
    assert not DOUBLED.search(text) and "Kabupaten/Kota Kab" not in text, ext
    assert not LEGAL_REFS.search(text.split("Menetapkan")[-1]), (ext, LEGAL_REFS.search(text.split("Menetapkan")[-1]))
    head = ("KABUPATEN CIANJUR PERATURAN BERSAMA KEPALA DESA SUKAMAJU KEPALA DESA SUKAJAYA DAN KEPALA DESA "
            "MEKARSARI NOMOR …… TAHUN …… NOMOR …… TAHUN …… NOMOR …… TAHUN …… TENTANG "
            "KERJA SAMA ANTAR-DESA BIDANG PEMBANGUNAN DESA DENGAN RAHMAT TUHAN YANG MAHA ESA "
            "KEPALA DESA SUKAMAJU, KEPALA DESA SUKAJAYA, DAN KEPALA DESA MEKARSARI,")
    assert flat.startswith(head), (ext, flat[:400])
    for word in ("Menimbang", "Mengingat", "MEMUTUSKAN:", "Menetapkan", "Ditetapkan di"):
        assert word in text, (ext, word)
    assert "Undang-Undang Nomor 6 Tahun 2014 tentang Desa" in flat
    assert "Peraturan Menteri Dalam Negeri Nomor 96 Tahun 2017" in flat
    for value in ANSWERS.values():
        assert value in flat, (ext, value)
    assert "[… belum diisi: penyelesaian perselisihan …]" in flat
    assert "Badan Kerja Sama Antar-Desa" in flat  # the BKAD path has a BKAD article
    # one signature block per Desa, each Desa signing once
    for village in ("Sukamaju", "Sukajaya", "Mekarsari"):
        assert flat.count(f"KEPALA DESA {village.upper()}, [… belum diisi: nama Kepala Desa {village} …]") == 1, (
            ext, village)


def _check_letters(text: str, ext: str) -> None:
    flat = _flat(text)
    assert not DOUBLED.search(text) and "Kab. Cianjur" not in text and "Kabupaten/Kota" not in text, ext
    assert not LEGAL_REFS.search(text), (ext, LEGAL_REFS.search(text))
    assert flat.count("Kepada Yth.") == 2  # one letter per partner
    assert "Kepala Desa Sukajaya di Tempat" in flat and "Kepala Desa Mekarsari di Tempat" in flat
    assert flat.count("Sukamaju, [… belum diisi: tanggal …]") == 2  # place and date line
    assert "Pemerintah Desa Sukamaju, Kecamatan Cibeber, Kabupaten Cianjur, menawarkan" in flat
    for f in ("bidang", "ruang_lingkup", "tata_cara", "jangka_waktu", "hak_kewajiban"):
        assert ANSWERS[f] in flat, (ext, f)


async def test_letters_are_one_page_each_and_say_why_item_5_is_there_only_in_the_notes(chat):
    await fill_antar_desa(chat)
    await chat.send("/dokumen")
    letter = next(d for d in by_name(chat).values() if d.filename.endswith("surat-penawaran.pdf"))
    pages = pdf_pages(letter)
    assert [("Kepala Desa Sukajaya" in p, "Kepala Desa Mekarsari" in p) for p in pages[:2]] == [(True, False),
                                                                                            (False, True)]
    assert NOTES_HEADING in pages[-1] and "terpotong" in pages[-1]
    assert "Permendagri 96/2017 Pasal 13 ayat (3) huruf b" in _flat(pages[-1])


# -- names as users type them ---------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", [
    {"desa": "Desa Sukamaju", "kecamatan": "Kec. Cibeber", "kabupaten": "Kab. Cianjur",
     "mitra": "Desa Sukajaya, Desa Mekarsari"},
    {"desa": "sukamaju", "kecamatan": "cibeber", "kabupaten": "cianjur", "mitra": "sukajaya dan mekarsari"},
    {"desa": "Ds. Sukamaju", "kecamatan": "Kecamatan Cibeber", "kabupaten": "Kabupaten Cianjur",
     "mitra": "Ds. Sukajaya; DESA MEKARSARI"},
])  # fmt: skip
def test_documents_read_the_same_however_names_are_typed(knowledge, typed):
    reference = _texts(knowledge.flows, PARTIES)
    assert _texts(knowledge.flows, typed) == reference
    assert "KEPALA DESA SUKAJAYA" in reference[0] and "Kepala Desa Mekarsari" in reference[1]


def _texts(flows, party_values) -> list[str]:
    p = proposal(flows, ANTAR, {**party_values, **ANSWERS})
    return [docx_text(d)[1] for d in documents.build_all(flows, p) if d.filename.endswith(".docx")]


def test_bkad_article_follows_the_path_and_the_users_choice(knowledge):
    flows = knowledge.flows
    values = {**PARTIES, **ANSWERS}
    ya = {"jenis": "antar-desa", "wilayah": "satu-kecamatan", "bum-desa": "ya"}
    with_bkad = proposal(flows, ya, values, choices={"bkad-pilihan": "Ya, bentuk BKAD"})
    without = proposal(flows, ya, values, choices={"bkad-pilihan": "Tidak, Pemerintah Desa"})
    text_with = docx_text(documents.build_all(flows, with_bkad)[3])[1]
    lines, text_without = docx_text(documents.build_all(flows, without)[3])
    notes = "\n".join(lines)
    assert "Badan Kerja Sama Antar-Desa" in text_with and "Badan Kerja Sama Antar-Desa" not in text_without
    assert "Peraturan Pemerintah Nomor 11 Tahun 2021" in text_without  # a BUM Desa path cites PP 11/2021 too
    assert "Permendagri 96/2017 Pasal 4 ayat (1)" in notes and "UU 6/2014 Pasal 92 ayat (3)" in notes


async def test_bum_desa_bersama_across_kabupaten_goes_on_and_its_draft_founds_it(chat, app):
    """Issue 13 item 4: founding a BUM Desa bersama is not stopped by the antar-Daerah rule."""
    await start(chat)
    await chat.tap("Dengan Desa lain")
    await chat.tap("Kabupaten/kota lain, satu provinsi")
    await chat.tap("Ya, BUM Desa bersama")
    assert "tidak terikat pada batas wilayah administratif" in chat.text and "berhenti" not in chat.text
    assert "PP 11/2021 Pasal 7 ayat (4)" in chat.text and "Permendagri 96/2017 Pasal 3 ayat (2)" in chat.text
    assert "belum dicocokkan dengan teks resmi" in chat.text  # PP 11/2021 rests on an OCR'd copy
    for value in ("Desa Sukamaju", "Kec. Cibeber", "Kab. Cianjur", "Desa Cikadu (Kec. Cikalong, Kab. Bandung)"):
        await chat.send(value)
    await chat.send("/dokumen")
    perber = next(d for d in by_name(chat).values() if d.filename.endswith("peraturan-bersama.docx"))
    lines, body = docx_text(perber)
    flat = _flat(body)
    assert flat.startswith("KABUPATEN CIANJUR DAN KABUPATEN BANDUNG PERATURAN BERSAMA KEPALA DESA SUKAMAJU DAN "
                           "KEPALA DESA CIKADU")
    assert "Pendirian BUM Desa Bersama" in flat and "[… belum diisi: nama BUM Desa bersama …]" in flat
    assert "Peraturan Pemerintah Nomor 11 Tahun 2021 tentang Badan Usaha Milik Desa" in flat
    notes = _flat("\n".join(lines).split(NOTES_HEADING)[-1])
    assert "PP 11/2021 Pasal 7 ayat (6)" in notes and "belum dicocokkan dengan teks resmi" in notes


def test_file_names_never_collide_between_similar_proposal_names(knowledge):
    flows = knowledge.flows
    values = {**PARTIES, **ANSWERS}
    a = proposal(flows, ANTAR, values, pid=3, name="Jalan tani")
    b = proposal(flows, ANTAR, values, pid=4, name="Jalan-Tani!")
    names_a = {d.filename for d in documents.build_all(flows, a)}
    names_b = {d.filename for d in documents.build_all(flows, b)}
    assert len(names_a) == 6 and not names_a & names_b


# -- pihak ketiga -------------------------------------------------------------------------------------------------
async def test_perjanjian_bersama_is_laid_out_as_an_agreement_with_the_companys_signatory(chat):
    await start(chat, "Air bersih")
    await chat.tap("Dengan pihak ketiga")
    await chat.tap("Prakarsa Desa")
    await parties(chat, "pt air jernih")
    await chat.tap("Pihak swasta")
    await signer(chat, "Budi Santoso", "Direktur Utama")
    await chat.tap(t.BELUM)  # inventarisasi: an explicit "Belum", not an empty field
    await chat.send("/dokumen")
    docs = [o.reply.document for o in chat.last if o.reply.document]
    assert [d.filename.rsplit("-", 1)[-1] for d in docs] == ["bersama.pdf", "ringkasan.pdf", "bersama.docx",
                                                              "ringkasan.docx"]  # fmt: skip
    for text in (docx_text(docs[2])[1], body_of(pdf_pages(docs[0]))):
        flat = _flat(text)
        assert flat.startswith("PERJANJIAN BERSAMA ANTARA PEMERINTAH DESA SUKAMAJU KECAMATAN CIBEBER KABUPATEN "
                               "CIANJUR DENGAN PT AIR JERNIH TENTANG")
        assert "Budi Santoso, Direktur Utama PT Air Jernih, dalam hal ini bertindak untuk dan atas nama PT Air " \
               "Jernih, selanjutnya disebut PIHAK KEDUA" in flat
        assert "PIHAK KESATU" in flat and "Ditetapkan di" not in flat and "(nama dan tanda tangan)" not in flat
        assert "[… belum diisi: jangka waktu …]" in flat
        assert not LEGAL_REFS.search(flat), LEGAL_REFS.search(flat)
    summary = docx.Document(io.BytesIO(docs[3].data))
    rows: dict[str, str] = {}
    for table in summary.tables:
        for r in table.rows:
            rows.setdefault(r.cells[0].text, r.cells[1].text)
    assert rows["Inventarisasi bidang/potensi"] == t.BELUM  # its own status, not a placeholder
    assert rows["Skala prioritas"] == "[… belum diisi: menunggu: Inventarisasi bidang/potensi …]"  # it rests on it
    assert rows["Pihak ketiga"] == "PT Air Jernih" and rows["Penanda tangan pihak ketiga"] == "Budi Santoso, Direktur Utama"
    heads = [p.text for p in summary.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert heads[0] == "Ringkasan Usulan Kerja Sama" and "Para pihak (7/7)" in heads and "Penawaran (0/2)" in heads


# -- the files themselves --------------------------------------------------------------------------------------
def test_pdf_embeds_its_font_and_has_a_title(knowledge):
    doc = documents.build_all(knowledge.flows, proposal(knowledge.flows, ANTAR, {**PARTIES, **ANSWERS}))[0]
    reader = PdfReader(io.BytesIO(doc.data))
    assert reader.metadata.title == "Rancangan Peraturan Bersama Kepala Desa"
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert fonts and all(f["/Subtype"] == "/TrueType" and "BitstreamVera" in f["/BaseFont"] for f in fonts)
    assert all("/FontFile2" in f["/FontDescriptor"].get_object() for f in fonts)  # embedded, nothing left to the viewer
    assert "…" in reader.pages[0].extract_text()  # the ellipsis of "NOMOR …… TAHUN ……" survives


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_pdf_page_renders_to_png(knowledge, tmp_path):
    """Render page 1 with poppler; the page is not blank and has ink where the title is."""
    from PIL import Image

    doc = documents.build_all(knowledge.flows, proposal(knowledge.flows, ANTAR, {**PARTIES, **ANSWERS}))[0]
    pdf = tmp_path / doc.filename
    pdf.write_bytes(doc.data)
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)  # fmt: skip
    png = next(tmp_path.glob("page*.png"))
    image = Image.open(png).convert("L")
    width, height = image.size
    assert abs(height / width - 297 / 210) < 0.02  # A4
    dark = sum(image.histogram()[:128])
    assert 0.005 < dark / (width * height) < 0.3
    top = image.crop((0, int(height * 0.08), width, int(height * 0.12)))
    assert sum(top.histogram()[:128]) > 0  # the kabupaten line at the top


async def test_documents_wait_for_the_triage(chat):
    await start(chat)
    await chat.send("/dokumen")
    assert t.DOCS_NOT_READY in chat.text


async def test_documents_are_built_off_the_event_loop(chat, monkeypatch):
    """/dokumen builds the files in a worker thread, so other chats are not blocked meanwhile."""
    import threading

    threads = []
    build_all = documents.build_all

    def recording(flows, p):
        threads.append(threading.current_thread())
        return build_all(flows, p)

    monkeypatch.setattr(documents, "build_all", recording)
    await antar_desa(chat)
    await chat.send("/dokumen")
    assert sum(1 for o in chat.last if o.reply.document) == 6
    await chat.send("/status")
    await chat.tap(t.DOCS_BUTTON)  # the button path too
    assert sum(1 for o in chat.last if o.reply.document) == 6
    assert len(threads) == 2 and threading.main_thread() not in threads


def test_parties_reads_names_once(knowledge):
    p = proposal(knowledge.flows, ANTAR, {**PARTIES, "mitra": "Desa Sukajaya, sukajaya, Ds. Mekarsari"})
    assert drafts.parties(knowledge.flows, p).villages == ["Sukamaju", "Sukajaya", "Mekarsari"]
