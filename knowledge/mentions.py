"""Articles named in user-facing text must be among the text's citations or excerpts.

An answer, prompt or document template that says "Pasal 13 ayat (2)" makes a claim about that article. The claim
is only checked when the article (and the ayat, when one is named) is cited or quoted beside it; otherwise a
reader would take an unchecked article number for a sourced one. Naming an article whose text was not found is
allowed only to say so (the same line says "belum …", "tidak ada" or "tidak ditemukan").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowledge.citations import Citation, parse_citation
from knowledge.sources import Source

_REG = r"(?:UU|PP|Permendagri|Permendesa) \d+/\d{4}"
_MENTION = re.compile(
    rf"(?:\b(?P<reg>{_REG})\s+)?\bPasal\s+(?P<pasal>\d+[A-Z]?)(?:\s*[–-]\s*(?P<to>\d+[A-Z]?))?"
    r"(?:\s+ayat\s+\((?P<ayat>\d+)\))?",
    re.IGNORECASE,
)
_ABSENT = re.compile(r"\b(?:belum|tidak ada|tidak ditemukan|tidak tersedia)\b", re.IGNORECASE)


def _line_of(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : end if end >= 0 else len(text)]


def _quotes_ayat(excerpts: Iterable[tuple[Citation, str]], article: str, ayat: str) -> bool:
    pattern = re.compile(rf"(?m)^\({re.escape(ayat)}\)")
    return any(c.article == article and pattern.search(text) for c, text in excerpts)


def check_mentions(
    where: str,
    texts: Iterable[str],
    citations: Iterable[str],
    excerpts: Iterable[tuple[str, str]],
    known: frozenset[str],
    sources: dict[str, Source],
    problems: list[str],
) -> None:
    """Report every "Pasal N [ayat (n)]" in `texts` that the citations and excerpts (cite, text) do not cover."""
    cited: list[Citation] = []
    for c in citations:
        try:
            cited.append(parse_citation(c, known))
        except ValueError:
            continue  # reported by check_citations
    quoted: list[tuple[Citation, str]] = []
    for cite, text in excerpts:
        try:
            quoted.append((parse_citation(cite, known), text))
        except ValueError:
            continue
    regs = list(dict.fromkeys([c.regulation for c in cited] + [c.regulation for c, _ in quoted]))
    articles = {c.article for c in cited} | {c.article for c, _ in quoted}
    ayats = {(c.article, c.ayat) for c in cited if c.ayat}
    for text in texts:
        for m in _MENTION.finditer(text or ""):
            reg = m.group("reg")
            if reg is not None:
                reg = next((k for k in known if k.casefold() == reg.casefold()), None)
                if reg is None:
                    continue  # a regulation the knowledge base does not cite (e.g. an amending PP): not checked
            candidates = [reg] if reg else regs
            if not candidates:
                continue
            for pasal in filter(None, (m.group("pasal"), m.group("to"))):
                if not _supported(candidates, pasal.upper(), m.group("ayat"), articles, ayats, quoted, sources,
                                  _line_of(text, m.start())):  # fmt: skip
                    problems.append(
                        f"{where}: names {m.group(0).strip()!r}, which none of its citations or excerpts contain"
                    )
                    break


def _supported(candidates, pasal, ayat, articles, ayats, quoted, sources, line) -> bool:
    for reg in candidates:
        article = f"{reg} Pasal {pasal}"
        if article in articles:
            if ayat is None or (article, ayat) in ayats or _quotes_ayat(quoted, article, ayat):
                return True
            continue
        src = sources.get(reg)
        found = src is not None and pasal in src.articles and src.articles[pasal].found
        if src is not None and not found and _ABSENT.search(line):
            return True  # naming a missing article to say that it is missing
    return False
