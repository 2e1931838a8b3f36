"""The proposal's documents as Drafts (handlers/docmodel.py): the instrument, the offer letters, the summary.

Wording with a legal basis comes from knowledge/templates/*.toml (checked by `kb check`); its citations go to a
drafting-notes page after the text, never into the text a village signs. Names are read with handlers/names.py,
so "Desa Sukajaya", "sukajaya" and "Ds. Sukajaya" all print as "Desa Sukajaya". Missing answers stay visible
placeholders.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from handlers import checklist as engine
from handlers import checklist_texts as t
from handlers import names
from handlers.checklist import Proposal
from handlers.citing import cite_line
from handlers.docmodel import Block, Draft, PageBreak, Para, Rule, Span, Table, center, gap, para, todo, value
from knowledge.flows import CONTENTS, Flow, Flows
from knowledge.templates import Based, Template

LABELS = {f: label for f, label, _ in CONTENTS}
FOOT = (
    "Draf dibuat oleh Pandu Kerja Sama Desa dari jawaban Bapak/Ibu pada {date}. Periksa kembali bersama Camat/DPMD "
    "dan salinan resmi peraturan (JDIH) sebelum dipakai."
)
UNVERIFIED = "(belum terverifikasi)"
# Blanks in template articles ("{bkad_susunan}") and the placeholder each becomes.
SLOTS = {
    "bkad_susunan": "susunan organisasi dan tata kerja BKAD",
    "bumdesma_nama": "nama BUM Desa bersama",
    "bumdesma_ad": "Anggaran Dasar (lampiran)",
    "bumdesma_modal": "besarnya penyertaan modal",
}
_SLOT = re.compile(r"\{(" + "|".join(SLOTS) + r")\}")
DOTS = "……"


@dataclass(frozen=True)
class Parties:
    """Who takes part, read from the answers: the proposing Desa, its kecamatan and kabupaten, the partners."""

    desa: str
    kecamatan: str
    region: names.Region
    partners: tuple[names.Partner, ...]  # partner villages (antar-Desa)
    party: str  # the third party (pihak ketiga)
    signer: str
    position: str
    kind: str  # the kind of third party (choice step)

    @property
    def villages(self) -> list[str]:
        """Every Desa that signs, the proposing one first."""
        return [self.desa] + [p.name for p in self.partners]


def parties(flows: Flows, p: Proposal) -> Parties:
    """The parties of a proposal, names tidied."""
    v = engine.fields(flows, p)
    kind = p.answers.get("jenis-mitra")
    flow = engine.flow_of(flows, p)
    antar = flow is not None and flow.offer_letter
    return Parties(
        desa=names.village(v.get("desa", "")), kecamatan=names.kecamatan(v.get("kecamatan", "")),
        region=names.region(v.get("kabupaten", "")),
        partners=tuple(names.partners(v.get("mitra", ""))) if antar else (),
        party="" if antar else names.party(v.get("mitra", "")),
        signer=names.party(v.get("wakil_mitra", "")), position=names.party(v.get("jabatan_mitra", "")),
        kind=kind.value if kind is not None and kind.status == "value" else "",
    )


def stem(p: Proposal, kind: str) -> str:
    """A file name stem unique per proposal: the proposal id keeps two similar names apart."""
    slug = re.sub(r"[^a-z0-9]+", "-", p.name.casefold()).strip("-")[:40].rstrip("-") or "usulan"
    return f"usulan-{p.id}-{slug}-{kind}"


def _today() -> str:
    return dt.date.today().isoformat()


def _desa(name: str, what: str = "nama Desa") -> Span:
    return Span(names.designated(name)) if name else gap(what)


def _upper(spans: list[Span]) -> list[Span]:
    return [s if s.missing else Span(s.text.upper(), s.bold, s.italic) for s in spans]


def _join(items: list[list[Span]], word: str = "dan") -> list[Span]:
    """Spans of several names joined as Indonesian lists: "A dan B", "A, B, dan C"."""
    out: list[Span] = []
    for i, item in enumerate(items):
        if i:
            out.append(Span(f" {word} " if len(items) == 2 else (f", {word} " if i == len(items) - 1 else ", ")))
        out.extend(item)
    return out


def _heads(ps: Parties) -> list[list[Span]]:
    """["KEPALA DESA SUKAMAJU"], ["KEPALA DESA SUKAJAYA"], … (a placeholder when no partner was named)."""
    heads = [[Span("KEPALA DESA "), *_upper([value(ps.desa, "nama Desa")])]]
    partners = [p.name for p in ps.partners] or [""]
    heads += [[Span("KEPALA DESA "), *_upper([value(n, "Desa mitra")])] for n in partners]
    return heads


def _labelled(rows: list[tuple[str, list[Para]]], widths=(0.2, 0.03, 0.77)) -> Table:
    """"Menimbang : a. …" rows: label, colon, content."""
    return Table(tuple((((para(label),) if label else ()), ((para(":"),) if label else ()), tuple(content))
                       for label, content in rows), widths)  # fmt: skip


def _notes(template: Template, conditions: set[str]) -> list[Block]:
    """The drafting notes of a template that apply, each with its citation line."""
    out: list[Block] = []
    for n in template.notes:
        if n.when and n.when not in conditions:
            continue
        out.append(para(n.text, style="small"))
        if n.citations:
            out.append(para(Span(cite_line(n.citations), italic=True), style="small", indent=0.5))
        if n.note:
            out.append(para(Span(n.note, italic=True), style="small", indent=0.5))
    return out


def _article_notes(articles: list[Based]) -> list[Block]:
    out: list[Block] = []
    for a in articles:
        if a.citations:
            out.append(para(f"Pasal tentang {a.title.lower()}: ", Span(cite_line(a.citations), italic=True),
                            style="small"))  # fmt: skip
        if a.note:
            out.append(para(Span(a.note, italic=True), style="small", indent=0.5))
    return out


def _signatures(blocks: list[list[Para]]) -> Table:
    """Signature blocks side by side, two per row."""
    rows = []
    for i in range(0, len(blocks), 2):
        pair = blocks[i : i + 2]
        rows.append(tuple(tuple(b) for b in pair) + (() if len(pair) == 2 else ((),)))
    return Table(tuple(rows), (0.5, 0.5))


def _sign_block(office: list[Span], name_what: str) -> list[Para]:
    return [Para(tuple(office) + (Span(","),), align="center", space_before=12),
            para("", align="center"), para("", align="center"), para("", align="center"),
            Para((gap(name_what),), align="center")]


def _bkad_applies(flows: Flows, p: Proposal, template: Template) -> bool:
    if p.triage.get("bum-desa") == "tidak":
        return True
    answer = p.answers.get(template.bkad.get("step", ""))
    return answer is not None and answer.status == "value" and answer.value == template.bkad.get("option")


# -- Peraturan Bersama Kepala Desa ---------------------------------------------------------------------------
def peraturan_bersama(flows: Flows, p: Proposal) -> Draft:
    """The draft Peraturan Bersama Kepala Desa: kepala naskah of the Permendagri 111/2014 Lampiran, then the body."""
    template = flows.templates["peraturan-bersama"]
    v = engine.fields(flows, p)
    ps = parties(flows, p)
    bum = p.triage.get("bum-desa") == "ya" or p.outcome.startswith("bum-desa-bersama")
    conditions = {"bkad"} if _bkad_applies(flows, p, template) else set()
    conditions |= {"bum-desa"} if bum else set()
    conditions |= {"bum-desa-bersama"} if p.outcome.startswith("bum-desa-bersama") else set()
    regions = list(dict.fromkeys(str(r) for r in [ps.region] + [x.region for x in ps.partners if x.region] if r.name))
    heads = _heads(ps)
    bidang = value(v.get("bidang", ""), "bidang kerja sama")
    topic = [Span("KERJA SAMA ANTAR-DESA BIDANG "), *_upper([bidang])]
    blocks: list[Block] = [
        center(*(_upper([Span(" DAN ".join(regions))]) if regions else [gap("kabupaten/kota")]), style="title"),
        center(Span("PERATURAN BERSAMA ", bold=True), *_bold(heads[0])),
    ]
    for i, head in enumerate(heads[1:], 1):
        blocks.append(center(*(([Span("DAN ", bold=True)] if i == len(heads) - 1 else []) + _bold(head))))
    blocks += [center(f"NOMOR {DOTS} TAHUN {DOTS}") for _ in heads]
    blocks += [center("TENTANG", space_before=8), center(*_bold(topic)),
               center("DENGAN RAHMAT TUHAN YANG MAHA ESA", space_before=10),
               center(*_bold(_join(heads, "DAN")), Span(",", bold=True), space_before=6)]
    desa_list = _join([[_desa(n, "Desa mitra")] for n in ps.villages[:1] + ([x.name for x in ps.partners] or [""])])
    menimbang = [
        para("a.\tbahwa ", *desa_list, " bermaksud melaksanakan kerja sama antar-Desa dalam bidang ", bidang, ";",
             align="justify", hanging=0.6),
        para("b.\tbahwa berdasarkan pertimbangan sebagaimana dimaksud dalam huruf a, perlu menetapkan Peraturan "
             "Bersama Kepala Desa tentang Kerja Sama Antar-Desa Bidang ", bidang, ";", align="justify", hanging=0.6),
    ]
    laws = [x for x in template.mengingat if not x.when or x.when in conditions]
    mengingat = [para(f"{i}.\t{x.text} ", todo("lengkapi Lembaran Negara/Berita Negara dan perubahannya"),
                      ";" if i < len(laws) else ".", align="justify", hanging=0.6)
                 for i, x in enumerate(laws, 1)]  # fmt: skip
    blocks += [_labelled([("Menimbang", menimbang), ("Mengingat", mengingat)]),
               center("MEMUTUSKAN:", space_before=8),
               _labelled([("Menetapkan", [para(Span("PERATURAN BERSAMA ", bold=True), *_bold(_join(heads, "DAN")),
                                               Span(" TENTANG ", bold=True), *_bold(topic), ".")])])]
    n = 0
    for n, (field, label, _) in enumerate(CONTENTS, 1):
        blocks += _article(n, label, [para(value(v.get(field, ""), label.lower()), align="justify")])
    articles = [a for a in template.articles if not a.when or a.when in conditions]
    for a in articles:
        n += 1
        body = []
        for text in a.paragraphs:
            spans = [Span(piece) if i % 2 == 0 else gap(SLOTS[piece]) for i, piece in enumerate(_SLOT.split(text))]
            body.append(Para(tuple(s for s in spans if s.text), align="justify"))
        blocks += _article(n, a.title, body)
    blocks += _article(n + 1, "Mulai Berlaku", [para("Peraturan Bersama Kepala Desa ini mulai berlaku pada ",
                                                     gap("tanggal mulai berlaku"), ".", align="justify")])
    blocks += [para("Ditetapkan di ", gap("tempat"), space_before=12), para("pada tanggal ", gap("tanggal")),
               _signatures([_sign_block(head, f"nama Kepala Desa {name}" if name else "nama Kepala Desa mitra")
                            for head, name in zip(heads, ps.villages + [""])])]  # fmt: skip
    notes = _notes(template, conditions) + _article_notes(articles) + [para(FOOT.format(date=_today()), style="small")]
    return Draft(stem(p, "rancangan-peraturan-bersama"), template.title, tuple(blocks), tuple(notes))


def _bold(spans: list[Span]) -> list[Span]:
    return [s if s.missing else Span(s.text, True, s.italic) for s in spans]


def _article(n: int, title: str, body: list[Para]) -> list[Block]:
    return [center(f"Pasal {n}", space_before=10, keep_with_next=True),
            center(title, keep_with_next=True), *body]


# -- Perjanjian Bersama ---------------------------------------------------------------------------------------
def perjanjian_bersama(flows: Flows, p: Proposal) -> Draft:
    """The draft Perjanjian Bersama between the Pemerintah Desa and the third party, laid out as an agreement."""
    template = flows.templates["perjanjian-bersama"]
    v = engine.fields(flows, p)
    ps = parties(flows, p)
    party = value(ps.party, "nama pihak ketiga")
    bidang = value(v.get("bidang", ""), "bidang kerja sama")
    where = [Span("KECAMATAN "), *_upper([value(ps.kecamatan, "kecamatan")]), Span(" "),
             *_upper([Span(str(ps.region)) if ps.region.name else gap("kabupaten/kota")])]
    blocks: list[Block] = [
        center("PERJANJIAN BERSAMA", style="title"), center("ANTARA"),
        center(Span("PEMERINTAH DESA ", bold=True), *_bold(_upper([value(ps.desa, "nama Desa")]))),
        center(*_bold(where)), center("DENGAN"), center(*_bold(_upper([party]))),
        center("TENTANG", space_before=8), center(Span("KERJA SAMA BIDANG ", bold=True), *_bold(_upper([bidang]))),
        center(f"NOMOR {DOTS} (Desa)", space_before=8, bold=False),
        center(f"NOMOR {DOTS} (pihak ketiga)", bold=False),
        para("Pada hari ini ", gap("hari dan tanggal"), ", bertempat di ", gap("tempat"),
             ", yang bertanda tangan di bawah ini:", align="justify", space_before=12),
        para("1.\t", gap("nama Kepala Desa"), ", Kepala Desa ", value(ps.desa, "nama Desa"),
             ", dalam hal ini bertindak untuk dan atas nama Pemerintah Desa ", value(ps.desa, "nama Desa"),
             ", Kecamatan ", value(ps.kecamatan, "kecamatan"), ", ",
             Span(str(ps.region)) if ps.region.name else gap("kabupaten/kota"),
             ", selanjutnya disebut ", Span("PIHAK KESATU", bold=True), ";", align="justify", indent=0.3, hanging=0.6),
        para("2.\t", value(ps.signer, "nama penanda tangan pihak ketiga"), ", ",
             value(ps.position, "jabatan"), " ", party, ", dalam hal ini bertindak untuk dan atas nama ", party,
             ", selanjutnya disebut ", Span("PIHAK KEDUA", bold=True), ".", align="justify", indent=0.3, hanging=0.6),
        para(Span("PIHAK KESATU", bold=True), " dan ", Span("PIHAK KEDUA", bold=True), " (selanjutnya disebut ",
             Span("PARA PIHAK", bold=True), ") sepakat mengadakan kerja sama dengan ketentuan sebagai berikut:",
             align="justify"),
    ]
    n = 0
    for n, (field, label, _) in enumerate(CONTENTS, 1):
        blocks += _article(n, label, [para(value(v.get(field, ""), label.lower()), align="justify")])
    blocks += _article(n + 1, "Penutup", [para(
        "Perjanjian Bersama ini dibuat dalam rangkap ", gap("jumlah rangkap"),
        " dan ditandatangani oleh PARA PIHAK setelah disepakati dalam Musyawarah Desa.", align="justify")])
    first = [Span("PIHAK KESATU"), Span(",\nKepala Desa "), value(ps.desa, "nama Desa")]
    second = [Span("PIHAK KEDUA"), Span(",\n"), value(ps.position, "jabatan"), Span(" "), party]
    blocks.append(_signatures([
        [Para(tuple(first) + (Span(","),), align="center", space_before=12), para(""), para(""), para(""),
         Para((gap("nama Kepala Desa"),), align="center")],
        [Para(tuple(second) + (Span(","),), align="center", space_before=12), para(""), para(""), para(""),
         Para((value(ps.signer, "nama penanda tangan pihak ketiga"),), align="center")],
    ]))
    notes = _notes(template, set()) + [para(FOOT.format(date=_today()), style="small")]
    return Draft(stem(p, "rancangan-perjanjian-bersama"), template.title, tuple(blocks), tuple(notes))


# -- Surat penawaran ------------------------------------------------------------------------------------------
def surat_penawaran(flows: Flows, p: Proposal) -> Draft:
    """One offer letter per partner Desa, each on its own page (Permendagri 96/2017 Pasal 13 ayat (3))."""
    template = flows.templates["surat-penawaran"]
    v = engine.fields(flows, p)
    ps = parties(flows, p)
    desa = value(ps.desa, "nama Desa")
    blocks: list[Block] = []
    for i, partner in enumerate(list(ps.partners) or [None]):
        if i:
            blocks.append(PageBreak())
        to = value(partner.name if partner else "", "Desa mitra")
        blocks += [
            center(Span("PEMERINTAH DESA ", bold=True), *_bold(_upper([desa])), style="title"),
            center(Span("KECAMATAN ", bold=True), *_bold(_upper([value(ps.kecamatan, "kecamatan")])), Span(" ", bold=True),
                   *_bold(_upper([Span(str(ps.region)) if ps.region.name else gap("kabupaten/kota")]))),
            Rule(),
            para(desa, ", ", gap("tanggal"), align="right"),
            _labelled([("Nomor", [para(DOTS)]), ("Lampiran", [para(DOTS)]),
                       ("Perihal", [para(Span("Penawaran Kerja Sama Antar-Desa", bold=True))])],
                      widths=(0.15, 0.03, 0.82)),
            para("Kepada Yth.", space_before=8), para("Kepala Desa ", to), para("di"), para("Tempat", indent=0.7),
            para("Dengan hormat,", space_before=8),
            para("Pemerintah Desa ", desa, ", Kecamatan ", value(ps.kecamatan, "kecamatan"), ", ",
                 Span(str(ps.region)) if ps.region.name else gap("kabupaten/kota"),
                 ", menawarkan rencana kerja sama antar-Desa kepada Pemerintah Desa ", to,
                 " dengan pokok-pokok sebagai berikut:", align="justify"),
        ]
        for n, item in enumerate(template.items, 1):
            label = item.text or LABELS.get(item.field, item.field)
            blocks.append(para(f"{n}.\t", Span(f"{label}: ", bold=True),
                               value(v.get(item.field, ""), label.lower()), align="justify", indent=0.3, hanging=0.6))
        blocks += [
            para("Kami mengharapkan tanggapan Bapak/Ibu atas penawaran ini untuk kita bahas bersama.",
                 align="justify", space_before=6),
            para("Demikian penawaran ini kami sampaikan. Atas perhatian Bapak/Ibu kami ucapkan terima kasih.",
                 align="justify"),
            Table((((), tuple(_sign_block([Span("Kepala Desa "), desa], "nama Kepala Desa"))),), (0.45, 0.55)),
        ]
    notes = _notes(template, set()) + [para(FOOT.format(date=_today()), style="small")]
    return Draft(stem(p, "surat-penawaran"), template.title, tuple(blocks), tuple(notes))


# -- Ringkasan -----------------------------------------------------------------------------------------------
def _party_rows(flow: Flow, ps: Parties) -> list[tuple[str, list[Span]]]:
    rows = [("Desa pengusul", [value(names.designated(ps.desa), "Desa")]),
            ("Kecamatan", [value(ps.kecamatan, "kecamatan")]),
            ("Kabupaten/kota", [value(str(ps.region), "kabupaten/kota")])]
    if flow.offer_letter:
        for i, x in enumerate(ps.partners or [names.Partner("")], 1):
            where = ", ".join(w for w in (x.kecamatan and f"Kec. {x.kecamatan}", x.region and str(x.region)) if w)
            label = "Desa mitra" + (f" {i}" if len(ps.partners) > 1 else "")
            rows.append((label, [value(names.designated(x.name), "Desa mitra"), Span(f" ({where})" if where else "")]))
    else:
        rows += [("Pihak ketiga", [value(ps.party, "pihak ketiga")]),
                 ("Jenis pihak ketiga", [value(ps.kind, "jenis pihak ketiga")]),
                 ("Penanda tangan pihak ketiga", [value(ps.signer, "penanda tangan"), Span(", "),
                                                  value(ps.position, "jabatan")])]
    return rows


def ringkasan(flows: Flows, p: Proposal) -> Draft:
    """The summary a Camat's staff can work from: parties, the eight contents, and every step with its basis."""
    flow = engine.flow_of(flows, p)
    v = engine.fields(flows, p)
    ps = parties(flows, p)
    blocks: list[Block] = [para("Ringkasan Usulan Kerja Sama", style="title")]
    info = [("Nama usulan", [Span(p.name)]), ("Jenis kerja sama", [Span(flow.title)]),
            ("Dituangkan dalam", [Span(flow.instrument)])] + _party_rows(flow, ps)
    blocks.append(Table(tuple(((para(Span(k, bold=True)),), (Para(tuple(s for s in val if s.text)),))
                              for k, val in info), (0.32, 0.68), grid=True))  # fmt: skip
    outcome = flows.outcomes.get(p.outcome)
    if outcome:
        blocks += [para(line) for line in outcome.text.splitlines()]
        blocks.append(para(Span(cite_line(outcome.citations), italic=True), style="small"))
    blocks.append(para("Isi kerja sama", style="heading"))
    blocks.append(Table(tuple(((para(Span(label, bold=True)),), (para(value(v.get(f, ""), label.lower())),))
                              for f, label, _ in CONTENTS), (0.32, 0.68), grid=True))  # fmt: skip
    tidy = {"desa": names.designated(ps.desa), "kecamatan": ps.kecamatan, "kabupaten": str(ps.region),
            "mitra": ", ".join(names.designated(x.name) for x in ps.partners) if flow.offer_letter else ps.party,
            "wakil_mitra": ps.signer, "jabatan_mitra": ps.position}  # names as the documents print them
    steps = engine.active_steps(flows, p)
    for (title, done, total, _), stage in zip(engine.progress(flows, p), flow.stages):
        blocks.append(para(f"{title} ({done}/{total})", style="heading"))
        rows = [(para("Langkah"), para("Status"), para("Dasar"))]
        for s in (x for x in steps if x.stage == stage.id):
            a = p.answers.get(s.id)
            waits = engine.waiting_on(p, s, flows)
            if waits:  # a step resting on an earlier one that is not done counts as missing, whatever it held
                status = para(gap(t.WAITING.format(on=", ".join(waits))))
            elif a is not None and a.status == "belum":
                status = para(Span(engine.answer_label(a), bold=True))
            elif engine.is_missing(s, a):
                status = para(gap(engine.answer_label(a).lower()))
            else:
                status = para(tidy.get(s.field) or engine.answer_label(a))
            basis = [para("; ".join(s.citations), style="small")] if s.citations else []
            if s.missing:
                basis.append(para(f"{s.missing}: {t.NO_BASIS}", style="small"))
            if s.status == "unverified":
                basis.append(para(UNVERIFIED, style="small"))
            rows.append((para(engine.step_title(s)), status, *([tuple(basis)] if basis else [()])))
        blocks.append(Table(tuple(tuple(c if isinstance(c, tuple) else (c,) for c in r) for r in rows),
                            (0.38, 0.2, 0.42), grid=True, header=True))  # fmt: skip
    blocks.append(para(FOOT.format(date=_today()), style="small", space_before=10))
    return Draft(stem(p, "ringkasan"), "Ringkasan Usulan Kerja Sama", tuple(blocks))
