"""The checklist engine: a pure function (saved proposal, event) → (new proposal, replies).

Nothing here touches storage or the network; handlers/proposals.py loads the proposal, calls `apply`, writes
the result, and only then returns the replies. Button payloads carry the proposal id, the revision and the
step id, so a repeated or stale tap is recognised and changes nothing ("set step = value", never "toggle").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Mapping

from handlers import checklist_texts as t
from handlers import texts
from handlers.citing import cite_line, excerpt_blocks, with_citations
from handlers.choosing import label_index, label_key, typed_number
from handlers.messages import Choice, Reply
from knowledge.flows import Flow, Flows, Question, Step

NAME = "_name"  # the pending "name this proposal" step
DONE = "_done"  # every step visited
STOPPED = "_stop"  # the triage ended the proposal (e.g. another kabupaten)
TRIAGE = "t."  # prefix of a pending triage question: "t.<question id>"

MAX_NAME = 80
MAX_FIELD = 1500
MIN_FIELD = 2
CONFIRM_VALUES = ("sudah", "belum", "na")


@dataclass(frozen=True)
class Answer:
    """A step's answer: "sudah" | "belum" | "na" | "value" (text/choice in `value`) | "skipped"."""

    status: str
    value: str = ""


@dataclass(frozen=True)
class Proposal:
    """The saved state of one proposal."""

    id: int
    name: str = ""
    flow: str = ""
    outcome: str = ""
    current: str = NAME
    revision: int = 0
    triage: Mapping[str, str] = field(default_factory=dict)
    answers: Mapping[str, Answer] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """An input to the engine: show | answer | text | skip | goto | why."""

    kind: str
    step: str = ""
    value: str = ""
    revision: int | None = None  # taps carry the revision they were made for; typed input does not


# -- helpers ------------------------------------------------------------------------------------------
def flow_of(flows: Flows, p: Proposal) -> Flow | None:
    """The proposal's flow, or None while the triage is not finished."""
    return flows.flows.get(p.flow)


def active_steps(flows: Flows, p: Proposal) -> list[Step]:
    """The steps that apply to this proposal (its flow, filtered by the triage answers)."""
    f = flow_of(flows, p)
    return f.steps_for(dict(p.triage)) if f else []


def next_pending(flows: Flows, p: Proposal) -> str:
    """The first step with no answer at all (skipped steps count as visited), or DONE."""
    for s in active_steps(flows, p):
        if s.id not in p.answers:
            return s.id
    return DONE


def step_title(s: Step) -> str:
    """A short name of a step for lists (/status, /ubah)."""
    return s.label if s.kind == "text" else s.title


def is_missing(s: Step, a: Answer | None) -> bool:
    """A step still to do: unanswered, skipped, "Belum", or an empty value."""
    return a is None or a.status in ("belum", "skipped") or (a.status == "value" and not a.value)


def answer_label(a: Answer | None) -> str:
    """How an answer reads in lists and documents."""
    if a is None:
        return t.STATUS_LABELS[""]
    if a.status == "value":
        return a.value
    return t.STATUS_LABELS.get(a.status, a.status)


def progress(flows: Flows, p: Proposal) -> list[tuple[str, int, int, list[str]]]:
    """Per stage: (title, complete steps, total steps, titles of missing steps)."""
    f = flow_of(flows, p)
    if f is None:
        return []
    steps = active_steps(flows, p)
    out = []
    for st in f.stages:
        mine = [s for s in steps if s.stage == st.id]
        missing = [step_title(s) for s in mine if is_missing(s, p.answers.get(s.id))]
        out.append((st.title, len(mine) - len(missing), len(mine), missing))
    return out


def fields(flows: Flows, p: Proposal) -> dict[str, str]:
    """The text fields answered so far (field name → value)."""
    out = {}
    for s in active_steps(flows, p):
        a = p.answers.get(s.id)
        if s.field and a and a.status == "value" and a.value:
            out[s.field] = a.value
    return out


def repair(flows: Flows, p: Proposal) -> Proposal:
    """A proposal fitted to changed flows (after /muatulang), or `p` itself when nothing it points at is gone.

    A removed triage question or flow restarts the triage (answers are kept); a removed step moves on to the
    next pending step. The revision is bumped, so buttons shown before the change expire.
    """
    if p.current in (NAME, STOPPED):
        return p
    if p.current.startswith(TRIAGE):
        if p.current[len(TRIAGE):] in flows.questions:
            return p
    elif flow_of(flows, p) is not None:
        if p.current == DONE or p.current in {s.id for s in active_steps(flows, p)}:
            return p
        return replace(p, current=next_pending(flows, p), revision=p.revision + 1)
    return replace(p, flow="", outcome="", triage={}, current=TRIAGE + flows.start, revision=p.revision + 1)


