"""The generated .docx files open with python-docx, have the expected headings, and contain the answers."""

import io
import re

import docx

from handlers import checklist_texts as t
from tests.test_checklist import antar_desa, parties, signer, start

ANSWERS = {
    "ruang_lingkup": "Pembangunan jalan tani penghubung",
    "bidang": "Pembangunan Desa",
    "tata_cara": "Dikerjakan bersama oleh kedua Desa",
    "jangka_waktu": "3 tahun sejak ditandatangani",
    "hak_kewajiban": "Kedua Desa memelihara ruas masing-masing",
    "pendanaan": "Dana Desa masing-masing",
    "perubahan": "Disepakati dalam Musyawarah antar-Desa",
}


def _unique(headings: list[str]) -> bool:
    """No section heading twice, counting "Para pihak" and "Para pihak (4/4)" as the same."""
    names = [re.sub(r" \(\d+/\d+\)$", "", h) for h in headings]
    return len(names) == len(set(names))


def _open(document) -> tuple[list[str], str]:
    d = docx.Document(io.BytesIO(document.data))
    headings = [p.text for p in d.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    body = "\n".join(p.text for p in d.paragraphs)
    body += "\n" + "\n".join(c.text for table in d.tables for row in table.rows for c in row.cells)
    return headings, body


async def _fill_antar_desa(chat):
    await antar_desa(chat)
    await parties(chat)
    for _ in range(40):
        text = chat.last[-1].reply.text
        field = next((f for f, _ in ANSWERS.items() if chat.last[-1].reply.heading and _prompt_for(f, text)), None)
        if "Penyelesaian perselisihan" in text or "perselisihan akan diselesaikan" in text:
            await chat.send("/lewati")  # left missing: must appear as a placeholder
        elif field:
            await chat.send(ANSWERS[field])
        elif t.SUDAH in chat.labels:
            await chat.tap(t.SUDAH)
        else:
            break
    assert "Semua langkah" in chat.text


PROMPTS = {
    "ruang_lingkup": "ruang lingkup kerja samanya", "bidang": "bidang kerja samanya", "tata_cara": "tata cara dan ketentuan pelaksanaannya",
    "jangka_waktu": "jangka waktu kerja samanya", "hak_kewajiban": "hak dan kewajiban masing-masing",
    "pendanaan": "pendanaan kerja sama ini", "perubahan": "perubahan, penundaan, dan pembatalan kerja sama ini",
}


def _prompt_for(field, text):
    return PROMPTS[field] in text


async def test_antar_desa_documents(chat):
    await _fill_antar_desa(chat)
    await chat.send("/dokumen")
    docs = {o.reply.document.filename: o.reply.document for o in chat.last if o.reply.document}
    assert sorted(docs) == [
        "usulan-jalan-tani-rancangan-peraturan-bersama.docx",
        "usulan-jalan-tani-ringkasan.docx",
        "usulan-jalan-tani-surat-penawaran.docx",
    ]
    heads, body = _open(docs["usulan-jalan-tani-ringkasan.docx"])
    assert heads[0] == "Ringkasan Usulan Kerja Sama"
    assert {"Para pihak (4/4)", "Persiapan (7/7)", "Penyusunan rancangan (5/6)", "Pelaporan (1/1)"} <= set(heads)
    assert _unique(heads)
    assert "Permendagri 96/2017 Pasal 13 ayat (2) huruf a" in body and "Sukamaju" in body
    assert t.NO_BASIS in body  # steps without a legal text say so
    heads, body = _open(docs["usulan-jalan-tani-rancangan-peraturan-bersama.docx"])
    assert heads[0] == "Rancangan Peraturan Bersama Kepala Desa"
    assert "Pasal 1 — Ruang lingkup kerja sama" in heads and "Pasal 8 — Penyelesaian perselisihan" in heads
    for value in ANSWERS.values():
        assert value in body, value
    assert "[… belum diisi: penyelesaian perselisihan …]" in body
    assert "SUKAMAJU" in body and "SUKAJAYA" in body
    heads, body = _open(docs["usulan-jalan-tani-surat-penawaran.docx"])
    assert heads[0] == "Surat Penawaran Kerja Sama" and "Isi Penawaran" in heads
    for f in ("bidang", "ruang_lingkup", "tata_cara", "jangka_waktu", "hak_kewajiban"):
        assert ANSWERS[f] in body
    assert "Kepala Desa Sukajaya" in body and "Permendagri 96/2017 Pasal 13 ayat (3) huruf b" in body


async def test_pihak_ketiga_documents_have_placeholders_and_no_offer_letter(chat):
    await start(chat, "Air bersih")
    await chat.tap("Dengan pihak ketiga")
    await chat.tap("Prakarsa Desa")
    await parties(chat, "CV Tirta")
    await chat.tap("Pihak swasta")
    await signer(chat)
    await chat.tap(t.BELUM)  # inventarisasi: an explicit "Belum", not an empty field
    await chat.send("/dokumen")
    docs = [o.reply.document for o in chat.last if o.reply.document]
    assert [d.filename for d in docs] == ["usulan-air-bersih-ringkasan.docx", "usulan-air-bersih-rancangan-perjanjian-bersama.docx"]
    heads, body = _open(docs[1])
    assert heads[0] == "Rancangan Perjanjian Bersama"
    assert "CV TIRTA" in body and "[… belum diisi: jangka waktu …]" in body
    heads, body = _open(docs[0])
    assert "Penawaran (0/2)" in heads and "(belum terverifikasi)" in body
    assert _unique(heads) and "Para pihak (5/5)" in heads  # one heading per section
    rows = {r.cells[0].text: r.cells[1].text for table in docx.Document(io.BytesIO(docs[0].data)).tables
            for r in table.rows}
    assert rows["Inventarisasi bidang/potensi"] == t.BELUM  # its own status, not a placeholder
    assert rows["Skala prioritas"] == "[… belum diisi: belum dijawab …]"
    assert rows["Pihak ketiga"] == "CV Tirta" and rows["Jenis pihak ketiga"] == "Pihak swasta"


async def test_documents_wait_for_the_triage(chat):
    await start(chat)
    await chat.send("/dokumen")
    assert t.DOCS_NOT_READY in chat.text


async def test_documents_are_built_off_the_event_loop(chat, monkeypatch):
    """/dokumen builds the .docx files in a worker thread, so other chats are not blocked meanwhile."""
    import threading

    from handlers import documents

    threads = []
    build_all = documents.build_all

    def recording(flows, p):
        threads.append(threading.current_thread())
        return build_all(flows, p)

    monkeypatch.setattr(documents, "build_all", recording)
    await antar_desa(chat)
    await chat.send("/dokumen")
    assert sum(1 for o in chat.last if o.reply.document) == 3
    await chat.send("/status")
    await chat.tap(t.DOCS_BUTTON)  # the button path too
    assert sum(1 for o in chat.last if o.reply.document) == 3
    assert len(threads) == 2 and threading.main_thread() not in threads
