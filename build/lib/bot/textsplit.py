"""Splitting long replies for channels with a message size limit."""

from __future__ import annotations

# Where a reply may be cut, best first: between paragraphs, then lines, then words; a word longer than the
# limit is cut hard.
SEPARATORS = ("\n\n", "\n", " ")


def split_text(text: str, limit: int) -> list[str]:
    """Split text into parts of at most `limit` characters, at paragraph, then line, then word boundaries."""
    if limit < 20:
        raise ValueError("limit too small")
    text = text.strip()
    return [part for part in _pack(text, limit, SEPARATORS) if part.strip()] if text else []


def _pack(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    """Join the pieces between the first separator greedily; a piece too long is split at the next one."""
    if len(text) <= limit:
        return [text]
    if not separators:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    sep, finer = separators[0], separators[1:]
    parts: list[str] = []
    current = ""
    for piece in text.split(sep):
        candidate = f"{current}{sep}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        chunks = _pack(piece, limit, finer)
        parts.extend(chunks[:-1])
        current = chunks[-1]
    if current:
        parts.append(current)
    return parts
