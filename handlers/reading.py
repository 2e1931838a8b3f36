"""Reading typed input while the proposal guide waits: what a message means, decided in one place.

`read(text, expecting, words)` returns a `Reading`: a choice of the menu in focus (its number or label), a command
word typed without the slash, a cancel word, smalltalk, a yes / not yet / no / not applicable, a question about
the step ("maksudnya?", "wajib?"), a question about the rules, or a value for the step — with `certain=False` when
the value should be checked with the user before it is stored. The word lists are data
(knowledge/step_words.toml); the cases are a table in tests/test_reading.py.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Literal

from handlers.choosing import label_index, typed_number

WORDS_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "step_words.toml"

Kind = Literal[
    "empty", "choice", "number", "command", "cancel", "smalltalk", "yes", "not_yet", "no", "na", "help", "why",
    "question", "value",
]
# What a pending step waits for: the proposal's name, a place name, a free text, a duration, a confirmation (Sudah / Belum /
# Tidak berlaku), one of a choice step's options, or a yes/no question (triage Ya/Tidak, "Simpan …?").
Expecting = Literal["proposal", "name", "text", "duration", "confirm", "choice", "yesno"]
NAMES = ("proposal", "name")  # a proposal's own name, or a place name (Desa, Kecamatan, Kabupaten)
YES_NO_KINDS = ("yes", "not_yet", "no", "na")
MAX_NAME_WORDS = 6  # a name longer than this is checked with the user before it is stored


@dataclass(frozen=True)
class Reading:
    """What a typed message means at a step. `value`: the command, smalltalk kind, question or cleaned value."""

    kind: Kind
    value: str = ""
    index: int | None = None  # "choice": the index in the menu in focus; "number": the number typed
    certain: bool = True  # "value" / "question": False when the user should be asked before anything is stored
    reason: str = ""  # why a value is uncertain (for tests and logs)


def fold(text: str) -> str:
    """Lower case without accents; every run of non-letters/digits becomes one space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _squeeze(word: str) -> str:
    """Repeated letters collapsed: "sudaaah" → "sudah", "iyaa" → "iya"."""
    return re.sub(r"(.)\1+", r"\1", word)


@dataclass(frozen=True)
class StepWords:
    """The word lists of knowledge/step_words.toml, folded for matching."""

    fillers: frozenset[str]
    answers: dict[str, frozenset[str]]  # "yes" | "not_yet" | "no" | "na" → phrases
    commands: dict[str, str]  # phrase → command name
    cancel: frozenset[str]
    help: frozenset[str]
    help_markers: frozenset[str]
    why: frozenset[str]
    question_starts: frozenset[str]
    doubtful_names: frozenset[str]
    unknown: frozenset[str] = frozenset()
    not_in_place_names: frozenset[str] = frozenset()

    @classmethod
    def from_file(cls, path: Path = WORDS_FILE) -> "StepWords":
        """Load and fold the word lists."""
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        fillers = frozenset(fold(w) for w in raw["fillers"]["words"])

        def key(value: str) -> str:  # a phrase as a message is matched: folded, without fillers
            words = fold(value).split()
            return " ".join(w for w in words if w not in fillers) or " ".join(words)

        def phrases(values) -> frozenset[str]:
            return frozenset(k for k in (key(v) for v in values) if k)

        answers = {kind: phrases(raw[section]["words"]) for kind, section in
                   (("yes", "yes"), ("not_yet", "not_yet"), ("no", "no"), ("na", "not_applicable"))}  # fmt: skip
        commands = {key(p): name for name, ps in raw["commands"].items() for p in ps if key(p)}
        return cls(
            fillers=fillers,
            answers=answers,
            commands=commands,
            cancel=phrases(raw["cancel"]["words"]),
            help=phrases(raw["step_help"]["words"]),
            help_markers=phrases(raw["step_help"]["markers"]),
            why=phrases(raw["step_why"]["words"]),
            question_starts=phrases(raw["question"]["starts"]),
            doubtful_names=phrases(raw["doubtful_names"]["words"]),
            unknown=phrases(raw.get("unknown", {}).get("words", [])),
            not_in_place_names=phrases(raw.get("not_in_place_names", {}).get("words", [])),
        )

    # -- yes / no ---------------------------------------------------------------------------------
    def _answer_kind(self, phrase: str) -> str | None:
        for kind in ("na", "not_yet", "no", "yes"):  # "tidak berlaku" before "tidak"
            if phrase in self.answers[kind]:
                return kind
        return None

    def _forgiving_kind(self, word: str) -> str | None:
        """A single word's kind, forgiving doubled letters and one swapped pair in words of 5+ letters."""
        kind = self._answer_kind(word)
        squeezed = _squeeze(word)
        if kind is None and len(word) <= 12 and len(squeezed) >= 3:  # "sudaah", "iyaa" — not "yyyyyyy"
            kind = self._answer_kind(squeezed)
        if kind or len(word) < 5 or len(word) > 12:
            return kind
        for kind, phrases in self.answers.items():
            for p in phrases:
                if len(p) == len(word) and " " not in p and sorted(p) == sorted(word) and _one_swap(p, word):
                    return kind
        return None

    def answer(self, tokens: list[str]) -> str | None:
        """"yes" | "not_yet" | "no" | "na" when the whole message is that (phrases of one kind), else None."""
        if not tokens:
            return None
        whole = self._answer_kind(" ".join(tokens))
        if whole:
            return whole
        kinds: set[str] = set()
        i = 0
        while i < len(tokens):
            for n in range(min(4, len(tokens) - i), 0, -1):
                piece = " ".join(tokens[i : i + n])
                kind = self._answer_kind(piece) if n > 1 else self._forgiving_kind(piece)
                if kind:
                    kinds.add(kind)
                    i += n
                    break
            else:
                return None
        if kinds == {"no", "not_yet"}:  # "tidak, belum": not done
            return "not_yet"
        return kinds.pop() if len(kinds) == 1 else None


