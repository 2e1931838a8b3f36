"""The knowledge base: entries as TOML data files, loaded and validated."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.citations import Citation, parse_citation
from knowledge.mentions import check_mentions
from knowledge.normalise import Normaliser
from knowledge.sources import Source, excerpt_pieces, parse_source

STATUSES = ("verified", "verbatim", "unverified")
SUMBER = ("verbatim", "parafrase")
MIN_QUESTIONS = 6
UNCERTAIN = "[?]"  # how the sources mark a word they could not read with certainty
# A gap glued to a word ("kewaji[…]"): the source cuts the text off inside that word, so the word is not known.
_CUT_WORD = re.compile(r"\w\[…\]|\[…\]\w")
PENJELASAN = "Penjelasan"
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = ("id", "title", "status", "questions", "answer", "citations", "excerpts")
_KNOWN = set(_REQUIRED) | {"related", "checklist", "note", "verified_against"}


@dataclass(frozen=True)
class Excerpt:
    cite: str
    sumber: str
    text: str


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    status: str
    questions: tuple[str, ...]
    answer: str
    citations: tuple[str, ...]
    excerpts: tuple[Excerpt, ...]
    related: tuple[str, ...] = ()
    checklist: bool = False
    note: str = ""
    verified_against: str = ""
    file: str = ""

    @property
    def articles(self) -> tuple[str, ...]:
        """The entry's citations cut to article level, in order, without repeats."""
        from knowledge.citations import article_of

        return tuple(dict.fromkeys(article_of(c) for c in self.citations))


@dataclass(frozen=True)
class Regulation:
    short: str
    title: str
    source: str
    section: str | None = None


@dataclass
class KnowledgeBase:
    """All entries plus what the validator found wrong (a usable KB has no problems)."""

    entries: list[Entry]
    regulations: dict[str, Regulation]
    version: str
    date: str
    directory: Path
    problems: list[str] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)  # parsed source text per citable regulation
    # Example questions the assistant must not answer (out_of_scope.toml): (topic, question) pairs.
    out_of_scope: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        self.by_id = {e.id: e for e in self.entries}


