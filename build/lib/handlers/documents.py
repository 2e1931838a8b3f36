"""The proposal's documents as .docx (python-docx): summary, draft instrument, and the antar-Desa offer letter.

Missing answers appear as visible, highlighted placeholders "[… belum diisi: <what> …]" so the village office
sees at once what to complete.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import re

from docx import Document as new_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX

from handlers import checklist as engine
from handlers import checklist_texts as t
from handlers.checklist import Proposal
from handlers.citing import cite_line
from handlers.messages import Document
from knowledge.flows import CONTENTS, Flow, Flows

PARTY_LABELS = {"desa": "Desa", "kecamatan": "Kecamatan", "kabupaten": "Kabupaten/Kota"}
NOTE = (
    "Draf dibuat oleh Pandu Kerja Sama Desa dari jawaban Bapak/Ibu pada {date}. Periksa kembali bersama Camat/DPMD "
    "dan salinan resmi peraturan (JDIH) sebelum dipakai."
)
OFFER_ITEMS = ("bidang", "ruang_lingkup", "tata_cara", "jangka_waktu", "hak_kewajiban")
OFFER_LABELS = {"bidang": "Bidang dan/atau potensi Desa"}


def placeholder(what: str) -> str:
    """The visible marker for an answer still missing."""
    return f"[… belum diisi: {what} …]"


def _slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")
    return (s[:40].rstrip("-") or "usulan")


def _add(par, text: str, missing: str = "", bold: bool = False) -> None:
    """Append text to a paragraph, or a highlighted placeholder when the text is empty."""
    if text:
        run = par.add_run(text)
        run.bold = bold
    else:
        run = par.add_run(placeholder(missing))
        run.bold = True
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _labeled(doc, label: str, value: str) -> None:
    par = doc.add_paragraph()
    par.add_run(f"{label}: ").bold = True
    _add(par, value, label)


def _note(doc, text: str) -> None:
    par = doc.add_paragraph()
    run = par.add_run(text)
    run.italic = True


def _bytes(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _today() -> str:
    return dt.date.today().isoformat()


def _party_lines(flow: Flow, values: dict[str, str], p: Proposal) -> list[tuple[str, str]]:
    partner = "Desa mitra" if flow.offer_letter else "Pihak ketiga"
    lines = [(PARTY_LABELS[k], values.get(k, "")) for k in ("desa", "kecamatan", "kabupaten")]
    lines.append((partner, values.get("mitra", "")))
    kind = p.answers.get("jenis-mitra")
    if not flow.offer_letter and kind is not None and kind.status == "value":
        lines.append(("Jenis pihak ketiga", kind.value))
    return lines


def summary_docx(flows: Flows, p: Proposal) -> Document:
    """Document 1: the checklist with every step's status and citation."""
    flow = engine.flow_of(flows, p)
    doc = new_docx()
    doc.add_heading("Ringkasan Usulan Kerja Sama", level=0)
    _labeled(doc, "Nama usulan", p.name)
    _labeled(doc, "Jenis kerja sama", flow.title)
    _labeled(doc, "Dituangkan dalam", flow.instrument)
    outcome = flows.outcomes.get(p.outcome)
    if outcome:
        doc.add_paragraph(outcome.text)
        _note(doc, cite_line(outcome.citations))
    # The parties are the first stage's table below (one "Para pihak" heading, not two).
    steps = engine.active_steps(flows, p)
    for (title, done, total, _), stage in zip(engine.progress(flows, p), flow.stages):
        doc.add_heading(f"{title} ({done}/{total})", level=1)
        table = doc.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, head in zip(table.rows[0].cells, ("Langkah", "Status", "Dasar")):
            cell.text = ""
            cell.paragraphs[0].add_run(head).bold = True
        for s in (x for x in steps if x.stage == stage.id):
            a = p.answers.get(s.id)
            row = table.add_row().cells
            row[0].text = engine.step_title(s)
            if a is not None and a.status == "belum":  # answered "Belum": a status of its own, not a gap
                row[1].text = ""
                _add(row[1].paragraphs[0], engine.answer_label(a), bold=True)
            elif engine.is_missing(s, a):
                row[1].text = ""
                _add(row[1].paragraphs[0], "", engine.answer_label(a).lower())
            else:
                row[1].text = engine.answer_label(a)
            basis = "; ".join(s.citations)
            if s.missing:
                basis += ("\n" if basis else "") + f"{s.missing}: {t.NO_BASIS}"
            if s.status == "unverified":
                basis += "\n(belum terverifikasi)"
            row[2].text = basis
    _note(doc, NOTE.format(date=_today()))
    return Document(f"usulan-{_slug(p.name)}-ringkasan.docx", _bytes(doc), caption="Ringkasan usulan (checklist)")