def _one_swap(a: str, b: str) -> bool:
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


@lru_cache(maxsize=4)
def default_words(path: Path = WORDS_FILE) -> StepWords:
    """The word lists, loaded once."""
    return StepWords.from_file(path)


def _tokens(words: StepWords, text: str) -> list[str]:
    return [t for t in fold(text).split() if t not in words.fillers]


def _starts_with(phrases: frozenset[str], tokens: list[str]) -> bool:
    return any(" ".join(tokens[:n]) in phrases for n in (1, 2, 3) if len(tokens) >= n)


def read(
    text: str,
    expecting: Expecting,
    labels: tuple[str, ...] = (),
    words: StepWords | None = None,
    smalltalk: Callable[[str], str | None] | None = None,
) -> Reading:
    """What typed `text` means while a step of kind `expecting` waits, with `labels` the menu in focus."""
    words = words or default_words()
    stripped = text.strip()
    folded = fold(stripped)
    if not folded:  # nothing, "?", or only punctuation/emoji (a value the step's validation refuses)
        return Reading("empty") if not stripped else Reading("help") if "?" in stripped else Reading("value", stripped)
    # 1. The menu in focus: its number or its label.
    n = typed_number(stripped)
    if n is not None:
        if 1 <= n <= len(labels):
            return Reading("choice", index=n - 1)
        if expecting in ("confirm", "choice", "yesno") or expecting == "duration":
            return Reading("number", index=n)
    i = label_index(list(labels), stripped) if labels else None
    if i is not None:
        return Reading("choice", index=i)
    tokens = _tokens(words, stripped)
    if not tokens:  # only "pak", "bu", "min": a call for attention
        return Reading("help") if stripped.endswith("?") else Reading("smalltalk", "greeting")
    phrase = " ".join(tokens)
    # 2. Words that steer the conversation.
    if phrase in words.commands:
        return Reading("command", words.commands[phrase])
    if phrase in words.cancel:
        return Reading("cancel")
    if smalltalk is not None and (talk := smalltalk(stripped)) and not (
        expecting in NAMES and phrase in words.doubtful_names
    ):
        return Reading("smalltalk", talk)
    # 3. Yes, not yet, no, not applicable — alone, or first with a remark after a comma that says nothing
    #    to the contrary ("dereng pak, rencana bulan ngajeng"; not "sudah, tapi belum lengkap").
    if phrase in words.unknown:  # "tidak tahu": not an answer, and not "tidak"
        return Reading("value", stripped, certain=False, reason="does not know")
    kind = words.answer(tokens)
    if kind is None and expecting in ("confirm", "yesno", "choice"):
        kind = _answer_with_remark(words, stripped)
    if kind is not None:
        return Reading(kind)
    # 4. A question about the step, or about the rules.
    asks = (stripped.endswith("?") or stripped.casefold().startswith("tanya:") or _starts_with(words.question_starts, tokens)
            or (len(tokens) > 1 and tokens[-1] in _QUESTION_TOKENS))  # "… terdiri atas apa"
    if phrase in words.help or (words.help_markers.intersection(tokens) and (asks or tokens[0] in words.help_markers
                                                                          or _asks_anywhere(tokens))):
        return Reading("help")
    if phrase in words.why:
        return Reading("why")
    if asks:
        # "…?" or "tanya: …" is a question for sure; a question word at the start may still be an answer at a
        # text step ("bagaimana kalau dibagi dua"): the caller asks the user when the knowledge base has no answer.
        sure = stripped.endswith("?") or stripped.casefold().startswith("tanya:")
        return Reading("question", stripped.removeprefix("tanya:").strip() if sure else stripped, certain=sure)
    # 5. A value for the step (a trailing "pak", "bu", "ya" is courtesy, not part of it: "wiyurejo pak").
    stripped = _without_trailing_fillers(words, stripped)
    if expecting in NAMES and tokens[0] in _ASKING_NOUNS:  # "cara membuat akta", "syarat jadi anggota bpd"
        return Reading("question", stripped, certain=False)
    if expecting in NAMES:
        if phrase in words.doubtful_names:
            return Reading("value", stripped, certain=False, reason="doubtful name")
        if expecting == "name" and (words.not_in_place_names.intersection(tokens) or words.answer(tokens[:1])):
            return Reading("value", stripped, certain=False, reason="talk, not a name")
        if len(tokens) > MAX_NAME_WORDS:
            return Reading("value", stripped, certain=False, reason="long name")
    return Reading("value", stripped)


