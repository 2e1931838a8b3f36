"""A chat message cut down to its question: greetings, self-introductions, thanks and emoji removed.

The word lists are data (knowledge/messages.toml, documented there); this module only applies them by the
message's structure: sentences, clauses, their first and last words.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from knowledge.normalise import fold

DEFAULT_FILE = Path(__file__).resolve().parent / "messages.toml"

# Characters that are neither text nor punctuation we use: emoji, pictographs, symbols, private use.
_SYMBOL_CATEGORIES = {"So", "Sk", "Co", "Cs", "Cn"}
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+|[\r\n]+|(?<=[?!])(?=\S)")
_CLAUSE_SEP = re.compile(r"[,;:()\[\]\"“”]+|\s[-–—]+\s|\.{2,}|…")
# An intro ends where the writer starts saying what they want ("saya kades X ingin bekerja sama …").
_INTRO_STOP = {
    "ingin", "mau", "akan", "hendak", "berencana", "sedang", "merencanakan", "punya", "memiliki", "dan", "tapi",
    "namun", "karena", "ada", "bingung", "perlu", "butuh", "berniat", "pengen", "pingin", "arep", "badhe",
}
# Words that may stand between an intro's first word and its role or place ("saya selaku kades …").
_INTRO_FILLER = {"sebagai", "selaku", "adalah", "seorang", "salah", "satu", "dari", "yang", "baru", "kebetulan"}
# Closing words that end a message only at the start of a clause ("sebelumnya" is also an ordinary word).
_CLAUSE_INITIAL_ONLY = {"sebelumnya", "ditunggu", "semangat", "atas", "salam", "sehat", "tetap", "mohon"}
# Starts that do not open a person's name ("kami …", "ini …", "dengan …"): such a clause is an introduction only
# when it names a role or place.
_PLURAL_STARTS = {"kami", "kita", "we", "ini", "dengan"}
_NAME_TOKENS = 3  # at most this many capitalised words (a name) between "saya" and the role or place
_PLACE_CLAUSE_MAX = 5  # "Kecamatan Cibeber Kabupaten Cianjur": a clause of at most this many words


@dataclass(frozen=True)
class Message:
    """What a message says once the wrapping is removed."""

    question: str  # the asking sentence(s), in the writer's words; "" when nothing is left
    context: str = ""  # other sentences of substance (story around the question)
    greeting: bool = False  # a greeting or salam was removed
    thanks: bool = False  # thanks, a closing or an acknowledgement was removed
    removed: tuple[str, ...] = ()  # the pieces removed, for curators and tests

    @property
    def text(self) -> str:
        """The question with its context after it (what is left of the message)."""
        return " ".join(x for x in (self.question, self.context) if x)

    @property
    def empty(self) -> bool:
        return not self.question and not self.context


class _PhraseSet:
    """Folded phrases indexed by their first word (longest first), for fast matching at a position."""

    def __init__(self, items: list[str]):
        phrases = {tuple(fold(p).split()) for p in items}
        phrases.discard(())
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for p in sorted(phrases, key=len, reverse=True):
            self.by_first.setdefault(p[0], []).append(p)
        self.by_last: dict[str, list[tuple[str, ...]]] = {}
        for p in sorted(phrases, key=len, reverse=True):
            self.by_last.setdefault(p[-1], []).append(p)


def _phrases(items: list[str]) -> _PhraseSet:
    return _PhraseSet(items)


def _clean(text: str) -> str:
    """Drop emoji, symbols and control characters (line breaks kept); normalise compatibility forms."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\n\r":
            out.append("\n")
        elif cat in _SYMBOL_CATEGORIES or cat == "Cf":
            out.append(" ")
        elif cat == "Cc":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=20_000)
def _fold_word(word: str) -> tuple[str, ...]:
    return tuple(fold(word).split())