def read_toml(path: Path, rel: str, problems: list[str]) -> dict | None:
    """A TOML data file as a dict, or None with "<rel>: -: cannot be read: …" appended to problems."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{rel}: -: cannot be read: {exc}")
        return None


def _as_str_list(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _load_regulations(directory: Path, problems: list[str]) -> tuple[dict[str, Regulation], str, str]:
    path = directory / "regulations.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"regulations.toml: -: cannot be read: {exc}")
        return {}, "?", "?"
    regs: dict[str, Regulation] = {}
    for item in raw.get("regulation", []):
        try:
            reg = Regulation(item["short"], item["title"], item["source"], item.get("section"))
        except KeyError as exc:
            problems.append(f"regulations.toml: {item.get('short', '?')}: missing field {exc}")
            continue
        if not (directory / "sources" / reg.source).is_file():
            problems.append(f"regulations.toml: {reg.short}: source file sources/{reg.source} not found")
            continue
        regs[reg.short] = reg
    kb = raw.get("kb", {})
    return regs, str(kb.get("version", "?")), str(kb.get("date", "?"))


def parse_excerpts(blocks: object, where: str, problems: list[str]) -> tuple[Excerpt, ...]:
    """[[excerpts]] blocks read as Excerpts; a block without string cite, sumber and text is reported and left out."""
    if not isinstance(blocks, list):
        problems.append(f"{where}: 'excerpts' must be a list of [[excerpts]] blocks")
        return ()
    out = []
    for i, ex in enumerate(blocks, 1):
        if not isinstance(ex, dict) or not all(isinstance(ex.get(k), str) for k in ("cite", "sumber", "text")):
            problems.append(f"{where}: excerpt {i} needs string fields cite, sumber and text")
            continue
        out.append(Excerpt(ex["cite"], ex["sumber"], ex["text"].strip()))
    return tuple(out)


def _entry_from(raw: dict, file: str, problems: list[str]) -> Entry | None:
    name = raw.get("id", Path(file).stem) if isinstance(raw.get("id"), str) else Path(file).stem
    where = f"{file}: {name}"
    bad = False
    for key in _REQUIRED:
        if key not in raw:
            problems.append(f"{where}: missing field '{key}'")
            bad = True
    for key in raw:
        if key not in _KNOWN:
            problems.append(f"{where}: unknown field '{key}'")
    if bad:
        return None
    for key in ("id", "title", "status", "answer"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            problems.append(f"{where}: field '{key}' must be a non-empty string")
            bad = True
    questions = _as_str_list(raw["questions"])
    citations = _as_str_list(raw["citations"])
    related = _as_str_list(raw.get("related", []))
    if questions is None:
        problems.append(f"{where}: 'questions' must be a list of strings")
        bad = True
    if citations is None or not citations:
        problems.append(f"{where}: 'citations' must be a non-empty list of strings")
        bad = True
    if related is None:
        problems.append(f"{where}: 'related' must be a list of entry ids")
        bad = True
    excerpts: tuple[Excerpt, ...] = ()
    if not isinstance(raw["excerpts"], list) or not raw["excerpts"]:
        problems.append(f"{where}: 'excerpts' must hold at least one [[excerpts]] block")
        bad = True
    else:
        n = len(problems)
        excerpts = parse_excerpts(raw["excerpts"], where, problems)
        bad = bad or len(problems) > n
    checklist = raw.get("checklist", False)
    if not isinstance(checklist, bool):
        problems.append(f"{where}: 'checklist' must be true or false")
        bad = True
    for key in ("note", "verified_against"):
        if key in raw and not isinstance(raw[key], str):
            problems.append(f"{where}: '{key}' must be a string")
            bad = True
    if bad:
        return None
    return Entry(
        id=raw["id"],
        title=raw["title"].strip(),
        status=raw["status"],
        questions=tuple(q.strip() for q in questions),
        answer=raw["answer"].strip(),
        citations=tuple(citations),
        excerpts=excerpts,
        related=tuple(related),
        checklist=checklist,
        note=raw.get("note", "").strip(),
        verified_against=raw.get("verified_against", "").strip(),
        file=file,
    )


def _check_entry(
    e: Entry, regs: dict[str, Regulation], sources: dict[str, Source], problems: list[str]
) -> None:
    where = f"{e.file}: {e.id}"
    if not _ID.match(e.id):
        problems.append(f"{where}: id must be lowercase letters, digits and hyphens")
    if Path(e.file).stem != e.id:
        problems.append(f"{where}: file name must be {e.id}.toml")
    if e.status not in STATUSES:
        problems.append(f"{where}: status must be one of {', '.join(STATUSES)}, not {e.status!r}")
    if len(e.questions) < MIN_QUESTIONS:
        problems.append(f"{where}: has {len(e.questions)} phrasings; at least {MIN_QUESTIONS} are needed")
    if any(not q for q in e.questions):
        problems.append(f"{where}: empty phrasing")
    if len(e.title) > 60:
        problems.append(f"{where}: title is longer than 60 characters")
    check_citations(where, e.status, e.citations, e.excerpts, regs, sources, problems, texts=(e.answer, e.note))
    if e.status == "verified" and not e.verified_against:
        problems.append(f"{where}: status 'verified' needs verified_against (where and when it was checked)")
    if e.status == "unverified" and not e.note:
        problems.append(f"{where}: status 'unverified' needs a note telling the user what is not yet checked")


def check_citations(
    where: str,
    status: str,
    citations: tuple[str, ...] | list[str],
    excerpts: tuple[Excerpt, ...] | list[Excerpt],
    regs: dict[str, Regulation],
    sources: dict[str, Source],
    problems: list[str],
    texts: tuple[str, ...] = (),
) -> None:
    """Check citations and excerpts as for an entry (canonical form, article found, verbatim text, paraphrase status).

    `texts` are what the user reads beside them (an answer, a prompt, a template's wording): every article they
    name must be cited or quoted, and a quotation from an article's Penjelasan must be called that there too.
    """
    known = frozenset(regs)
    penjelasan = False
    cited_articles: set[str] = set()
    for c in citations:
        try:
            cit = parse_citation(c, known)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        cited_articles.add(cit.article)
        _check_article_exists(where, cit, regs, sources, problems)
    excerpt_articles: set[str] = set()
    for ex in excerpts:
        try:
            cit = parse_citation(ex.cite, known)
        except ValueError as exc:
            problems.append(f"{where}: excerpt: {exc}")
            continue
        excerpt_articles.add(cit.article)
        if ex.sumber not in SUMBER:
            problems.append(f"{where}: excerpt {ex.cite}: sumber must be 'verbatim' or 'parafrase'")
            continue
        if not excerpt_pieces(ex.text):
            problems.append(f"{where}: excerpt {ex.cite}: empty text")
            continue
        if ex.sumber == "parafrase":
            if status != "unverified":
                problems.append(f"{where}: excerpt {ex.cite} is a paraphrase, so status must be 'unverified'")
            src = sources.get(cit.regulation)
            if src and not src.contains_paraphrase(ex.text):
                problems.append(f"{where}: excerpt {ex.cite}: paraphrase not found in sources/{src.file}")
        elif status != "verified":
            ocr, from_penjelasan = _check_verbatim(where, cit, ex, sources, problems)
            penjelasan = penjelasan or from_penjelasan
            if ocr and status == "verbatim":
                problems.append(
                    f"{where}: excerpt {ex.cite} comes from an OCR'd copy, so status must be 'unverified' "
                    "(with a note) until it is checked against the official text"
                )
    for art in sorted(cited_articles - excerpt_articles):
        problems.append(f"{where}: citation {art} has no excerpt of that article")
    if penjelasan and texts and not any(PENJELASAN.casefold() in t.casefold() for t in texts):
        problems.append(f"{where}: quotes a Penjelasan (official explanation), so its text must say 'Penjelasan'")
    check_mentions(where, texts, citations, [(ex.cite, ex.text) for ex in excerpts], known, sources, problems)


def _check_article_exists(
    where: str, cit: Citation, regs: dict[str, Regulation], sources: dict[str, Source], problems: list[str]
) -> None:
    src = sources.get(cit.regulation)
    if src is None:
        return
    art = src.articles.get(cit.pasal)
    if art is None or not art.found:
        problems.append(f"{where}: {cit} cites an article whose text is not in sources/{src.file}")


def _check_verbatim(
    where: str, cit: Citation, ex: Excerpt, sources: dict[str, Source], problems: list[str]
) -> tuple[bool, bool]:
    """Check a verbatim excerpt against its article; return (rests on OCR'd text, quotes the Penjelasan)."""
    src = sources.get(cit.regulation)
    if src is None:
        return False, False
    art = src.articles.get(cit.pasal)
    if art is None or not art.found:
        return False, False  # reported with the citations
    if UNCERTAIN in ex.text:
        problems.append(f"{where}: excerpt {ex.cite}: quotes a word the source marks uncertain {UNCERTAIN}; leave it out with […]")
    cut = _CUT_WORD.search(ex.text)
    if cut:
        problems.append(
            f"{where}: excerpt {ex.cite}: quotes a word the source cuts off ({cut.group(0)!r}); "
            "what follows the cut is not known, so end the quotation before that word"
        )
    ocr = penjelasan = labelled = False
    for piece in excerpt_pieces(ex.text):
        exact = [seg for seg in art.verbatim if piece in seg]
        if exact:
            ocr = ocr or all(seg in art.ocr for seg in exact)
            if art.in_penjelasan(piece):
                penjelasan = True
                labelled = labelled or PENJELASAN in piece
                if not labelled:
                    problems.append(
                        f"{where}: excerpt {ex.cite}: quotes the Penjelasan as if it were the article; "
                        f"quote its heading first (e.g. '{PENJELASAN} Pasal {cit.pasal}', then […])"
                    )
            continue
        if any(piece in seg for seg in art.parafrase):
            problems.append(f"{where}: excerpt {ex.cite}: this text is a paraphrase in the source, not verbatim")
        else:
            short = piece if len(piece) < 70 else piece[:67] + "..."
            problems.append(
                f"{where}: excerpt {ex.cite}: text not found verbatim in Pasal {cit.pasal} of sources/{src.file}: {short!r}"
            )
    return ocr, penjelasan


def _check_cross(entries: list[Entry], norm: Normaliser, problems: list[str]) -> None:
    ids: dict[str, str] = {}
    for e in entries:
        if e.id in ids:
            problems.append(f"{e.file}: {e.id}: duplicate id (also in {ids[e.id]})")
        ids.setdefault(e.id, e.file)
    seen: dict[str, str] = {}
    for e in entries:
        for r in e.related:
            if r not in ids:
                problems.append(f"{e.file}: {e.id}: related id {r!r} does not exist")
            elif r == e.id:
                problems.append(f"{e.file}: {e.id}: related lists the entry itself")
        for q in e.questions:
            key = norm.text(q)
            other = seen.get(key)
            if other and other != e.id:
                problems.append(f"{e.file}: {e.id}: phrasing {q!r} is also a phrasing of {other}")
            seen.setdefault(key, e.id)


def load_references(directory: Path, problems: list[str]) -> tuple[dict[str, Regulation], dict[str, Source]]:
    """The citable regulations and their parsed source texts (problems are appended to the list)."""
    regs, _, _ = _load_regulations(directory, problems)
    return regs, _parse_sources(directory, regs)


def _parse_sources(directory: Path, regs: dict[str, Regulation]) -> dict[str, Source]:
    return {short: parse_source(directory / "sources" / reg.source, reg.section) for short, reg in regs.items()}


def load_kb(directory: Path, norm: Normaliser | None = None) -> KnowledgeBase:
    """Load every entry under directory/entries and validate the whole knowledge base.

    `norm` is the normaliser the live bot uses (by default the directory's own), so that duplicate phrasings
    are those the retriever would confuse.
    """
    directory = Path(directory)
    norm = norm or Normaliser.for_directory(directory)
    problems: list[str] = []
    regs, version, date = _load_regulations(directory, problems)
    sources = _parse_sources(directory, regs)
    entries: list[Entry] = []
    files = sorted((directory / "entries").glob("*.toml"))
    if not files:
        problems.append(f"entries: -: no entry files in {directory / 'entries'}")
    for path in files:
        rel = f"entries/{path.name}"
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{rel}: -: not valid TOML: {exc}")
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{rel}: -: cannot be read: {exc}")
            continue
        entry = _entry_from(raw, rel, problems)
        if entry is None:
            continue
        _check_entry(entry, regs, sources, problems)
        entries.append(entry)
    _check_cross(entries, norm, problems)
    examples = load_out_of_scope(directory, problems)
    _check_out_of_scope(examples, entries, norm, problems)
    return KnowledgeBase(entries, regs, version, date, directory, problems, sources, examples)


OUT_OF_SCOPE_FILE = "out_of_scope.toml"


def load_out_of_scope(directory: Path, problems: list[str]) -> tuple[tuple[str, str], ...]:
    """The out-of-scope example questions of directory/out_of_scope.toml as (topic, question) pairs (none when
    the file is absent); problems are appended to the list."""
    path = directory / OUT_OF_SCOPE_FILE
    if not path.is_file():
        return ()
    raw = read_toml(path, OUT_OF_SCOPE_FILE, problems)
    if raw is None:
        return ()
    out: list[tuple[str, str]] = []
    topics = raw.get("topic")
    if not isinstance(topics, list) or not topics:
        problems.append(f"{OUT_OF_SCOPE_FILE}: -: needs [[topic]] tables with a name and questions")
        return ()
    for n, t in enumerate(topics, 1):
        name = t.get("name") if isinstance(t, dict) else None
        questions = _as_str_list(t.get("questions")) if isinstance(t, dict) else None
        if not isinstance(name, str) or not name.strip() or not questions:
            problems.append(f"{OUT_OF_SCOPE_FILE}: topic {n}: needs a name and a non-empty list of questions")
            continue
        out.extend((name, q) for q in questions if q.strip())
    return tuple(out)


def _check_out_of_scope(
    examples: tuple[tuple[str, str], ...], entries: list[Entry], norm: Normaliser, problems: list[str]
) -> None:
    """An out-of-scope example must not also be a phrasing of an entry, nor appear twice."""
    phrasing = {norm.text(q): e.id for e in entries for q in e.questions}
    seen: set[str] = set()
    for topic, q in examples:
        key = norm.text(q)
        if key in phrasing:
            problems.append(f"{OUT_OF_SCOPE_FILE}: {topic}: {q!r} is also a phrasing of {phrasing[key]}")
        elif key in seen:
            problems.append(f"{OUT_OF_SCOPE_FILE}: {topic}: {q!r} is listed twice")
        seen.add(key)