def _answer_with_remark(words: StepWords, text: str) -> str | None:
    """A yes/no that opens the message, followed by a remark holding no yes/no word of another kind ("dereng pak,
    rencana bulan ngajeng"; "sudah kemarin musdesnya"; not "sudah tapi belum lengkap", not "tidak tahu")."""
    tokens = _tokens(words, text)
    if len(tokens) < 2 or any(" ".join(tokens[:n]) in words.unknown for n in range(1, len(tokens) + 1)):
        return None
    for n in range(min(4, len(tokens) - 1), 0, -1):
        kind = words.answer(tokens[:n])
        if kind is None:
            continue
        others = {k for k in (words._forgiving_kind(w) for w in tokens[n:]) if k}
        if others - {kind} - ({"no", "not_yet"} if kind in ("no", "not_yet") else set()):
            return None
        return kind
    return None


def _without_trailing_fillers(words: StepWords, text: str) -> str:
    """`text` without courtesy words at its end ("Wiyurejo pak" → "Wiyurejo"; "Sukamaju ya bu." → "Sukamaju")."""
    out = text.rstrip()
    while True:
        m = re.search(r"[\s,.!]*\b(\w+)[\s,.!]*$", out)
        if not m or m.start() == 0 or fold(m.group(1)) not in words.fillers | {"ya", "yah", "yaa"}:
            return out
        out = out[: m.start()].rstrip()


_ASKING_NOUNS = {"cara", "caranya", "syarat", "persyaratan", "prosedur", "mekanisme", "tahapan", "format", "contoh"}
_QUESTION_TOKENS = {"apa", "gimana", "bagaimana", "gmn", "kenapa", "mengapa", "siapa", "kapan", "mana", "piye", "kumaha"}