def draft_docx(flows: Flows, p: Proposal) -> Document:
    """Document 2: the draft Peraturan Bersama Kepala Desa / Perjanjian Bersama, by the eight minimum contents."""
    flow = engine.flow_of(flows, p)
    values = engine.fields(flows, p)
    antar = flow.offer_letter
    doc = new_docx()
    title = "Rancangan Peraturan Bersama Kepala Desa" if antar else "Rancangan Perjanjian Bersama"
    doc.add_heading(title, level=0)
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if antar:
        head.add_run("KEPALA DESA ")
        _add(head, values.get("desa", "").upper(), "Desa pengusul")
        head.add_run(" DAN KEPALA DESA ")
        _add(head, values.get("mitra", "").upper(), "Desa mitra")
    else:
        head.add_run("ANTARA PEMERINTAH DESA ")
        _add(head, values.get("desa", "").upper(), "Desa")
        head.add_run(" DENGAN ")
        _add(head, values.get("mitra", "").upper(), "pihak ketiga")
    num = doc.add_paragraph()
    num.alignment = WD_ALIGN_PARAGRAPH.CENTER
    num.add_run("NOMOR ")
    _add(num, "", "nomor")
    num.add_run(" TAHUN ")
    _add(num, "", "tahun")
    about = doc.add_paragraph()
    about.alignment = WD_ALIGN_PARAGRAPH.CENTER
    about.add_run("TENTANG KERJA SAMA ")
    _add(about, values.get("bidang", "").upper(), "bidang kerja sama")
    doc.add_heading("Para Pihak", level=1)
    for label, value in _party_lines(flow, values, p):
        _labeled(doc, label, value)
    basis = "Permendagri 96/2017 Pasal 3 ayat (3) dan Pasal 6; PP 43/2014 Pasal 143 ayat (2) dan ayat (4)"
    if not antar:
        basis = "Permendagri 96/2017 Pasal 5 ayat (3) dan Pasal 6; PP 43/2014 Pasal 143 ayat (3) dan ayat (4)"
    _note(doc, f"Isi minimal ({basis}):")
    for i, (field, label, huruf) in enumerate(CONTENTS, 1):
        doc.add_heading(f"Pasal {i} — {label}", level=1)
        _add(doc.add_paragraph(), values.get(field, ""), label.lower())
        _note(doc, f"(Permendagri 96/2017 Pasal 6 huruf {huruf}; PP 43/2014 Pasal 143 ayat (4) huruf {huruf})")
    doc.add_heading("Penandatanganan", level=1)
    place = doc.add_paragraph("Ditetapkan di ")
    _add(place, "", "tempat")
    place.add_run(", pada tanggal ")
    _add(place, "", "tanggal")
    sign = doc.add_paragraph()
    sign.add_run("Kepala Desa ")
    _add(sign, values.get("desa", ""), "Desa")
    sign.add_run("\n\n\n(nama dan tanda tangan)\n\n")
    sign.add_run("Kepala Desa " if antar else "")
    _add(sign, values.get("mitra", ""), "Desa mitra" if antar else "pihak ketiga")
    sign.add_run("\n\n\n(nama dan tanda tangan)")
    _note(doc, NOTE.format(date=_today()))
    name = "rancangan-peraturan-bersama" if antar else "rancangan-perjanjian-bersama"
    return Document(f"usulan-{_slug(p.name)}-{name}.docx", _bytes(doc), caption=title)


