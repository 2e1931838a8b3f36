"""One document model for every draft: paragraphs of styled spans, tables, rules and page breaks.

handlers/drafts.py builds a `Draft`; handlers/docx_render.py and handlers/pdf_render.py turn the same Draft into a
.docx (to edit) and a PDF (to read on a phone), so the two files never say different things.
"""

from __future__ import annotations

from dataclasses import dataclass

NOTES_HEADING = "Catatan penyusunan"
NOTES_INTRO = (
    "Halaman ini bukan bagian dari naskah: hapus sebelum naskah ditandatangani. Isinya dasar hukum tiap bagian "
    "dan hal yang perlu diperiksa bersama Camat atau Dinas PMD dan salinan resmi peraturan (JDIH)."
)


def placeholder(what: str) -> str:
    """The visible marker for an answer still missing."""
    return f"[… belum diisi: {what} …]"


@dataclass(frozen=True)
class Span:
    """A run of text; `missing` marks a placeholder (rendered bold on a yellow background)."""

    text: str
    bold: bool = False
    italic: bool = False
    missing: bool = False


def gap(what: str) -> Span:
    """A placeholder span for an answer or detail still missing."""
    return Span(placeholder(what), bold=True, missing=True)


def todo(what: str) -> Span:
    """A highlighted reminder inside the text for a detail the user must complete (not an answer they gave)."""
    return Span(f"[… {what} …]", bold=True, missing=True)


def value(text: str, what: str, bold: bool = False) -> Span:
    """The answer as a span, or its placeholder when it is empty."""
    return Span(text, bold=bold) if text else gap(what)


@dataclass(frozen=True)
class Para:
    """A paragraph. style: title | heading | body | small; align: left | center | right | justify."""

    spans: tuple[Span, ...]
    style: str = "body"
    align: str = "left"
    indent: float = 0.0  # left indent in cm
    hanging: float = 0.0  # hanging indent in cm (numbered items: "a. bahwa …" wraps under its text)
    keep_with_next: bool = False
    space_before: float = 0.0  # points

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True)
class Table:
    """Rows of cells, each cell a tuple of paragraphs; widths are fractions of the text width."""

    rows: tuple[tuple[tuple[Para, ...], ...], ...]
    widths: tuple[float, ...]
    grid: bool = False
    header: bool = False


@dataclass(frozen=True)
class Rule:
    """A horizontal line (under a letterhead)."""


@dataclass(frozen=True)
class PageBreak:
    """Start a new page."""


Block = Para | Table | Rule | PageBreak


@dataclass(frozen=True)
class Draft:
    """A whole document: its body, and drafting notes printed on a page of their own after it."""

    stem: str  # file name without extension
    title: str  # document metadata and the channel caption
    blocks: tuple[Block, ...]
    notes: tuple[Block, ...] = ()

    def all_blocks(self) -> tuple[Block, ...]:
        """The body, then (when there are notes) a page break, the notes heading and the notes."""
        if not self.notes:
            return self.blocks
        head = (PageBreak(), Para((Span(NOTES_HEADING, bold=True),), style="heading", keep_with_next=True),
                Para((Span(NOTES_INTRO, italic=True),), style="small"))  # fmt: skip
        return self.blocks + head + self.notes


def para(*parts: Span | str, **kw) -> Para:
    """A paragraph from spans and plain strings."""
    return Para(tuple(p if isinstance(p, Span) else Span(p) for p in parts if p != ""), **kw)


def center(*parts: Span | str, bold: bool = True, **kw) -> Para:
    """A centred paragraph, bold by default (the heads of a regulation)."""
    spans = tuple((p if isinstance(p, Span) else Span(p, bold=bold)) for p in parts if p != "")
    return Para(spans, align="center", **kw)
