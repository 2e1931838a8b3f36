"""Typed answers to a list of choices: a number, a label, or a channel's shortened label."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"[0-9]{1,3}")  # ASCII only: int("²") would raise
_NUMBERED = re.compile(r"([0-9]{1,3})[.)]\s+(\S.*)", re.S)  # "2. Beda kecamatan…" as a list row reads
_SHORTENED = ("…", "...")
MIN_PREFIX = 3  # characters a shortened label must keep to be recognised


def label_key(text: str) -> str:
    """A label for comparison: words only, case folded."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def typed_number(text: str) -> int | None:
    """The number a message consists of ("2", "2.", "2)"), or None."""
    t = text.strip().rstrip(".)")
    return int(t) if _NUMBER.fullmatch(t) else None


def label_index(labels: list[str], text: str) -> int | None:
    """The index of the label a message names: in full, or shortened with "…" as WhatsApp titles are.

    "2. Beda kecamatan…" (a numbered list row copied as text) names label 2 if the rest fits that label.
    """
    stripped = text.strip()
    m = _NUMBERED.fullmatch(stripped)
    if m:
        n = int(m.group(1))
        if 1 <= n <= len(labels) and _names(labels[n - 1], m.group(2)):
            return n - 1
        return None
    for i, label in enumerate(labels):
        if _names(label, stripped):
            return i
    return None


def _names(label: str, text: str) -> bool:
    key = label_key(text)
    if not key:
        return False
    full = label_key(label)
    if key == full:
        return True
    return text.rstrip().endswith(_SHORTENED) and len(key) >= MIN_PREFIX and full.startswith(key)