# -- the question rule ----------------------------------------------------------------------------------
QUESTION_WORDS = (
    "apa", "apakah", "bagaimana", "gimana", "bagaimanakah", "siapa", "siapakah", "kapan", "berapa", "mengapa",
    "kenapa", "dimana", "di mana", "bolehkah", "bisakah", "haruskah", "perlukah", "wajibkah", "apa saja",
)


def looks_like_question(text: str) -> bool:
    """Text ending in "?" or starting with an Indonesian question word."""
    s = text.strip().casefold()
    if s.endswith("?") or s.startswith("tanya:"):
        return True
    first = re.split(r"[\s,]+", s, maxsplit=1)[0]
    return first in QUESTION_WORDS or s.startswith("di mana ")


def classify_typed(kind: str, text: str, outcome: str) -> str:
    """Tell what typed text is while a step waits: "smalltalk", "question", "answer" or "unclear".

    `outcome` is the knowledge base's verdict on the text ("answer" | "suggest" | "none" | "smalltalk").
    - a greeting or thanks alone ("halo", "terima kasih", "ok pak") is never an answer: "smalltalk".
    - confirm, choice and triage steps: the caller first matches the step's own choices (number, label, a few
      synonyms such as "udah"/"blm"); what remains is a question if the knowledge base answers it or has topics
      to suggest, or if it is worded as one ("?", a question word: it gets an honest "out of scope"); else
      "unclear" (e.g. "Cianjur": the user is asked to pick one of the choices).
    - text steps (and the proposal name): a question only if it ends with "?" (or starts "tanya:"), or it
      starts with a question word AND the knowledge base has an answer for it ("answer" outcome).
      "Bagaimana kalau dibagi dua" without an answer in the KB stays an answer.
    """
    if outcome == "smalltalk":
        return "smalltalk"
    if kind in ("confirm", "choice", "triage"):
        asked = outcome in ("answer", "suggest") or looks_like_question(text)
        return "question" if asked else "unclear"
    s = text.strip().casefold()
    if s.endswith("?") or s.startswith("tanya:"):
        return "question"
    return "question" if looks_like_question(text) and outcome == "answer" else "answer"


# -- validation -------------------------------------------------------------------------------------------
_UNITS = re.compile(r"\b(hari|minggu|pekan|bulan|tahun|thn|bln)\b", re.I)
_RANGE = re.compile(r"\b(sampai|hingga|s\.?d\.?|sejak|mulai|selama|berakhir)\b", re.I)
_MONTHS = re.compile(
    r"\b(januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember)\b", re.I
)


def validate(kind: str, text: str) -> str | None:
    """An Indonesian error message for a typed answer, or None when it is acceptable."""
    s = " ".join(text.split())
    limit = MAX_NAME if kind == "name" else MAX_FIELD
    if len(s) > limit:
        return (t.NAME_TOO_LONG if kind == "name" else t.TOO_LONG_FIELD).format(n=len(s), max=limit)
    m = re.fullmatch(r"(\d+)[.,]?", s)
    if kind == "duration" and m:
        return t.DURATION_NUMBER.format(n=m.group(1))
    if len(s) < MIN_FIELD:
        return t.TOO_SHORT
    if kind == "duration":
        if not (_UNITS.search(s) or _RANGE.search(s) or _MONTHS.search(s)):
            return t.DURATION_UNCLEAR
        return None
    if not re.search(r"[^\W\d_]", s):
        return t.NO_LETTERS
    return None


# -- prompts ------------------------------------------------------------------------------------------------
def _payload(*parts: object) -> str:
    return "usl:" + ":".join(str(x) for x in parts)


def step_choices(p: Proposal, s: Step) -> tuple[Choice, ...]:
    """The buttons of a step, in the order a typed number refers to."""
    rev = p.revision
    if s.kind == "confirm":
        opts = [Choice(t.SUDAH, _payload("a", p.id, rev, s.id, "sudah")),
                Choice(t.BELUM, _payload("a", p.id, rev, s.id, "belum")),
                Choice(t.NA, _payload("a", p.id, rev, s.id, "na"))]
    elif s.kind == "choice":
        opts = [Choice(o, _payload("a", p.id, rev, s.id, i)) for i, o in enumerate(s.options)]
    else:
        opts = [Choice(t.SKIP, _payload("s", p.id, rev, s.id))]
    return tuple(opts) + (Choice(t.WHY, _payload("w", p.id, s.id)),)


def triage_choices(p: Proposal, q: Question) -> tuple[Choice, ...]:
    """The buttons of a triage question."""
    opts = tuple(Choice(o.label, _payload("a", p.id, p.revision, TRIAGE + q.id, o.id)) for o in q.options)
    return opts + (Choice(t.WHY, _payload("w", p.id, TRIAGE + q.id)),)


