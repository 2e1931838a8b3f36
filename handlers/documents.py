"""The proposal's documents: each draft as a PDF (to read on a phone) and a .docx (to edit), plus the chat summary.

One document model (handlers/docmodel.py), built by handlers/drafts.py, rendered by handlers/pdf_render.py and
handlers/docx_render.py. Order of delivery: the PDFs first (the instrument, the offer letters, the summary: what a
kepala desa reads on the phone), then the same documents as .docx for the village office to edit.
"""

from __future__ import annotations

import gc

from handlers import checklist as engine
from handlers import checklist_texts as t
from handlers import docx_render, drafts, names, pdf_render
from handlers.checklist import Proposal
from handlers.docmodel import Draft
from handlers.messages import Document
from knowledge.flows import CONTENTS, Flows

PDF_CAPTION = "{title} (PDF, untuk dibaca)"
DOCX_CAPTION = "{title} (.docx, untuk diedit)"


def drafts_of(flows: Flows, p: Proposal) -> list[Draft]:
    """The drafts of a proposal whose triage is finished: instrument, offer letters (antar-Desa), summary."""
    flow = engine.flow_of(flows, p)
    if flow.offer_letter:
        return [drafts.peraturan_bersama(flows, p), drafts.surat_penawaran(flows, p), drafts.ringkasan(flows, p)]
    return [drafts.perjanjian_bersama(flows, p), drafts.ringkasan(flows, p)]


def build_all(flows: Flows, p: Proposal) -> list[Document]:
    """Every document of a proposal: each draft as PDF, then each as .docx (one reply per document)."""
    made = drafts_of(flows, p)
    docs = [Document(f"{d.stem}.pdf", pdf_render.render(d), pdf_render.MIME, PDF_CAPTION.format(title=d.title))
            for d in made]  # fmt: skip
    docs += [Document(f"{d.stem}.docx", docx_render.render(d), docx_render.MIME, DOCX_CAPTION.format(title=d.title))
             for d in made]  # fmt: skip
    # python-docx objects form reference cycles that hold their lxml trees (native memory the cycle collector's
    # thresholds do not see); without this, a few MB per document pile up and the process keeps growing
    # (benchmarks/memory.py). A collection here costs a few ms.
    gc.collect()
    return docs


def summary_text(flows: Flows, p: Proposal) -> str:
    """A short chat summary: the type, the parties, the eight contents, and the progress per stage."""
    flow = engine.flow_of(flows, p)
    values = engine.fields(flows, p)
    ps = drafts.parties(flows, p)
    lines = [f"{flow.title} ({flow.instrument})", f"• Desa pengusul: {_or_empty(names.designated(ps.desa))}",
             f"• Kecamatan: {_or_empty(ps.kecamatan)}", f"• Kabupaten/kota: {_or_empty(str(ps.region))}"]
    if flow.offer_letter:
        partners = ", ".join(f"{names.designated(x.name)}{_where(x)}" for x in ps.partners)
        lines.append(f"• Desa mitra: {_or_empty(partners)}")
    else:
        lines.append(f"• Pihak ketiga: {_or_empty(ps.party)}")
        if ps.kind:
            lines.append(f"• Jenis pihak ketiga: {ps.kind}")
        signer = ", ".join(x for x in (ps.signer, ps.position) if x)
        lines.append(f"• Penanda tangan pihak ketiga: {_or_empty(signer)}")
    lines.append("")
    lines += [f"• {label}: {_or_empty(_clip(values.get(field, '')))}" for field, label, _ in CONTENTS]
    lines.append("")
    lines += [t.STATUS_LINE.format(stage=title, done=d, total=n) for title, d, n, _ in engine.progress(flows, p)]
    return "\n".join(lines)


def _where(partner) -> str:
    """" (Kec. Bulu, Kab. Temanggung)" when the user named the partner's kecamatan or kabupaten."""
    region = partner.region
    parts = [f"Kec. {partner.kecamatan}" if partner.kecamatan else "",
             (f"Kab. {region.name}" if region.kind == "Kabupaten" else str(region)) if region and region.name else ""]
    shown = ", ".join(x for x in parts if x)
    return f" ({shown})" if shown else ""


def _or_empty(text: str) -> str:
    return text or t.SUMMARY_EMPTY


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
