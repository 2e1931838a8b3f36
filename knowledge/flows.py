"""Proposal checklist flows as TOML data files (knowledge/flows/), loaded and validated like entries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

from knowledge.base import Excerpt, Regulation, check_citations, load_references, parse_excerpts, read_toml
from knowledge.sources import Source
from knowledge.templates import Template, load_templates

KINDS = ("confirm", "text", "choice")
VALIDATORS = ("text", "name", "duration")
# The eight minimum contents of a Peraturan Bersama / Perjanjian Bersama (Permendagri 96/2017 Pasal 6;
# PP 43/2014 Pasal 143 ayat (4)): field name, label, huruf. Every flow must ask each of them.
CONTENTS: tuple[tuple[str, str, str], ...] = (
    ("ruang_lingkup", "Ruang lingkup kerja sama", "a"),
    ("bidang", "Bidang kerja sama", "b"),
    ("tata_cara", "Tata cara dan ketentuan pelaksanaan kerja sama", "c"),
    ("jangka_waktu", "Jangka waktu", "d"),
    ("hak_kewajiban", "Hak dan kewajiban", "e"),
    ("pendanaan", "Pendanaan", "f"),
    ("perubahan", "Tata cara perubahan, penundaan, dan pembatalan", "g"),
    ("perselisihan", "Penyelesaian perselisihan", "h"),
)
# The parties every flow asks for (the village, its kecamatan and kabupaten, the partner).
PARTY_FIELDS = ("desa", "kecamatan", "kabupaten", "mitra")
# A number followed by a time unit: flows never state a deadline (none was found in the sources).
_DEADLINE = re.compile(r"\b\d+\s*(?:\(\w+\)\s*)?(?:hari|minggu|pekan|bulan|tahun)\b", re.I)
_ID = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class Step:
    """One checklist step: a prompt, its kind, its legal basis, and (for text steps) the field it fills."""

    id: str
    stage: str
    kind: str
    prompt: str
    citations: tuple[str, ...]
    excerpts: tuple[Excerpt, ...]
    status: str  # verified | verbatim | unverified (as for entries)
    note: str = ""  # shown for unverified steps
    missing: str = ""  # what the sources do not say (shown with "belum ada dasar …")
    field: str = ""  # text steps: the proposal field this step fills
    label: str = ""  # text steps: the field's name in documents
    validate: str = "text"
    options: tuple[str, ...] = ()  # choice steps
    when: dict[str, str] = dc_field(default_factory=dict)  # triage answers the step depends on
    title: str = ""  # a short name for lists (/status, /ubah, the summary); text steps use `label`
    # Earlier steps this one needs (step id → the answers that allow it: confirm values "sudah" | "belum" |
    # "na", or a choice step's option labels). Until then the step is not asked; it stays missing ("menunggu").
    requires: dict[str, tuple[str, ...]] = dc_field(default_factory=dict)
    hint: str = ""  # how to answer, shown when the user asks "maksudnya?" / "gimana ngisinya?" at this step
    # Text steps: words a typed value may start with that the field already says ("Desa", "Kec.", "Kab."),
    # removed before the value is stored; with `items = true`, from each comma-separated item.
    prefixes: tuple[str, ...] = ()
    items: bool = False
    aliases: dict[str, tuple[str, ...]] = dc_field(default_factory=dict)  # choice steps: option label → words

    def option_words(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each option with the words people type for it (choice steps)."""
        return [(o, self.aliases.get(o, ())) for o in self.options]

    @property
    def name(self) -> str:
        """The step's short name (text steps: their label)."""
        return self.label if self.kind == "text" else self.title


@dataclass(frozen=True)
class Stage:
    id: str
    title: str


@dataclass(frozen=True)
class Flow:
    """One path through the regulations (e.g. antar-Desa), as stages of steps."""

    id: str
    title: str
    instrument: str  # "Peraturan Bersama Kepala Desa" | "Perjanjian Bersama"
    offer_letter: bool  # antar-Desa: a surat penawaran is drafted
    stages: tuple[Stage, ...]
    steps: tuple[Step, ...]

    def steps_for(self, triage: dict[str, str]) -> list[Step]:
        """The steps that apply given the triage answers, in order."""
        return [s for s in self.steps if all(triage.get(k) == v for k, v in s.when.items())]

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    next: str = ""  # another triage question
    outcome: str = ""  # or an outcome
    aliases: tuple[str, ...] = ()  # words people type for this option ("desa tetangga", "beda kabupaten")


@dataclass(frozen=True)
class Question:
    id: str
    prompt: str
    citations: tuple[str, ...]
    excerpts: tuple[Excerpt, ...]
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Outcome:
    """Where the triage ends: a flow with its instrument, forum and executor, or a stop."""

    id: str
    flow: str  # "" means: stop here (text says why)
    text: str
    citations: tuple[str, ...]
    excerpts: tuple[Excerpt, ...]
    note: str = ""  # required when an excerpt is OCR'd or a paraphrase; the text must contain it (users see the text)