def pending_choices(flows: Flows, p: Proposal) -> tuple[Choice, ...]:
    """The buttons of the pending triage question or step (none at the name step or when nothing is pending)."""
    if p.current.startswith(TRIAGE):
        q = flows.questions.get(p.current[len(TRIAGE):])
        return triage_choices(p, q) if q else ()
    f = flow_of(flows, p)
    s = f.step(p.current) if f else None
    return step_choices(p, s) if s else ()


def prompt(flows: Flows, p: Proposal) -> list[Reply]:
    """The replies that ask the pending step (or say the proposal is finished)."""
    if p.current == NAME:
        return [Reply(t.ASK_NAME, heading=t.NAME_HEADING, expects_text=True)]
    if p.current.startswith(TRIAGE):
        q = flows.questions[p.current[len(TRIAGE):]]
        return [Reply(with_citations(q.prompt, q.citations), heading=t.TRIAGE_HEADING, choices=triage_choices(p, q))]
    if p.current == STOPPED:
        return [Reply(t.STOPPED.format(name=p.name))]
    f = flow_of(flows, p)
    s = f.step(p.current) if f else None
    if f is None or s is None or p.current == DONE:
        missing = [m for _, _, _, ms in progress(flows, p) for m in ms]
        text = t.DONE.format(name=p.name, missing=t.DONE_MISSING.format(n=len(missing)) if missing else t.DONE_COMPLETE)
        return [Reply(text, choices=(Choice(t.DOCS_BUTTON, _payload("d", p.id)),
                                      Choice(t.SUMMARY_BUTTON, _payload("r", p.id)),
                                      Choice(t.STATUS_BUTTON, _payload("st", p.id))))]
    mine = [x for x in active_steps(flows, p) if x.stage == s.stage]
    stage = next(st for st in f.stages if st.id == s.stage)
    pos = next((i for i, x in enumerate(mine, 1) if x.id == s.id), 1)
    parts = [s.prompt]
    a = p.answers.get(s.id)
    if a is not None:
        parts.append(t.CURRENT_ANSWER.format(value=answer_label(a)))
    if s.missing:
        parts.append(f"{s.missing}: {t.NO_BASIS}")
    if s.status == "unverified" and s.note:
        parts.append(texts.UNVERIFIED_MARK + s.note)
    if s.citations:
        parts.append(cite_line(s.citations))
    return [Reply("\n\n".join(parts), heading=f"{stage.title} {pos}/{len(mine)}", choices=step_choices(p, s),
                  expects_text=s.kind == "text")]


def why(flows: Flows, p: Proposal, step_id: str) -> list[Reply]:
    """The "Kenapa?" reply: the citations and the regulation's wording behind a step."""
    if step_id.startswith(TRIAGE):
        q = flows.questions.get(step_id[len(TRIAGE):])
        if q is None:
            return [Reply(t.STALE)]
        cits, excerpts, missing, note = q.citations, q.excerpts, "", ""
    else:
        f = flow_of(flows, p)
        s = f.step(step_id) if f else None
        if s is None:
            return [Reply(t.STALE)]
        cits, excerpts, missing, note = s.citations, s.excerpts, s.missing, s.note if s.status == "unverified" else ""
    blocks = ([cite_line(cits)] if cits else []) + excerpt_blocks(excerpts)
    if missing:
        blocks.append(f"{missing}: {t.NO_BASIS}")
    if note:
        blocks.append(texts.UNVERIFIED_MARK + note)
    return [Reply("\n\n".join(blocks), heading=t.WHY_HEADING)]


# -- the engine -------------------------------------------------------------------------------------------
def _advance(flows: Flows, p: Proposal, answers: dict[str, Answer], saved: str) -> tuple[Proposal, list[Reply]]:
    p = replace(p, answers=answers, revision=p.revision + 1)
    p = replace(p, current=next_pending(flows, p))
    replies = prompt(flows, p)
    first = replies[0]
    replies[0] = replace(first, text=t.SAVED.format(value=saved) + "\n\n" + first.text)
    return p, replies


def _triage_answer(flows: Flows, p: Proposal, qid: str, option_id: str) -> tuple[Proposal, list[Reply]]:
    q = flows.questions.get(qid)
    opt = next((o for o in q.options if o.id == option_id), None) if q else None
    if opt is None:
        return p, [Reply(t.STALE)] + prompt(flows, p)
    triage = {**p.triage, qid: opt.id}
    if opt.next:
        p = replace(p, triage=triage, current=TRIAGE + opt.next, revision=p.revision + 1)
        return p, prompt(flows, p)
    outcome = flows.outcomes[opt.outcome]
    text = with_citations(outcome.text, outcome.citations)
    p = replace(p, triage=triage, outcome=outcome.id, flow=outcome.flow, revision=p.revision + 1)
    if not outcome.flow:
        p = replace(p, current=STOPPED)
        return p, [Reply(text, heading=t.OUTCOME_HEADING), *prompt(flows, p)]
    p = replace(p, current=next_pending(flows, p))
    return p, [Reply(text, heading=t.OUTCOME_HEADING), *prompt(flows, p)]


