"""The curated regulation source texts: which articles exist and which parts are verbatim."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_ARTICLE = re.compile(r"^###\s+Pasal\s+([0-9]+[A-Z]?)\b(.*)$")
_NOTE = re.compile(r"\[(?:catatan|sumber):.*?\]", re.S)
GAP = "[…]"


def collapse(text: str) -> str:
    """Fold all white space to single spaces (excerpts are compared this way)."""
    return " ".join(text.split())


@dataclass
class Article:
    """One article as the source file gives it: verbatim parts, paraphrased parts, or not found."""

    pasal: str
    found: bool = True
    verbatim: list[str] = field(default_factory=list)  # collapsed text segments quotable verbatim
    parafrase: list[str] = field(default_factory=list)  # collapsed text segments that are paraphrase
    ocr: list[str] = field(default_factory=list)  # the verbatim segments that come from an OCR'd copy
    penjelasan: str = ""  # collapsed text of the article's official explanation (Penjelasan), notes removed
    body: str = ""  # collapsed text of the article itself (before its Penjelasan), notes removed

    def in_penjelasan(self, piece: str) -> bool:
        """True when a quoted piece comes from the Penjelasan, not from the article's own text."""
        return piece in self.penjelasan and piece not in self.body


@dataclass
class Source:
    """A regulation's source text, split into articles."""

    file: str
    articles: dict[str, Article]
    whole: str  # collapsed text of the (section of the) file, notes removed

    def contains_paraphrase(self, excerpt: str) -> bool:
        """True when every piece of a paraphrase excerpt stands in the source (editorial brackets aside)."""
        whole = _unbracket(self.whole)
        return all(_unbracket(piece) in whole for piece in excerpt_pieces(excerpt))


def _unbracket(text: str) -> str:
    """Drop bracketed editorial remarks ("[kata … tidak dapat dipastikan]"), keep restorations ("[data]")."""
    text = re.sub(r"\[[^\]]*\s[^\]]*\]", " ", text)
    return collapse(text.replace("[", "").replace("]", ""))


def excerpt_pieces(text: str) -> list[str]:
    """Split an excerpt at `[…]` gap lines into collapsed pieces."""
    pieces = [collapse(p) for p in text.split(GAP)]
    return [p for p in pieces if p]


def _section_lines(text: str, section: str | None) -> list[str]:
    lines = text.splitlines()
    if not section:
        return lines
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("## "):
            inside = line[3:].startswith(section)
            continue
        if inside:
            out.append(line)
    return out


def _split_blocks(body: str) -> list[tuple[str, bool]]:
    """Split an article body into (text, is_note) blocks, notes being [catatan: …] / [sumber: …]."""
    blocks: list[tuple[str, bool]] = []
    pos = 0
    for m in _NOTE.finditer(body):
        blocks.append((body[pos : m.start()], False))
        blocks.append((m.group(0), True))
        pos = m.end()
    blocks.append((body[pos:], False))
    return blocks


def _parse_article(pasal: str, heading_rest: str, lines: list[str]) -> Article:
    if "belum ditemukan" in heading_rest:
        return Article(pasal, found=False)
    sumber = next((ln for ln in lines if ln.startswith("Sumber:")), "Sumber: parafrase")
    kind_is_verbatim = sumber.startswith("Sumber: verbatim")
    art = Article(pasal)
    from_ocr = "OCR" in sumber
    body = "\n".join(ln for ln in lines if not ln.startswith("Sumber:"))
    cut = next((i for i, ln in enumerate(lines) if ln.startswith("Penjelasan")), len(lines))
    art.body = collapse(_NOTE.sub(" ", "\n".join(lines[:cut])))
    art.penjelasan = collapse(_NOTE.sub(" ", "\n".join(ln for ln in lines[cut:] if not ln.startswith("Sumber:"))))
    verbatim_now = kind_is_verbatim
    for text, is_note in _split_blocks(body):
        if is_note:
            # A note that says the following text is not verified turns the rest into paraphrase.
            if "belum terverifikasi" in text or "diubah mesin" in text:
                verbatim_now = False
            continue
        seg = collapse(text)
        if seg:
            (art.verbatim if verbatim_now else art.parafrase).append(seg)
            if verbatim_now and from_ocr:
                art.ocr.append(seg)
    return art


def parse_source(path: Path, section: str | None = None) -> Source:
    """Parse a regulation source file (optionally one `## ` section of it) into articles."""
    lines = _section_lines(path.read_text(encoding="utf-8"), section)
    articles: dict[str, Article] = {}
    current: tuple[str, str] | None = None
    buf: list[str] = []

    def flush() -> None:
        if current is None:
            return
        art = _parse_article(current[0], current[1], buf)
        prev = articles.get(art.pasal)
        if prev is None or not prev.found:
            articles[art.pasal] = art
        else:  # e.g. an article given twice: before and after an amendment
            prev.verbatim += art.verbatim
            prev.parafrase += art.parafrase
            prev.ocr += art.ocr
            prev.body += " " + art.body
            prev.penjelasan += " " + art.penjelasan

    for line in lines:
        m = _ARTICLE.match(line)
        if m:
            flush()
            current, buf = (m.group(1), m.group(2)), []
        elif line.startswith("## ") or line.strip() == "---":
            flush()
            current, buf = None, []
        elif current is not None:
            buf.append(line)
    flush()
    whole = collapse(_NOTE.sub(" ", "\n".join(lines)))
    return Source(file=path.name, articles=articles, whole=whole)
