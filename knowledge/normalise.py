"""Text normalisation driven by knowledge/normalisation.toml (curators extend the data, not the code)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path

DEFAULT_FILE = Path(__file__).resolve().parent / "normalisation.toml"

_TOKEN = re.compile(r"[a-z0-9]+")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_MAX_PASSES = 3


@lru_cache(maxsize=1)
def _stemmer():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer().stem(word) or word


def stem(word: str) -> str:
    """A word's Indonesian root (Sastrawi), cached."""
    return _stem(word)


def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes dropped, punctuation turned into spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['’`´]", "", text)
    text = _LETTER_DIGIT.sub(" ", text)
    return " ".join(_TOKEN.findall(text))


class Normaliser:
    """Turns a question into canonical tokens: variants, abbreviations and desa's other names unified."""

    def __init__(self, data: dict):
        self.words: dict[str, list[str]] = {}
        for canon, variants in data.get("words", {}).items():
            for v in variants:
                self.words[fold(v)] = fold(canon).split()
        self.phrases: dict[tuple[str, ...], str] = {}
        for canon, variants in data.get("phrases", {}).items():
            for v in variants:
                key = tuple(fold(v).split())
                if key:
                    self.phrases[key] = fold(canon)
        self.max_phrase = max((len(k) for k in self.phrases), default=1)
        self.canonical = {c for c in self.phrases.values()} | {w for ws in self.words.values() for w in ws}
        self.stopwords = {fold(w) for w in data.get("stopwords", {}).get("words", [])}
        scope = data.get("out_of_scope", {})
        self.oos_terms = [tuple(self.tokens(term)) for term in scope.get("terms", []) if self.tokens(term)]
        self.oos_strong = [tuple(self.tokens(t)) for t in scope.get("strong", []) if self.tokens(t)]
        # The same terms by their first token: a question is scanned once, not once per term.
        self._oos_terms_by_first = _by_first(self.oos_terms)
        self._oos_strong_by_first = _by_first(self.oos_strong)
        self.anchors = {tok for a in scope.get("anchors", []) for tok in self.tokens(a)}
        self.above_desa = {tok for a in scope.get("above_desa", []) for tok in self.tokens(a)}
        self._cooperation = set(self.tokens("kerja sama"))
        # At the desa's level: every anchor but "kerja sama" itself (BKAD, Perber kades, pihak ketiga …), and the
        # words of [out_of_scope] desa_level.
        self.desa_level = (self.anchors - self._cooperation) | {
            tok for a in scope.get("desa_level", []) for tok in self.tokens(a)
        }
        self.key_terms = list(data.get("key_terms", {}).get("terms", []))
        self.key_term_tokens = {t for term in self.key_terms for t in self.tokens(term)}
        self._stripper = None  # the message stripper of the same knowledge directory (set by for_directory)

    @classmethod
    def from_file(cls, path: Path = DEFAULT_FILE) -> "Normaliser":
        return cls(tomllib.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def default(cls) -> "Normaliser":
        return _default()

    @classmethod
    def for_directory(cls, directory: Path) -> "Normaliser":
        """The normaliser of a knowledge directory: its normalisation.toml, else the default one."""
        from knowledge.message import MessageStripper

        path = Path(directory) / "normalisation.toml"
        norm = cls.from_file(path) if path.is_file() else cls.default()
        if path.is_file():
            norm._stripper = MessageStripper.for_directory(directory)
        return norm

    @property
    def stripper(self):
        """The MessageStripper (knowledge/messages.toml) used with this normaliser."""
        if self._stripper is None:
            from knowledge.message import default_stripper

            self._stripper = default_stripper()
        return self._stripper

    def _replace_phrases(self, tokens: list[str]) -> list[str]:
        for _ in range(_MAX_PASSES):
            out: list[str] = []
            i, changed = 0, False
            while i < len(tokens):
                for n in range(min(self.max_phrase, len(tokens) - i), 0, -1):
                    canon = self.phrases.get(tuple(tokens[i : i + n]))
                    if canon is not None:
                        out.append(canon)
                        changed = changed or n > 1 or canon != tokens[i]
                        i += n
                        break
                else:
                    out.append(tokens[i])
                    i += 1
            tokens = out
            if not changed:
                break
        return tokens

    def tokens(self, text: str, stem: bool = True) -> list[str]:
        """Canonical content tokens of a text (stop words dropped, words stemmed)."""
        toks: list[str] = []
        for t in fold(text).split():
            toks.extend(self.words.get(t, [t]))
        toks = self._replace_phrases(toks)
        out = []
        for t in toks:
            if t in self.stopwords:
                continue
            if stem and t not in self.canonical and len(t) > 3 and not t.isdigit():
                t = _stem(t)
            out.append(t)
        return out

    def text(self, text: str) -> str:
        """The normalised text: canonical tokens joined by spaces."""
        return " ".join(self.tokens(text))

    def out_of_scope(self, tokens: list[str]) -> bool:
        """Whether normalised question tokens name an out-of-scope subject and no cooperation anchor — or a
        subject that stays out of scope whatever else the question says (`strong`: a kabupaten's own cooperation
        with another kabupaten, village boundaries, recruitment of perangkat desa)."""
        if _names(tokens, self._oos_strong_by_first) or self._above_desa(tokens):
            return True
        if self.anchors.intersection(tokens):
            return False
        return _names(tokens, self._oos_terms_by_first)

    def _above_desa(self, tokens: list[str]) -> bool:
        """Cooperation between governments above the desa: the tokens name kerja sama, two governments above the
        desa or "antar" one of them ("kabupaten kami mau kerja sama dengan kabupaten tetangga", "kerja sama antar
        provinsi"), and nothing at the desa's level ([out_of_scope] above_desa, desa_level)."""
        if not self.above_desa or not self._cooperation.intersection(tokens) or self.desa_level.intersection(tokens):
            return False
        above = [i for i, t in enumerate(tokens) if t in self.above_desa]
        return len(above) >= 2 or any(i > 0 and tokens[i - 1] == "antar" for i in above)

    def names_in_scope(self, tokens: list[str]) -> bool:
        """Whether normalised tokens name a kerja sama term ([out_of_scope] anchors) or a thing the entries are about
        ([key_terms]: BPD, Musdes, RKP Desa …)."""
        return bool(self.anchors.intersection(tokens) or self.key_term_tokens.intersection(tokens))

    def smalltalk(self, text: str) -> str | None:
        """'greeting' or 'thanks' when the message is only that (knowledge/messages.toml), else None."""
        return self.stripper.smalltalk(text)


def _by_first(terms: list[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    """Token sequences grouped by their first token."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for t in terms:
        out.setdefault(t[0], []).append(t)
    return out


def _names(tokens: list[str], by_first: dict[str, list[tuple[str, ...]]]) -> bool:
    """Whether one of the token sequences (grouped by first token) occurs in tokens."""
    for i, tok in enumerate(tokens):
        for t in by_first.get(tok, ()):
            if tuple(tokens[i : i + len(t)]) == t:
                return True
    return False


@lru_cache(maxsize=1)
def _default() -> Normaliser:
    return Normaliser.from_file()