def apply(flows: Flows, p: Proposal, ev: Event) -> tuple[Proposal, list[Reply]]:
    """Apply one event to a proposal; return the new proposal and the replies (the pending step last)."""
    if ev.kind == "show":
        return p, prompt(flows, p)
    if ev.kind == "why":
        return p, why(flows, p, ev.step) + prompt(flows, p)
    stale = ev.revision is not None and (ev.revision != p.revision or ev.step != p.current)
    if ev.kind in ("answer", "skip") and stale:
        return p, [Reply(t.STALE)] + prompt(flows, p)
    if ev.kind == "goto":
        if ev.revision != p.revision or ev.step not in p.answers or ev.step not in {s.id for s in active_steps(flows, p)}:
            return p, [Reply(t.STALE)] + prompt(flows, p)
        p = replace(p, current=ev.step, revision=p.revision + 1)
        return p, prompt(flows, p)
    if p.current.startswith(TRIAGE):
        if ev.kind == "answer":
            return _triage_answer(flows, p, p.current[len(TRIAGE):], ev.value)
        return p, [Reply(t.CANNOT_SKIP)] + prompt(flows, p)
    if p.current == NAME:
        if ev.kind != "text":
            return p, [Reply(t.CANNOT_SKIP)] + prompt(flows, p)
        error = validate("name", ev.value)
        if error:
            return p, [Reply(error)]
        p = replace(p, name=" ".join(ev.value.split()), current=TRIAGE + flows.start, revision=p.revision + 1)
        replies = prompt(flows, p)
        return p, [replace(replies[0], text=t.STARTED.format(name=p.name) + "\n\n" + replies[0].text)]
    f = flow_of(flows, p)
    s = f.step(p.current) if f else None
    if s is None:  # DONE or STOPPED: nothing pending
        return p, prompt(flows, p)
    answers = dict(p.answers)
    if ev.kind == "skip":
        if s.id in answers and answers[s.id].status not in ("skipped", "belum"):
            return _advance(flows, p, answers, t.UNCHANGED)  # skipping an edit keeps the earlier answer
        answers[s.id] = Answer("skipped")
        return _advance(flows, p, answers, t.STATUS_LABELS["skipped"])
    if ev.kind == "answer":
        if s.kind == "confirm" and ev.value in CONFIRM_VALUES:
            answers[s.id] = Answer(ev.value)
            return _advance(flows, p, answers, t.STATUS_LABELS[ev.value])
        if s.kind == "choice" and ev.value.isdigit() and int(ev.value) < len(s.options):
            label = s.options[int(ev.value)]
            answers[s.id] = Answer("value", label)
            return _advance(flows, p, answers, label)
        return p, [Reply(t.STALE)] + prompt(flows, p)
    if ev.kind == "text" and s.kind == "text":
        error = validate(s.validate, ev.value)
        if error:
            return p, [Reply(error, choices=step_choices(p, s))]
        value = ev.value.strip()
        answers[s.id] = Answer("value", value)
        shown = value if len(value) <= 60 else value[:57] + "…"
        return _advance(flows, p, answers, f"\"{shown}\"")
    return p, prompt(flows, p)


def match_typed(p: Proposal, flows: Flows, text: str) -> tuple[str | None, str | None]:
    """For a confirm/choice/triage step: the event value a typed number, label or synonym stands for.

    Returns (value, None) on a match, (None, "range") for a number outside the buttons, (None, None) otherwise.
    """
    if p.current.startswith(TRIAGE):
        q = flows.questions[p.current[len(TRIAGE):]]
        values = [o.id for o in q.options]
        labels = [o.label for o in q.options]
        synonyms: dict[str, str] = {}
    else:
        f = flow_of(flows, p)
        s = f.step(p.current) if f else None
        if s is None or s.kind == "text":
            return None, None
        if s.kind == "confirm":
            values, labels, synonyms = list(CONFIRM_VALUES), [t.SUDAH, t.BELUM, t.NA], t.CONFIRM_WORDS
        else:
            values, labels, synonyms = [str(i) for i in range(len(s.options))], list(s.options), {}
    n = typed_number(text)
    if n is not None:
        if 1 <= n <= len(values):
            return values[n - 1], None
        if n == len(values) + 1:
            return "why", None  # the "Kenapa?" button is numbered last
        return None, "range"
    i = label_index(labels + [t.WHY], text)
    if i is not None:
        return (values[i] if i < len(values) else "why"), None
    key = label_key(text)
    return synonyms.get(key), None
