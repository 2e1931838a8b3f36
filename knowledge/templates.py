"""Document templates as data (knowledge/templates/*.toml): fixed wording of the drafts and its legal basis.

Every piece of wording that rests on a regulation (an article of the draft, an item of the offer letter, a
drafting note) carries citations and excerpts, checked exactly like knowledge entries, so that a document can
never cite what the sources do not contain. Loaded and validated with the flows (`load_flows`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.base import Excerpt, Regulation, check_citations, parse_excerpts, read_toml
from knowledge.sources import Source

KINDS = ("peraturan-bersama", "perjanjian-bersama", "surat-penawaran")
# A number followed by a time unit: templates state no deadline (none was found in the sources).
_DEADLINE = re.compile(r"\b\d+\s*(?:\(\w+\)\s*)?(?:hari|minggu|pekan|bulan|tahun)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Based:
    """Wording with its legal basis: shown in a document, cited on its drafting-notes page."""

    text: str
    citations: tuple[str, ...] = ()
    excerpts: tuple[Excerpt, ...] = ()
    field: str = ""  # offer-letter items: the proposal field they show
    title: str = ""  # articles: the article's title
    paragraphs: tuple[str, ...] = ()  # articles: the article's paragraphs (ayat)
    when: str = ""  # articles: a condition the document builder knows ("bkad")
    note: str = ""  # required when an excerpt is a paraphrase or OCR'd: printed with the drafting notes


@dataclass(frozen=True)
class Mengingat:
    regulation: str  # canonical short name (regulations.toml)
    text: str  # how the draft names it
    when: str = ""  # "" (always) or "bum-desa" (paths involving a BUM Desa)


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    mengingat: tuple[Mengingat, ...] = ()
    articles: tuple[Based, ...] = ()
    items: tuple[Based, ...] = ()
    notes: tuple[Based, ...] = ()
    bkad: dict[str, str] = field(default_factory=dict)  # flow, step, option: the answer that adds a BKAD


def _based(raw: object, where: str, problems: list[str]) -> Based | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    text = raw.get("text", "")
    paragraphs = raw.get("paragraphs", [])
    citations = raw.get("citations", [])
    ok = isinstance(text, str) and isinstance(paragraphs, list) and all(isinstance(p, str) for p in paragraphs)
    ok = ok and isinstance(citations, list) and all(isinstance(c, str) for c in citations)
    if not ok:
        problems.append(f"{where}: 'text' must be a string, 'paragraphs' and 'citations' lists of strings")
        return None
    if not (text.strip() or paragraphs or raw.get("label")):
        problems.append(f"{where}: needs 'text' or 'paragraphs'")
    excerpts = parse_excerpts(raw.get("excerpts", []), where, problems)
    if citations and not excerpts:
        problems.append(f"{where}: citations need [[excerpts]] quoting them")
    return Based(
        text=" ".join(text.split()) if "\n" not in text.strip() else text.strip(),
        citations=tuple(citations), excerpts=excerpts, field=str(raw.get("field", "")),
        title=str(raw.get("title", "")), paragraphs=tuple(p.strip() for p in paragraphs),
        when=str(raw.get("when", "")), note=str(raw.get("note", "")).strip(),
    )


def _template(raw: dict, file: str, problems: list[str]) -> Template | None:
    tid = raw.get("id")
    if tid not in KINDS:
        problems.append(f"{file}: -: id must be one of {', '.join(KINDS)}")
        return None
    where = f"{file}: {tid}"
    if Path(file).stem != tid:
        problems.append(f"{where}: file name must be {tid}.toml")
    mengingat = []
    for i, m in enumerate(raw.get("mengingat", []), 1):
        if isinstance(m, dict) and isinstance(m.get("regulation"), str) and isinstance(m.get("text"), str):
            mengingat.append(Mengingat(m["regulation"], m["text"].strip(), str(m.get("when", ""))))
        else:
            problems.append(f"{where}: mengingat {i} needs string 'regulation' and 'text'")
    parts = {}
    for key in ("articles", "items", "notes"):
        found = [_based(r, f"{where}: {key[:-1]} {i}", problems) for i, r in enumerate(raw.get(key, []), 1)]
        parts[key] = tuple(b for b in found if b is not None)
    bkad = raw.get("bkad", {})
    if not isinstance(bkad, dict) or not all(isinstance(v, str) for v in bkad.values()):
        problems.append(f"{where}: 'bkad' must be a table of strings (flow, step, option)")
        bkad = {}
    return Template(tid, str(raw.get("title", "")), tuple(mengingat), parts["articles"], parts["items"],
                    parts["notes"], dict(bkad))  # fmt: skip


def _check(t: Template, file: str, regs: dict[str, Regulation], sources: dict[str, Source], flows,
           problems: list[str]) -> None:  # fmt: skip
    where = f"{file}: {t.id}"
    for m in t.mengingat:
        if m.regulation not in regs:
            problems.append(f"{where}: mengingat names an unknown regulation {m.regulation!r}")
    for kind, parts in (("article", t.articles), ("item", t.items), ("note", t.notes)):
        for i, b in enumerate(parts, 1):
            w = f"{where}: {kind} {i}"
            status = "unverified" if b.note or any(ex.sumber == "parafrase" for ex in b.excerpts) else "verbatim"
            texts = (b.text, b.title, *b.paragraphs)
            check_citations(w, status, b.citations, b.excerpts, regs, sources, problems, texts=texts)
            for text in texts:
                m = _DEADLINE.search(text)
                if m:
                    problems.append(f"{w}: states a period {m.group(0)!r}; no deadline was found in the sources")
    if t.bkad and flows is not None:
        flow = flows.flows.get(t.bkad.get("flow", ""))
        step = flow.step(t.bkad.get("step", "")) if flow else None
        if step is None or t.bkad.get("option") not in step.options:
            problems.append(f"{where}: bkad names no choice step and option of a flow: {t.bkad}")


def load_templates(
    directory: Path, regs: dict[str, Regulation], sources: dict[str, Source], flows, problems: list[str]
) -> dict[str, Template]:
    """Load knowledge/templates/*.toml and check them (problems are appended); one template per document kind."""
    out: dict[str, Template] = {}
    folder = directory / "templates"
    for path in sorted(folder.glob("*.toml")):
        rel = f"templates/{path.name}"
        raw = read_toml(path, rel, problems)
        if raw is None:
            continue
        t = _template(raw, rel, problems)
        if t is not None:
            _check(t, rel, regs, sources, flows, problems)
            out[t.id] = t
    for kind in KINDS:
        if kind not in out:
            problems.append(f"templates/{kind}.toml: -: missing")
    return out
