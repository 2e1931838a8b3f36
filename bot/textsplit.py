"""Splitting long replies for channels with a message size limit."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Split text into parts of at most `limit` characters, at paragraph, then line, then word boundaries."""
    if limit < 20:
        raise ValueError("limit too small")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for piece in text.split("\n\n"):
        candidate = f"{current}\n\n{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = ""
        if len(piece) <= limit:
            current = piece
        else:
            chunks = _split_long(piece, limit)
            parts.extend(chunks[:-1])
            current = chunks[-1]
    if current:
        parts.append(current)
    return parts


def _split_long(block: str, limit: int) -> list[str]:
    """Split one over-long paragraph at line breaks, then spaces, then hard."""
    out: list[str] = []
    current = ""
    for token, sep in _tokens(block):
        candidate = f"{current}{sep}{token}" if current else token
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            out.append(current)
        while len(token) > limit:
            out.append(token[:limit])
            token = token[limit:]
        current = token
    if current:
        out.append(current)
    return out


def _tokens(block: str):
    for i, line in enumerate(block.split("\n")):
        for j, word in enumerate(line.split(" ")):
            sep = "\n" if (i > 0 and j == 0) else " "
            yield word, sep