@dataclass
class _Clause:
    words: list[str]  # the original words
    folded: list[str]  # one folded token list per original word, flattened index kept in `owner`
    owner: list[int]  # owner[k] = index in `words` of folded token k

    @classmethod
    def of(cls, text: str) -> "_Clause":
        words = text.split()
        folded, owner = [], []
        for i, w in enumerate(words):
            for t in _fold_word(w):
                folded.append(t)
                owner.append(i)
        return cls(words, folded, owner)

    def text(self, start: int, end: int) -> str:
        """The original words covering folded tokens [start, end)."""
        if start >= end:
            return ""
        return " ".join(self.words[self.owner[start] : self.owner[end - 1] + 1])


class MessageStripper:
    """Applies knowledge/messages.toml to chat messages."""

    def __init__(self, data: dict):
        self.abbreviations = {fold(w) for w in data.get("abbreviations", {}).get("words", [])}
        self.greetings = _phrases(data.get("greetings", {}).get("phrases", []))
        self.requests = _phrases(data.get("requests", {}).get("phrases", []))
        self.honorifics = _phrases(data.get("honorifics", {}).get("phrases", []))
        self.acks = _phrases(data.get("acknowledgements", {}).get("phrases", []))
        self.closings = _phrases(data.get("closings", {}).get("phrases", []))
        intro = data.get("introductions", {})
        self.intro_starts = _phrases(intro.get("starts", []))
        self.roles = _phrases(intro.get("roles", []))
        self.places = _phrases(intro.get("places", []))
        self.asking = _phrases(data.get("asking", {}).get("words", []))
        self._abbrev_dot = re.compile(
            r"\b(" + "|".join(sorted(map(re.escape, self.abbreviations), key=len, reverse=True)) + r")\.(?=\s|\w)",
            re.IGNORECASE,
        ) if self.abbreviations else None

    @classmethod
    def from_file(cls, path: Path = DEFAULT_FILE) -> "MessageStripper":
        return cls(tomllib.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def for_directory(cls, directory: Path) -> "MessageStripper":
        """The stripper of a knowledge directory: its messages.toml, else the default one."""
        path = Path(directory) / "messages.toml"
        return cls.from_file(path) if path.is_file() else default_stripper()

    # -- matching helpers --------------------------------------------------------------------
    @staticmethod
    def _match_at(tokens: list[str], i: int, phrases: _PhraseSet) -> int:
        """Length of the longest phrase starting at tokens[i] (0 if none)."""
        if i >= len(tokens):
            return 0
        for p in phrases.by_first.get(tokens[i], ()):
            if tuple(tokens[i : i + len(p)]) == p:
                return len(p)
        return 0

    @staticmethod
    def _match_end(tokens: list[str], end: int, phrases: _PhraseSet) -> int:
        """Length of the longest phrase ending at tokens[end - 1] (0 if none)."""
        if end <= 0:
            return 0
        for p in phrases.by_last.get(tokens[end - 1], ()):
            if len(p) <= end and tuple(tokens[end - len(p) : end]) == p:
                return len(p)
        return 0

    def _find(self, tokens: list[str], phrases: _PhraseSet, start: int = 0) -> tuple[int, int]:
        """(position, length) of the first phrase in tokens at or after start, or (-1, 0)."""
        for i in range(start, len(tokens)):
            n = self._match_at(tokens, i, phrases)
            if n:
                return i, n
        return -1, 0

    def asks(self, text: str) -> bool:
        """Whether a sentence asks something: a "?" or an asking word."""
        if "?" in text:
            return True
        tokens = fold(text).split()
        return self._find(tokens, self.asking)[0] >= 0

    # -- the pieces ---------------------------------------------------------------------------
    def _sentences(self, text: str) -> list[str]:
        if self._abbrev_dot is not None:
            text = self._abbrev_dot.sub(r"\1 ", text)
        return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]

    def _trim(self, c: _Clause, flags: dict) -> tuple[int, int]:
        """Strip greetings, requests, honorifics and acknowledgements from both ends of a clause."""
        toks, start, end = c.folded, 0, len(c.folded)
        changed = True
        while changed and start < end:
            changed = False
            for kind, phrases in (("greeting", self.greetings), ("request", self.requests),
                                  ("honorific", self.honorifics), ("ack", self.acks)):  # fmt: skip
                n = self._match_at(toks[:end], start, phrases)
                if n:
                    flags[kind] = True
                    start += n
                    changed = True
                    break
        changed = True
        while changed and start < end:
            changed = False
            for kind, phrases in (("greeting", self.greetings), ("honorific", self.honorifics),
                                  ("ack", self.acks), ("request", self.requests)):  # fmt: skip
                n = self._match_end(toks[start:end], end - start, phrases)
                if n:
                    flags[kind] = True
                    end -= n
                    changed = True
                    break
        return start, end

    def _intro_end(self, toks: list[str], words: list[str], owner: list[int]) -> int:
        """If the tokens open with a self-introduction, where it ends (exclusive); else 0."""
        n = self._match_at(toks, 0, self.intro_starts)
        if not n:
            return 0
        first = toks[:n]
        strong = first[0] in ("perkenalkan", "kenalkan", "nama", "my") or first[:2] == ["nama", "saya"]
        return self._intro_scan(toks, words, owner, n, strong)

    def _intro_scan(self, toks: list[str], words: list[str], owner: list[int], i: int, seen_role: bool) -> int:
        """From token i: the end of the roles, places and names of an introduction (0 when none was named)."""
        names = 0
        while i < len(toks):
            if toks[i] in _INTRO_STOP:
                break
            m = self._match_at(toks, i, self.roles) or self._match_at(toks, i, self.places)
            if m:
                seen_role = True
                i += m
                continue
            if toks[i] in _INTRO_FILLER:
                i += 1
                continue
            word = words[owner[i]]
            if word[:1].isupper() or word[:1].isdigit() or (seen_role and names < _NAME_TOKENS):
                names += 1
                if names > _NAME_TOKENS + (2 if seen_role else 0):
                    break
                i += 1
                continue
            break
        return i if seen_role else 0

    def _names_only(self, toks: list[str], words: list[str], owner: list[int]) -> bool:
        """A clause that is only "saya" and a name ("Saya Sutarno", "Nama saya Siti Aminah")."""
        n = self._match_at(toks, 0, self.intro_starts)
        if not n or toks[0] in _PLURAL_STARTS or not 0 < len(toks) - n <= _NAME_TOKENS:
            return False
        return all(
            words[owner[i]][:1].isupper() and toks[i] not in _INTRO_STOP and not self._match_at(toks, i, self.roles)
            and not self._match_at(toks, i, self.places)
            for i in range(n, len(toks))
        )

    def _role_end(self, toks: list[str], words: list[str], owner: list[int]) -> int:
        """After a name clause: where a clause that opens with a role or place ("kepala desa di Kec. X") ends."""
        if not (self._match_at(toks, 0, self.roles) or self._match_at(toks, 0, self.places)):
            return 0
        return self._intro_scan(toks, words, owner, 0, False)

    def _is_place(self, toks: list[str]) -> bool:
        """A short clause that only names a place ("Kec. Cibeber", "Kabupaten Cianjur Jawa Barat")."""
        return 0 < len(toks) <= _PLACE_CLAUSE_MAX and self._match_at(toks, 0, self.places) > 0

    def strip(self, text: str) -> Message:
        """The question, context and what was removed from a chat message."""
        flags: dict[str, bool] = {}
        removed: list[str] = []
        asking: list[str] = []  # asking sentences as shown (with their "?")
        sentences: list[tuple[str, str]] = []  # (sentence, "asks" | "requested" | "")
        after_request = False
        after_intro = False
        after_name = False  # the clause before was only "saya" and a name
        for sentence in self._sentences(_clean(text)):
            kept: list[str] = []
            sentence_asks = "?" in sentence
            requested = False  # a request phrase ("izin bertanya") in this sentence
            for raw in _CLAUSE_SEP.split(sentence):
                raw = raw.strip(" .!?")
                if not raw:
                    continue
                c = _Clause.of(raw)
                toks = c.folded
                if not toks:
                    continue
                if self._match_at(toks, 0, self.closings):
                    flags["thanks"] = True
                    removed.append(raw)
                    continue
                # Thanks at the end of a clause ("… apa itu bkad terima kasih pak"): cut from there.
                pos, n = self._find(toks, self.closings, 1)
                if pos > 0 and toks[pos] not in _CLAUSE_INITIAL_ONLY and not self.asks(c.text(pos, len(toks))):
                    flags["thanks"] = True
                    removed.append(c.text(pos, len(toks)))
                    c = _Clause.of(c.text(0, pos))
                    toks = c.folded
                # A request phrase inside a clause ends the wrapping before it ("saya kades X mau tanya …").
                pos, n = self._find(toks, self.requests, 1)
                if pos > 0 and not self.asks(c.text(0, pos)):
                    removed.append(c.text(0, pos + n))
                    flags["request"] = True
                    c = _Clause.of(c.text(pos + n, len(toks)))
                    toks = c.folded
                    requested = True
                before = flags.get("request", False)
                flags["request"] = False
                start, end = self._trim(c, flags)
                requested = requested or flags["request"]
                flags["request"] = before or flags["request"]
                if start:
                    removed.append(c.text(0, start))
                if end < len(toks):
                    removed.append(c.text(end, len(toks)))
                if start >= end:
                    continue
                body = _Clause.of(c.text(start, end))
                intro = self._intro_end(body.folded, body.words, body.owner)
                if after_name:  # "Saya Sutarno, kepala desa di Kecamatan Playen, …"
                    intro = intro or self._role_end(body.folded, body.words, body.owner)
                    after_name = False
                if not intro and self._names_only(body.folded, body.words, body.owner) and not self.asks(raw):
                    flags["intro"] = after_name = True
                    removed.append(body.text(0, len(body.folded)))
                    continue
                if intro and not self.asks(body.text(0, intro)):
                    flags["intro"] = after_intro = True
                    removed.append(body.text(0, intro))
                    rest = body.text(intro, len(body.folded))
                    if rest:
                        kept.append(rest)
                    continue
                if after_intro and self._is_place(body.folded) and not self.asks(raw):
                    removed.append(raw)
                    continue
                after_intro = False
                kept.append(body.text(0, len(body.folded)))
            if not kept:
                after_request = after_request or requested  # "Mohon izin bertanya." — the next sentence asks
                continue
            joined = ", ".join(kept)
            if sentence_asks or self.asks(joined):
                asking.append(joined + ("?" if sentence_asks else ""))
                sentences.append((joined, "asks"))
            elif requested or after_request:
                sentences.append((joined, "requested"))
            else:
                sentences.append((joined, ""))
            after_request = False
        # The question: the sentences that ask; else those a request phrase introduced; else everything.
        for kind in ("asks", "requested", ""):
            chosen = [t for t, k in sentences if k == kind]
            if chosen:
                break
        asked = asking if kind == "asks" else chosen
        question = " ".join(asked)
        context = " ".join(t for t, k in sentences if k != kind)
        return Message(
            question=question,
            context=context,
            greeting=bool(flags.get("greeting")),
            thanks=bool(flags.get("thanks") or flags.get("ack")),
            removed=tuple(r for r in removed if r),
        )

    def smalltalk(self, text: str) -> str | None:
        """'thanks' or 'greeting' when a message is only a greeting and/or thanks (thanks wins), else None.

        A message that is only a self-introduction or a form of address ("saya kades Sukamaju", "ya") is not
        smalltalk: it may be an answer to a question the assistant asked.
        """
        m = self.strip(text)
        if not m.empty:
            return None
        if m.thanks:
            return "thanks"
        return "greeting" if m.greeting else None


@lru_cache(maxsize=1)
def default_stripper() -> MessageStripper:
    """The stripper of the shipped knowledge/messages.toml."""
    return MessageStripper.from_file()


def strip_message(text: str) -> Message:
    """Cut a chat message down to its question with the shipped word lists.

    Greetings and salam, "izin bertanya", forms of address, self-introductions ("saya kades X, kecamatan Y"),
    thanks and closings and emoji are removed; of several sentences, those that ask are the question and the
    others its context. Use `Message.question` (or `.text` for question plus context); `.empty` means the
    message was only wrapping (a greeting or thanks).
    """
    return default_stripper().strip(text)