def offer_docx(flows: Flows, p: Proposal) -> Document:
    """Document 3 (antar-Desa): the draft Surat Penawaran Kerja Sama (Permendagri 96/2017 Pasal 13 ayat (3))."""
    values = engine.fields(flows, p)
    labels = {f: label for f, label, _ in CONTENTS} | OFFER_LABELS
    doc = new_docx()
    doc.add_heading("Surat Penawaran Kerja Sama", level=0)
    for label in ("Nomor", "Lampiran"):
        _labeled(doc, label, "")
    _labeled(doc, "Perihal", "Penawaran kerja sama antar-Desa")
    to = doc.add_paragraph("Kepada Yth. Kepala Desa ")
    _add(to, values.get("mitra", ""), "Desa mitra")
    doc.add_heading("Isi Penawaran", level=1)
    intro = doc.add_paragraph("Dengan hormat, Pemerintah Desa ")
    _add(intro, values.get("desa", ""), "Desa")
    intro.add_run(", Kecamatan ")
    _add(intro, values.get("kecamatan", ""), "Kecamatan")
    intro.add_run(", Kabupaten/Kota ")
    _add(intro, values.get("kabupaten", ""), "Kabupaten/Kota")
    intro.add_run(", menawarkan rencana kerja sama sebagai berikut:")
    for i, field in enumerate(OFFER_ITEMS, 1):
        par = doc.add_paragraph(f"{i}. ")
        par.add_run(f"{labels[field]}: ").bold = True
        _add(par, values.get(field, ""), labels[field].lower())
    _note(doc, "Isi minimal surat penawaran: Permendagri 96/2017 Pasal 13 ayat (3) huruf b. Daftar itu terpotong "
          "dalam teks yang tersedia setelah angka 5 (hak dan kewajiban); sisanya " + t.NO_BASIS)
    doc.add_paragraph("Demikian penawaran ini kami sampaikan. Atas perhatian Bapak/Ibu kami ucapkan terima kasih.")
    sign = doc.add_paragraph("Kepala Desa ")
    _add(sign, values.get("desa", ""), "Desa")
    sign.add_run("\n\n\n(nama dan tanda tangan)")
    _note(doc, NOTE.format(date=_today()))
    return Document(f"usulan-{_slug(p.name)}-surat-penawaran.docx", _bytes(doc), caption="Surat Penawaran Kerja Sama")


def build_all(flows: Flows, p: Proposal) -> list[Document]:
    """Every document of a proposal whose triage is finished."""
    flow = engine.flow_of(flows, p)
    docs = [summary_docx(flows, p), draft_docx(flows, p)]
    if flow is not None and flow.offer_letter:
        docs.append(offer_docx(flows, p))
    # python-docx objects form reference cycles that hold their lxml trees (native memory the cycle collector's
    # thresholds do not see); without this, a few MB per document pile up and the process keeps growing
    # (benchmarks/memory.py). A collection here costs a few ms against ~100 ms for the documents themselves.
    gc.collect()
    return docs


def summary_text(flows: Flows, p: Proposal) -> str:
    """A short chat summary: the type, the parties, the eight contents, and the progress per stage."""
    flow = engine.flow_of(flows, p)
    values = engine.fields(flows, p)
    lines = [f"{flow.title} ({flow.instrument})"]
    lines += [f"• {label}: {value or t.SUMMARY_EMPTY}" for label, value in _party_lines(flow, values, p)]
    lines.append("")
    lines += [f"• {label}: {_clip(values.get(field, '')) or t.SUMMARY_EMPTY}" for field, label, _ in CONTENTS]
    lines.append("")
    lines += [t.STATUS_LINE.format(stage=title, done=d, total=n) for title, d, n, _ in engine.progress(flows, p)]
    return "\n".join(lines)


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