def _asks_anywhere(tokens: list[str]) -> bool:
    return bool(_QUESTION_TOKENS.intersection(tokens))


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    """Indonesian root words (Sastrawi's dictionary, shipped with the stemmer the knowledge base uses)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return frozenset(StemmerFactory().get_words())


def ordinary_words(text: str, least: int = 3) -> bool:
    """Whether `text` is `least` or more words that are all ordinary Indonesian words (their roots in the
    dictionary): "harga beras hari ini" — a phrase, unlikely a place name ("Sukamaju", "Koto Tangah")."""
    from knowledge.normalise import stem

    words = fold(text).split()
    return len(words) >= least and all(stem(w) in _dictionary() or w in _dictionary() for w in words)


# -- values -------------------------------------------------------------------------------------------------
def strip_prefixes(value: str, prefixes: tuple[str, ...], items: bool = False) -> str:
    """A value without a leading word the field already says ("Desa Sukamaju" → "Sukamaju"); per item with
    `items` ("Desa Sukajaya, Ds. Mekarsari" → "Sukajaya, Mekarsari"). A value that is only the prefix stays."""
    if not prefixes:
        return value.strip()
    parts = re.split(r"\s*,\s*", value.strip()) if items else [value.strip()]
    out = []
    for part in parts:
        for prefix in sorted(prefixes, key=len, reverse=True):
            m = re.match(rf"{re.escape(prefix.rstrip('.'))}\.?\s+(?=\S)", part, re.I)
            if m:
                part = part[m.end():]
                break
        out.append(part)
    return ", ".join(p for p in out if p)


_NUMBER_WORDS = {
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7, "delapan": 8, "sembilan": 9,
    "sepuluh": 10, "sebelas": 11, "dua belas": 12, "delapan belas": 18, "dua puluh": 20, "tiga puluh": 30,
    "dua puluh empat": 24, "tiga puluh enam": 36,
}  # fmt: skip
_UNITS = {
    "tahun": "tahun", "thn": "tahun", "th": "tahun", "thun": "tahun", "taun": "tahun", "tahunan": "tahun",
    "bulan": "bulan", "bln": "bulan", "bl": "bulan", "bulanan": "bulan",
    "minggu": "minggu", "mgg": "minggu", "mg": "minggu", "pekan": "minggu",
    "hari": "hari", "hr": "hari",
}  # fmt: skip
_SE_UNIT = {"setahun": "1 tahun", "sebulan": "1 bulan", "seminggu": "1 minggu", "sepekan": "1 minggu",
            "sehari": "1 hari", "setengah tahun": "6 bulan"}  # fmt: skip
_YEARS = re.compile(r"^(?:tahun |thn |th )?((?:19|20)\d\d)\s*(?:-|–|—|s\.?\s?d\.?|sd|sampai|hingga|to)\s*((?:19|20)\d\d)$")


def read_duration(text: str) -> str | None:
    """A duration typed as people do, in one canonical form: "2th" → "2 tahun", "setahun" → "1 tahun",
    "dua tahun" → "2 tahun", "2025-2027" → "2025–2027"; None when `text` is not only a duration."""
    s = " ".join(text.casefold().replace(",", ".").split()).rstrip(".")
    m = _YEARS.match(s)
    if m and int(m.group(1)) <= int(m.group(2)):
        return f"{m.group(1)}–{m.group(2)}"
    s = re.sub(r"(?<=\d)(?=[a-z])", " ", s)  # "2th" → "2 th"
    words = fold(s).split() if not re.search(r"\d\.\d", s) else s.split()
    joined = " ".join(w for w in words if w not in ("selama", "kurang", "lebih", "kurleb"))
    if joined in _SE_UNIT:
        return _SE_UNIT[joined]
    if len(joined.split()) >= 2 and joined.split()[-1] in _UNITS:
        number, unit = " ".join(joined.split()[:-1]), _UNITS[joined.split()[-1]]
        if re.fullmatch(r"\d{1,3}(?:\.\d)?", number):
            return f"{number.replace('.', ',')} {unit}"
        if number in _NUMBER_WORDS:
            return f"{_NUMBER_WORDS[number]} {unit}"
    return None


def match_option(text: str, options: list[tuple[str, tuple[str, ...]]], words: StepWords | None = None) -> int | None:
    """The one option a free answer names by its label or one of its aliases ("sama desa tetangga" → "Dengan Desa
    lain"; "perusahaan swasta" → "Pihak swasta"); None when it names none, or several. A name inside a longer one
    of another option does not count ("tidak bentuk bkad" names "Tidak, …", not "Ya, bentuk BKAD")."""
    words = words or default_words()
    tokens = fold(text).split()
    spans: list[tuple[int, int, int]] = []  # (start, end, option)
    for i, (label, aliases) in enumerate(options):
        for phrase in (label, *aliases):
            p = fold(phrase).split()
            if not p or all(w in words.fillers for w in p):
                continue
            for s in range(len(tokens) - len(p) + 1):
                if tokens[s : s + len(p)] == p:
                    spans.append((s, s + len(p), i))
    kept = {i for s, e, i in spans
            if not any(o != i and s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, o in spans)}  # fmt: skip
    return kept.pop() if len(kept) == 1 else None
