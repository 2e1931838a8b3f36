"""How citations and regulation excerpts read in replies and documents (one place for every handler)."""

from __future__ import annotations

from typing import Iterable

from handlers import texts
from knowledge.base import Excerpt


def cite_line(citations: Iterable[str]) -> str:
    """The citation line: "Dasar: <citation>; <citation>"."""
    return f"{texts.CITATION_LABEL}: " + "; ".join(citations)


def with_citations(text: str, citations: Iterable[str]) -> str:
    """A text followed, after a blank line, by its citation line."""
    return f"{text}\n\n{cite_line(citations)}"


def excerpt_blocks(excerpts: Iterable[Excerpt]) -> list[str]:
    """Each excerpt under its citation; a paraphrase is marked as not the regulation's official wording."""
    return [f"{_label(ex)}:\n{ex.text}" for ex in excerpts]


def _label(ex: Excerpt) -> str:
    return ex.cite if ex.sumber == "verbatim" else f"{ex.cite} {texts.EXCERPT_PARAPHRASE}"