@dataclass
class Flows:
    """The triage and every flow, plus what the validator found wrong (usable only without problems)."""

    start: str = ""
    questions: dict[str, Question] = dc_field(default_factory=dict)
    outcomes: dict[str, Outcome] = dc_field(default_factory=dict)
    flows: dict[str, Flow] = dc_field(default_factory=dict)
    problems: list[str] = dc_field(default_factory=list)
    templates: dict[str, Template] = dc_field(default_factory=dict)  # document templates (knowledge/templates)


def _strs(raw: dict, key: str, where: str, problems: list[str], required: bool = True) -> tuple[str, ...]:
    value = raw.get(key, [] if not required else None)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: '{key}' must be a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def _str(raw: dict, key: str, where: str, problems: list[str], required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{where}: field '{key}' must be a non-empty string")
        return ""
    return value.strip()


def _status(excerpts: tuple[Excerpt, ...]) -> str:
    return "unverified" if any(ex.sumber == "parafrase" for ex in excerpts) else "verbatim"


def _check_text(where: str, text: str, problems: list[str]) -> None:
    m = _DEADLINE.search(text)
    if m:
        problems.append(f"{where}: states a period {m.group(0)!r}; no deadline was found in the sources")


_STEP_KEYS = {
    "id", "stage", "kind", "title", "prompt", "citations", "excerpts", "note", "missing", "field", "label",
    "validate", "options", "when", "requires", "hint", "prefixes", "items", "aliases",
}
CONFIRM_VALUES = ("sudah", "belum", "na")


def _step(raw: dict, where: str, stages: set[str], problems: list[str]) -> Step | None:
    n = len(problems)
    for key in raw:
        if key not in _STEP_KEYS:
            problems.append(f"{where}: unknown field '{key}'")
    sid = _str(raw, "id", where, problems)
    where = f"{where.rsplit(':', 1)[0]}: step {sid or '?'}"
    stage, kind, prompt = (_str(raw, k, where, problems) for k in ("stage", "kind", "prompt"))
    citations = _strs(raw, "citations", where, problems, required=False)
    excerpts = parse_excerpts(raw.get("excerpts", []), where, problems)
    note, missing = _str(raw, "note", where, problems, False), _str(raw, "missing", where, problems, False)
    fld, label = _str(raw, "field", where, problems, False), _str(raw, "label", where, problems, False)
    validate = raw.get("validate", "text")
    options = _strs(raw, "options", where, problems, required=False) if "options" in raw else ()
    when = raw.get("when", {})
    title = _str(raw, "title", where, problems, False)
    hint = _str(raw, "hint", where, problems, False)
    prefixes = _strs(raw, "prefixes", where, problems, required=False) if "prefixes" in raw else ()
    requires = _requires(raw.get("requires", {}), where, problems)
    aliases = _aliases(raw.get("aliases", {}), where, problems)
    items = raw.get("items", False)
    if not isinstance(items, bool):
        problems.append(f"{where}: 'items' must be true or false")
    if len(problems) > n:
        return None
    if sid and not _ID.match(sid):
        problems.append(f"{where}: id must be lowercase letters, digits, hyphens")
    if stage not in stages:
        problems.append(f"{where}: stage {stage!r} is not one of the flow's stages")
    if kind not in KINDS:
        problems.append(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "text" and not (fld and label):
        problems.append(f"{where}: a text step needs 'field' and 'label'")
    if kind != "text" and not title:
        problems.append(f"{where}: a {kind} step needs a short 'title'")
    if len(title or label) > 60:
        problems.append(f"{where}: title/label is longer than 60 characters")
    if kind != "text" and fld:
        problems.append(f"{where}: only text steps fill a 'field'")
    if kind == "choice" and len(options) < 2:
        problems.append(f"{where}: a choice step needs at least 2 options")
    if validate not in VALIDATORS:
        problems.append(f"{where}: validate must be one of {', '.join(VALIDATORS)}")
    if not isinstance(when, dict) or not all(isinstance(v, str) for v in when.values()):
        problems.append(f"{where}: 'when' must be a table of triage question = option")
        when = {}
    if not citations and not missing:
        problems.append(f"{where}: a step without citations must say what is 'missing'")
    if (prefixes or items) and kind != "text":
        problems.append(f"{where}: only text steps take 'prefixes' or 'items'")
    if aliases:
        if kind != "choice":
            problems.append(f"{where}: only choice steps take 'aliases'")
        for label in aliases:
            if label not in options:
                problems.append(f"{where}: aliases for {label!r}, which is not one of the options")
        check_aliases(where, [(o, aliases.get(o, ())) for o in options], problems)
    status = _status(excerpts)
    if status == "unverified" and not note:
        problems.append(f"{where}: rests on a paraphrase, so it needs a 'note' saying it is unverified")
    for text in (prompt, note, missing, hint):
        _check_text(where, text, problems)
    return Step(sid, stage, kind, prompt, citations, excerpts, status, note, missing, fld, label, validate,
                options, dict(when), title, requires, hint, prefixes, items, aliases)


def _aliases(raw: object, where: str, problems: list[str]) -> dict[str, tuple[str, ...]]:
    """`aliases = { "Pihak swasta" = ["swasta", "perusahaan"] }` as a dict."""
    if not isinstance(raw, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v) for v in raw.values()
    ):
        problems.append(f"{where}: 'aliases' must be a table of option label = list of words")
        return {}
    return {k: tuple(x.strip() for x in v) for k, v in raw.items()}


def check_aliases(where: str, options: list[tuple[str, tuple[str, ...]]], problems: list[str]) -> None:
    """No word may name two options of one question (a typed answer must point at one option)."""
    owner: dict[str, str] = {}
    for label, aliases in options:
        for alias in aliases:
            key = " ".join(alias.casefold().split())
            if key in owner and owner[key] != label:
                problems.append(f"{where}: alias {alias!r} names both {owner[key]!r} and {label!r}")
            owner[key] = label


def _requires(raw: object, where: str, problems: list[str]) -> dict[str, tuple[str, ...]]:
    """`requires = { step-id = ["sudah"] }` as a dict; its references are checked with the whole flow."""
    if not isinstance(raw, dict) or not all(
        isinstance(v, list) and v and all(isinstance(x, str) for x in v) for v in raw.values()
    ):
        problems.append(f"{where}: 'requires' must be a table of step id = list of answers")
        return {}
    return {k: tuple(v) for k, v in raw.items()}


def _check_requires(where: str, steps: list[Step], problems: list[str]) -> None:
    """Each requirement names an EARLIER confirm or choice step of the flow and answers that step can have."""
    earlier: dict[str, Step] = {}
    for s in steps:
        for sid, allowed in s.requires.items():
            dep = earlier.get(sid)
            if dep is None:
                problems.append(f"{where}: step {s.id}: requires {sid!r}, which is not an earlier step of the flow")
                continue
            valid = CONFIRM_VALUES if dep.kind == "confirm" else dep.options if dep.kind == "choice" else ()
            if not valid:
                problems.append(f"{where}: step {s.id}: requires {sid!r}, a text step (only confirm or choice steps)")
            for value in allowed:
                if value not in valid:
                    problems.append(f"{where}: step {s.id}: requires {sid} = {value!r}, not an answer of that step")
            if dep.when and s.when != dep.when and not all(s.when.get(k) == v for k, v in dep.when.items()):
                problems.append(f"{where}: step {s.id}: requires {sid!r}, which is not asked on all of its paths")
        earlier[s.id] = s


def _flow(raw: dict, file: str, problems: list[str]) -> Flow | None:
    fid = _str(raw, "id", file, problems)
    where = f"{file}: {fid or '?'}"
    title, instrument = _str(raw, "title", where, problems), _str(raw, "instrument", where, problems)
    stages = []
    for st in raw.get("stages", []):
        if isinstance(st, dict) and isinstance(st.get("id"), str) and isinstance(st.get("title"), str):
            stages.append(Stage(st["id"], st["title"]))
        else:
            problems.append(f"{where}: every [[stages]] needs string id and title")
    if not stages:
        problems.append(f"{where}: no [[stages]]")
    stage_ids = {s.id for s in stages}
    steps = []
    for i, rs in enumerate(raw.get("steps", []), 1):
        step = _step(rs, f"{where}: step {i}", stage_ids, problems) if isinstance(rs, dict) else None
        if step:
            steps.append(step)
    seen: set[str] = set()
    for s in steps:
        if s.id in seen:
            problems.append(f"{where}: step {s.id}: duplicate step id")
        seen.add(s.id)
    _check_requires(where, steps, problems)
    fields_ = {s.field for s in steps if s.field}
    for name in [c[0] for c in CONTENTS] + list(PARTY_FIELDS):
        if name not in fields_:
            problems.append(f"{where}: no text step fills the field {name!r}")
    for st in stages:
        if not any(s.stage == st.id for s in steps):
            problems.append(f"{where}: stage {st.id} has no steps")
    offer = raw.get("offer_letter", False)
    if not isinstance(offer, bool):
        problems.append(f"{where}: 'offer_letter' must be true or false")
    if not (fid and title and instrument):
        return None
    return Flow(fid, title, instrument, bool(offer), tuple(stages), tuple(steps))


def _triage(raw: dict, flows: Flows, problems: list[str]) -> None:
    file = "flows/triage.toml"
    flows.start = _str(raw, "start", file, problems)
    for rq in raw.get("questions", []):
        qid = _str(rq, "id", file, problems)
        where = f"{file}: question {qid or '?'}"
        options = []
        for ro in rq.get("options", []):
            aliases = _strs(ro, "aliases", where, problems, required=False) if "aliases" in ro else ()
            opt = Option(_str(ro, "id", where, problems), _str(ro, "label", where, problems),
                         _str(ro, "next", where, problems, False), _str(ro, "outcome", where, problems, False),
                         aliases)
            if bool(opt.next) == bool(opt.outcome):
                problems.append(f"{where}: option {opt.id}: needs exactly one of 'next' or 'outcome'")
            options.append(opt)
        if len(options) < 2:
            problems.append(f"{where}: needs at least 2 options")
        check_aliases(where, [(o.label, o.aliases) for o in options], problems)
        q = Question(qid, _str(rq, "prompt", where, problems), _strs(rq, "citations", where, problems),
                     parse_excerpts(rq.get("excerpts", []), where, problems), tuple(options))
        flows.questions[qid] = q
    for ro in raw.get("outcomes", []):
        oid = _str(ro, "id", file, problems)
        where = f"{file}: outcome {oid or '?'}"
        excerpts = parse_excerpts(ro.get("excerpts", []), where, problems)
        flows.outcomes[oid] = Outcome(oid, _str(ro, "flow", where, problems, False), _str(ro, "text", where, problems),
                                      _strs(ro, "citations", where, problems), excerpts,
                                      _str(ro, "note", where, problems, False))


def _check_references(flows: Flows, regs, sources, problems: list[str]) -> None:
    file = "flows/triage.toml"
    if flows.start not in flows.questions:
        problems.append(f"{file}: start question {flows.start!r} does not exist")
    for q in flows.questions.values():
        where = f"{file}: question {q.id}"
        check_citations(where, _status(q.excerpts), q.citations, q.excerpts, regs, sources, problems,
                        texts=(q.prompt,))
        for o in q.options:
            if o.next and o.next not in flows.questions:
                problems.append(f"{where}: option {o.id}: next question {o.next!r} does not exist")
            if o.outcome and o.outcome not in flows.outcomes:
                problems.append(f"{where}: option {o.id}: outcome {o.outcome!r} does not exist")
    for o in flows.outcomes.values():
        where = f"{file}: outcome {o.id}"
        status = "unverified" if o.note else _status(o.excerpts)
        check_citations(where, status, o.citations, o.excerpts, regs, sources, problems, texts=(o.text,))
        if o.note and " ".join(o.note.split()) not in " ".join(o.text.split()):
            problems.append(f"{where}: the note must be part of the text, so that users read it")
        _check_text(where, o.text, problems)
        if o.flow and o.flow not in flows.flows:
            problems.append(f"{where}: flow {o.flow!r} does not exist")
    for f in flows.flows.values():
        for s in f.steps:
            where = f"flows/{f.id}.toml: {f.id}: step {s.id}"
            check_citations(where, s.status, s.citations, s.excerpts, regs, sources, problems,
                            texts=(s.prompt, s.note, s.missing and f"{s.missing}: belum ada dasar"))
            for qid, oid in s.when.items():
                q = flows.questions.get(qid)
                if q is None or oid not in {o.id for o in q.options}:
                    problems.append(f"{where}: when {qid} = {oid!r} names no triage answer")


def load_flows(
    directory: Path, regs: dict[str, Regulation] | None = None, sources: dict[str, Source] | None = None
) -> Flows:
    """Load knowledge/flows/*.toml (triage.toml plus one file per flow) and validate them.

    Pass the knowledge base's `regs` and `sources` (KnowledgeBase.regulations/.sources) to check against them;
    without them regulations.toml and the sources are read again (and their problems reported here too).
    """
    flows = Flows()
    problems = flows.problems
    if regs is None or sources is None:
        regs, sources = load_references(directory, problems)
    folder = directory / "flows"
    files = sorted(folder.glob("*.toml"))
    if not (folder / "triage.toml").is_file():
        problems.append(f"flows/triage.toml: -: missing in {folder}")
    for path in files:
        rel = f"flows/{path.name}"
        raw = read_toml(path, rel, problems)
        if raw is None:
            continue
        if path.name == "triage.toml":
            _triage(raw, flows, problems)
            continue
        flow = _flow(raw, rel, problems)
        if flow:
            if Path(rel).stem != flow.id:
                problems.append(f"{rel}: {flow.id}: file name must be {flow.id}.toml")
            flows.flows[flow.id] = flow
    _check_references(flows, regs, sources, problems)
    flows.templates = load_templates(directory, regs, sources, flows, problems)
    return flows

