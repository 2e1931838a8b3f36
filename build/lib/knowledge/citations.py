"""Canonical short citations: "<short> Pasal <N>[ ayat (<n>)][ huruf <x>]"."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CITATION = re.compile(
    r"^(?P<reg>.+?) Pasal (?P<pasal>[1-9][0-9]*[A-Z]?)(?: ayat \((?P<ayat>[1-9][0-9]*)\))?(?: huruf (?P<huruf>[a-z]))?$"
)


@dataclass(frozen=True)
class Citation:
    regulation: str
    pasal: str
    ayat: str | None = None
    huruf: str | None = None

    @property
    def article(self) -> str:
        """The citation cut to article level: "<short> Pasal <N>"."""
        return f"{self.regulation} Pasal {self.pasal}"

    def __str__(self) -> str:
        s = self.article
        if self.ayat:
            s += f" ayat ({self.ayat})"
        if self.huruf:
            s += f" huruf {self.huruf}"
        return s


def parse_citation(text: str, known: set[str] | frozenset[str]) -> Citation:
    """Parse a canonical citation; raise ValueError saying what is wrong."""
    m = _CITATION.match(text)
    if not m:
        raise ValueError(f"citation not in canonical form: {text!r}")
    reg = m.group("reg")
    if reg not in known:
        raise ValueError(f"citation names an unknown regulation {reg!r}: {text!r}")
    return Citation(reg, m.group("pasal"), m.group("ayat"), m.group("huruf"))


def article_of(text: str) -> str:
    """Cut a canonical citation string to article level (no validation of the regulation)."""
    m = _CITATION.match(text)
    return f"{m.group('reg')} Pasal {m.group('pasal')}" if m else text
