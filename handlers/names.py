"""Place and party names as users type them ("Desa Sukajaya", "sukajaya", "Ds. Sukajaya"), read for documents.

Documents add the words "Desa", "Kecamatan", "Kabupaten" themselves, so a prefix the user typed is taken off
(never "Desa Desa" or "Kab. Kab."), and a name typed all in lower or upper case gets capitals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DESA = re.compile(r"^(?:desa|ds)\b\.?\s*", re.IGNORECASE)
_KECAMATAN = re.compile(r"^(?:kecamatan|kec)\b\.?\s*", re.IGNORECASE)
_KABUPATEN = re.compile(r"^(?:kabupaten|kab)\b\.?\s*", re.IGNORECASE)
_KOTA = re.compile(r"^kota\b\.?\s*", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:[,;\n]|\s(?:dan|serta)\s|&)\s*", re.IGNORECASE)
_INSIDE = re.compile(r"\(([^)]*)\)")
_KEC_IN = re.compile(r"\b(?:kecamatan|kec)\b\.?\s*(.+)$", re.IGNORECASE)
_KAB_IN = re.compile(r"\b(?:kabupaten|kab|kota)\b\.?\s*(.+)$", re.IGNORECASE)
_ACRONYMS = {"pt", "cv", "ud", "bum", "bumdes", "tbk", "koperasi"}


def _tidy(text: str) -> str:
    """Spaces folded, stray punctuation at the ends removed, capitals added to an all-lower/upper name."""
    s = " ".join(text.split()).strip(" ,.;:-")
    if s and (s.islower() or s.isupper()):
        s = " ".join(w.upper() if w.casefold() in _ACRONYMS - {"koperasi"} else w.capitalize() for w in s.split())
    return s


def village(text: str) -> str:
    """A Desa's own name: "Desa Sukajaya", "ds. sukajaya" and "sukajaya" all give "Sukajaya"."""
    return _tidy(_DESA.sub("", _tidy(text)))


# Other names of desa (UU 6/2014: "Desa atau yang disebut dengan nama lain"): typed before a name, they stay its
# designation ("Nagari Pariangan", "Kampung Yoboi"), so a document never prints "Desa Nagari Pariangan".
LOCAL_DESIGNATIONS = ("nagari", "kampung", "gampong", "pekon", "lembang", "kalurahan", "negeri", "huta", "tiuh",
                      "banua", "binua", "marga", "mukim")  # fmt: skip


def designated(name: str) -> str:
    """A village as documents name it: "Desa Sukajaya", or as typed when it carries another name of desa."""
    if not name:
        return ""
    first = name.split()[0].casefold()
    return name if first in LOCAL_DESIGNATIONS and len(name.split()) > 1 else f"Desa {name}"


def kecamatan(text: str) -> str:
    """A kecamatan's own name, without "Kecamatan"/"Kec."."""
    return _tidy(_KECAMATAN.sub("", _tidy(text)))


@dataclass(frozen=True)
class Region:
    """A kabupaten or a kota: "Kabupaten Cianjur", "Kota Banjar"."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}" if self.name else ""


def region(text: str) -> Region:
    """A kabupaten/kota as typed: "Kota Banjar" stays a kota; "Kab. Cianjur" and a bare "Cianjur" are kabupaten."""
    s = _tidy(text)
    if _KOTA.match(s):
        return Region("Kota", _tidy(_KOTA.sub("", s)))
    return Region("Kabupaten", _tidy(_KABUPATEN.sub("", s)))


def party(text: str) -> str:
    """A third party's name as typed, tidied ("pt air jernih" → "PT Air Jernih")."""
    return _tidy(text)


@dataclass(frozen=True)
class Partner:
    """A partner Desa named in the "Desa mitra" answer, with its kecamatan/kabupaten when the user gave them."""

    name: str
    kecamatan: str = ""
    region: Region | None = None


def partners(text: str) -> list[Partner]:
    """The partner villages of a "Desa mitra" answer: "Desa Sukajaya, Ds. Mekarsari (Kec. Cibeber)" → two."""
    out: list[Partner] = []
    seen: set[str] = set()
    for part in _SPLIT.split(_protect(text or "")):
        part = part.replace("\0", ",")
        extra = " ".join(_INSIDE.findall(part))
        base = _INSIDE.sub(" ", part)
        kec_m = _KEC_IN.search(base) or _KEC_IN.search(extra)
        kab_m = _KAB_IN.search(base) or _KAB_IN.search(extra)
        cut = min((m.start() for m in (_KEC_IN.search(base), _KAB_IN.search(base)) if m), default=len(base))
        name = village(base[:cut])
        if not name or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        kec = kecamatan(_KAB_IN.split(kec_m.group(1))[0]) if kec_m else ""
        out.append(Partner(name, kec, region(kab_m.group(0)) if kab_m else None))
    return out


def _protect(text: str) -> str:
    """Commas inside parentheses do not separate partners."""
    out, depth = [], 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        out.append("\0" if ch == "," and depth else ch)
    return "".join(out)
