"""The checklist engine: a pure function (saved proposal, event) → (new proposal, replies).

Nothing here touches storage or the network; handlers/proposals.py loads the proposal, calls `apply`, writes
the result, and only then returns the replies. Button payloads carry the proposal id, the revision and the
position, so a repeated or stale tap is recognised and changes nothing ("set step = value", never "toggle").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Mapping

from handlers import checklist_texts as t
from handlers import texts
from handlers.citing import cite_line, excerpt_blocks, with_citations
from handlers.messages import Choice, Reply
from handlers.reading import read_duration, strip_prefixes
from knowledge.flows import CONFIRM_VALUES, Flow, Flows, Question, Step

MAX_NAME = 80
MAX_FIELD = 1500
MIN_FIELD = 2


class At(StrEnum):
    """Where a proposal stands: naming it, a triage question, a step, every step visited, or stopped."""

    NAME = "name"
    TRIAGE = "triage"
    STEP = "step"
    DONE = "done"
    STOPPED = "stopped"


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
    at: At = At.NAME
    current: str = ""  # the triage question (At.TRIAGE) or the step (At.STEP); "" otherwise
    revision: int = 0
    triage: Mapping[str, str] = field(default_factory=dict)
    answers: Mapping[str, Answer] = field(default_factory=dict)

    @property
    def position(self) -> str:
        """Where it stands as one token (in button payloads and focus frames): "step.desa", "triage.jenis", "name"."""
        return f"{self.at}.{self.current}" if self.current else str(self.at)

    @property
    def pending(self) -> bool:
        """Whether something waits for the user (the name, a triage question or a step)."""
        return self.at not in (At.DONE, At.STOPPED)

    def at_position(self, position: str) -> "Proposal":
        """The proposal moved to a position token (see `position`)."""
        at, _, current = position.partition(".")
        return replace(self, at=At(at), current=current)


@dataclass(frozen=True)
class Event:
    """An input to the engine: show | answer | text | skip | goto | restore | why."""

    kind: str
    step: str = ""  # a position token (answer, skip, why, restore) or a step id (goto)
    value: str = ""
    revision: int | None = None  # taps carry the revision they were made for; typed input does not


# -- helpers ------------------------------------------------------------------------------------------
def flow_of(flows: Flows, p: Proposal) -> Flow | None:
    """The proposal's flow, or None while the triage is not finished."""
    return flows.flows.get(p.flow)


def _requirement(p: Proposal, s: Step, flow: Flow | None = None) -> str:
    """"open" when every step `s` requires has an allowed answer and is itself open; "na" when one was answered
    "Tidak berlaku" (so `s` does not apply either); else "waiting". A prerequisite that waits makes the steps
    after it wait too, whatever they were answered before (Musyawarah Desa changed to "Belum": its agreement and
    what rests on the agreement count as missing again)."""
    state = "open"
    for sid, allowed in s.requires.items():
        a = p.answers.get(sid)
        value = None if a is None else a.value if a.status == "value" else a.status
        if value == "na":
            return "na"
        dep = flow.step(sid) if flow is not None else None
        if value in allowed and (dep is None or _requirement(p, dep, flow) == "open"):
            continue
        state = "waiting"
    return state


def active_steps(flows: Flows, p: Proposal) -> list[Step]:
    """The steps that apply to this proposal: its flow filtered by the triage answers and by steps that do not
    apply because a step they require was answered "Tidak berlaku"."""
    f = flow_of(flows, p)
    steps = f.steps_for(dict(p.triage)) if f else []
    out: list[Step] = []
    for s in steps:
        if _requirement(p, s, f) != "na":
            out.append(s)
    return out


def waiting_on(p: Proposal, s: Step, flows: Flows) -> list[str]:
    """The names of the answered steps that keep `s` from being asked (e.g. Musyawarah Desa answered "Belum");
    empty when `s` can be asked, or only waits for steps nobody has answered yet."""
    f = flow_of(flows, p)
    if _requirement(p, s, f) != "waiting":
        return []
    names = []
    for sid, allowed in s.requires.items():
        a = p.answers.get(sid)
        value = None if a is None else a.value if a.status == "value" else a.status
        dep = f.step(sid) if f else None
        if dep is None:
            continue
        if value is not None and value not in allowed:
            names.append(dep.name)
        elif value in allowed and _requirement(p, dep, f) == "waiting":
            names.append(dep.name)
    return names


def next_pending(flows: Flows, p: Proposal) -> str:
    """The first step with no answer that can be asked now (skipped steps count as visited), or ""."""
    f = flow_of(flows, p)
    for s in active_steps(flows, p):
        if s.id not in p.answers and _requirement(p, s, f) == "open":
            return s.id
    return ""


def _moved_on(flows: Flows, p: Proposal) -> Proposal:
    """The proposal at its next pending step, or done."""
    sid = next_pending(flows, p)
    return replace(p, at=At.STEP if sid else At.DONE, current=sid)


def step_title(s: Step) -> str:
    """A short name of a step for lists (/status, /ubah)."""
    return s.name


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
    """Per stage: (title, complete steps, total steps, titles of missing steps). A step waiting for another one
    counts as missing, whatever answer it had before ("Kesepakatan Musyawarah Desa (menunggu: …)")."""
    f = flow_of(flows, p)
    if f is None:
        return []
    steps = active_steps(flows, p)
    out = []
    for st in f.stages:
        mine = [s for s in steps if s.stage == st.id]
        missing = []
        for s in mine:
            waits = waiting_on(p, s, flows)
            if waits:
                missing.append(t.WAITING_FOR.format(step=step_title(s), on=", ".join(waits)))
            elif is_missing(s, p.answers.get(s.id)):
                missing.append(step_title(s))
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


def pending_step(flows: Flows, p: Proposal) -> Step | None:
    """The step waiting for an answer, if the proposal is at a step."""
    f = flow_of(flows, p)
    return f.step(p.current) if f and p.at == At.STEP else None


def pending_question(flows: Flows, p: Proposal) -> Question | None:
    """The triage question waiting for an answer, if the proposal is in the triage."""
    return flows.questions.get(p.current) if p.at == At.TRIAGE else None


def repair(flows: Flows, p: Proposal) -> Proposal:
    """A proposal fitted to changed flows (after /muatulang), or `p` itself when nothing it points at is gone.

    A removed triage question or flow restarts the triage (answers are kept); a removed step moves on to the
    next pending step. The revision is bumped, so buttons shown before the change expire.
    """
    if p.at in (At.NAME, At.STOPPED):
        return p
    if p.at == At.TRIAGE:
        if p.current in flows.questions:
            return p
    elif flow_of(flows, p) is not None:
        if p.at == At.DONE or p.current in {s.id for s in active_steps(flows, p)}:
            return p
        return replace(_moved_on(flows, p), revision=p.revision + 1)
    return replace(p, flow="", outcome="", triage={}, at=At.TRIAGE, current=flows.start, revision=p.revision + 1)


# -- validation -------------------------------------------------------------------------------------------
_UNITS = re.compile(r"\b(hari|minggu|pekan|bulan|tahun|thn|bln)\b", re.I)
_RANGE = re.compile(r"\b(sampai|hingga|s\.?d\.?|sejak|mulai|selama|berakhir|selesai)\b", re.I)
_MONTHS = re.compile(
    r"\b(januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember)\b", re.I
)


def validate(kind: str, text: str) -> str | None:
    """An Indonesian error message for a typed answer, or None when it is acceptable."""
    s = " ".join(text.split())
    limit = MAX_NAME if kind in ("name", "proposal") else MAX_FIELD
    if len(s) > limit:
        return (t.NAME_TOO_LONG if kind in ("name", "proposal") else t.TOO_LONG_FIELD).format(n=len(s), max=limit)
    m = re.fullmatch(r"(\d+)[.,]?", s)
    if kind == "duration" and m:
        return t.DURATION_NUMBER.format(n=m.group(1))
    if len(s) < MIN_FIELD:
        return t.NAME_TOO_SHORT if kind == "proposal" else t.TOO_SHORT
    if kind == "duration":
        if read_duration(s) is None and not (_UNITS.search(s) or _RANGE.search(s) or _MONTHS.search(s)):
            return t.DURATION_UNCLEAR
        return None
    if not re.search(r"[^\W\d_]", s):
        return t.NO_LETTERS
    return None


def clean_value(s: Step, text: str) -> str:
    """The value to store for a text step: one line of spaces, the field's own prefix removed ("Desa Sukamaju" →
    "Sukamaju"), a duration in one canonical form ("2th" → "2 tahun")."""
    value = " ".join(text.split())
    if s.validate == "duration":
        return read_duration(value) or value
    return strip_prefixes(value, s.prefixes, s.items)


# -- prompts ------------------------------------------------------------------------------------------------
def _payload(*parts: object) -> str:
    return "usl:" + ":".join(str(x) for x in parts)


def step_choices(p: Proposal, s: Step) -> tuple[Choice, ...]:
    """The buttons of a step, in the order a typed number refers to."""
    rev, pos = p.revision, p.position
    if s.kind == "confirm":
        opts = [Choice(t.SUDAH, _payload("a", p.id, rev, pos, "sudah")),
                Choice(t.BELUM, _payload("a", p.id, rev, pos, "belum")),
                Choice(t.NA, _payload("a", p.id, rev, pos, "na"))]
    elif s.kind == "choice":
        opts = [Choice(o, _payload("a", p.id, rev, pos, i)) for i, o in enumerate(s.options)]
    else:
        opts = [Choice(t.SKIP, _payload("s", p.id, rev, pos))]
    return tuple(opts) + (Choice(t.WHY, _payload("w", p.id, pos)),)


def triage_choices(p: Proposal, q: Question) -> tuple[Choice, ...]:
    """The buttons of a triage question."""
    opts = tuple(Choice(o.label, _payload("a", p.id, p.revision, p.position, o.id)) for o in q.options)
    return opts + (Choice(t.WHY, _payload("w", p.id, p.position)),)


def done_choices(p: Proposal) -> tuple[Choice, ...]:
    """The buttons under "every step visited"."""
    return (Choice(t.DOCS_BUTTON, _payload("d", p.id)), Choice(t.SUMMARY_BUTTON, _payload("r", p.id)),
            Choice(t.STATUS_BUTTON, _payload("st", p.id)))  # fmt: skip


def prompt(flows: Flows, p: Proposal) -> list[Reply]:
    """The replies that ask the pending step (or say the proposal is finished)."""
    if p.at == At.NAME:
        return [Reply(t.ASK_NAME, heading=t.NAME_HEADING, expects_text=True)]
    if p.at == At.TRIAGE:
        q = flows.questions[p.current]
        return [Reply(with_citations(q.prompt, q.citations), heading=t.TRIAGE_HEADING, choices=triage_choices(p, q))]
    if p.at == At.STOPPED:
        return [Reply(t.STOPPED.format(name=p.name))]
    f = flow_of(flows, p)
    s = pending_step(flows, p)
    if f is None or s is None:
        missing = [m for _, _, _, ms in progress(flows, p) for m in ms]
        text = t.DONE.format(name=p.name, missing=t.DONE_MISSING.format(n=len(missing)) if missing else t.DONE_COMPLETE)
        return [Reply(text, choices=done_choices(p))]
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
                  expects_text=s.kind == "text")]  # fmt: skip


def pending_choices(flows: Flows, p: Proposal) -> tuple[Choice, ...]:
    """The buttons of the pending triage question or step (none at the name step or when nothing is pending)."""
    q = pending_question(flows, p)
    if q is not None:
        return triage_choices(p, q)
    s = pending_step(flows, p)
    return step_choices(p, s) if s else ()


def why(flows: Flows, p: Proposal, position: str) -> list[Reply]:
    """The "Kenapa?" reply: the citations and the regulation's wording behind a step or triage question."""
    at, _, ident = position.partition(".")
    if at == At.TRIAGE:
        q = flows.questions.get(ident)
        if q is None:
            return [Reply(t.STALE)]
        cits, excerpts, missing, note = q.citations, q.excerpts, "", ""
    else:
        f = flow_of(flows, p)
        s = f.step(ident) if f and at == At.STEP else None
        if s is None:
            return [Reply(t.WHY_NAME if at == At.NAME else t.STALE)]
        cits, excerpts, missing, note = s.citations, s.excerpts, s.missing, s.note if s.status == "unverified" else ""
    blocks = ([cite_line(cits)] if cits else []) + excerpt_blocks(excerpts)
    if missing:
        blocks.append(f"{missing}: {t.NO_BASIS}")
    if note:
        blocks.append(texts.UNVERIFIED_MARK + note)
    return [Reply("\n\n".join(blocks), heading=t.WHY_HEADING)]


def hint(flows: Flows, p: Proposal) -> str:
    """How to answer the pending step, for "maksudnya?" / "gimana ngisinya?"."""
    if p.at == At.NAME:
        return t.HINT_NAME
    if p.at == At.TRIAGE:
        return t.HINT_CHOICE
    s = pending_step(flows, p)
    if s is None:
        return ""
    if s.hint:
        return s.hint
    return {"confirm": t.HINT_CONFIRM, "choice": t.HINT_CHOICE}.get(s.kind, t.HINT_TEXT)


# -- the engine -------------------------------------------------------------------------------------------
def _advance(flows: Flows, p: Proposal, answers: dict[str, Answer], saved: str) -> tuple[Proposal, list[Reply]]:
    p = _moved_on(flows, replace(p, answers=answers, revision=p.revision + 1))
    replies = prompt(flows, p)
    first = replies[0]
    replies[0] = replace(first, text=t.SAVED.format(value=saved) + "\n\n" + first.text)
    return p, replies


def _triage_answer(flows: Flows, p: Proposal, q: Question, option_id: str) -> tuple[Proposal, list[Reply]]:
    opt = next((o for o in q.options if o.id == option_id), None)
    if opt is None:
        return p, [Reply(t.STALE)] + prompt(flows, p)
    triage = {**p.triage, q.id: opt.id}
    if opt.next:
        p = replace(p, triage=triage, at=At.TRIAGE, current=opt.next, revision=p.revision + 1)
        return p, prompt(flows, p)
    outcome = flows.outcomes[opt.outcome]
    text = with_citations(outcome.text, outcome.citations)
    p = replace(p, triage=triage, outcome=outcome.id, flow=outcome.flow, revision=p.revision + 1)
    p = replace(p, at=At.STOPPED, current="") if not outcome.flow else _moved_on(flows, p)
    return p, [Reply(text, heading=t.OUTCOME_HEADING), *prompt(flows, p)]


def apply(flows: Flows, p: Proposal, ev: Event) -> tuple[Proposal, list[Reply]]:
    """Apply one event to a proposal; return the new proposal and the replies (the pending step last)."""
    if ev.kind == "show":
        return p, prompt(flows, p)
    if ev.kind == "why":
        return p, why(flows, p, ev.step) + prompt(flows, p)
    stale = ev.revision is not None and (ev.revision != p.revision or ev.step != p.position)
    if ev.kind in ("answer", "skip") and stale:
        return p, [Reply(t.STALE)] + prompt(flows, p)
    if ev.kind == "goto":
        if ev.revision != p.revision or ev.step not in p.answers or ev.step not in {s.id for s in active_steps(flows, p)}:
            return p, [Reply(t.STALE)] + prompt(flows, p)
        p = replace(p, at=At.STEP, current=ev.step, revision=p.revision + 1)
        return p, prompt(flows, p)
    if ev.kind == "restore":  # back to where the guide was before an edit; nothing else changes
        if ev.revision != p.revision:
            return p, [Reply(t.STALE)] + prompt(flows, p)
        p = replace(p.at_position(ev.step), revision=p.revision + 1)
        if p.at == At.STEP and pending_step(flows, p) is None:
            p = _moved_on(flows, p)
        return p, prompt(flows, p)
    if p.at == At.TRIAGE:
        q = pending_question(flows, p)
        if ev.kind == "answer" and q is not None:
            return _triage_answer(flows, p, q, ev.value)
        return p, [Reply(t.CANNOT_SKIP_TRIAGE)] + prompt(flows, p)
    if p.at == At.NAME:
        if ev.kind != "text":
            return p, [Reply(t.CANNOT_SKIP_NAME)] + prompt(flows, p)
        error = validate("proposal", ev.value)
        if error:
            return p, [Reply(error, expects_text=True)]
        p = replace(p, name=" ".join(ev.value.split()), at=At.TRIAGE, current=flows.start, revision=p.revision + 1)
        replies = prompt(flows, p)
        return p, [replace(replies[0], text=t.STARTED.format(name=p.name) + "\n\n" + replies[0].text)]
    s = pending_step(flows, p)
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
        value = clean_value(s, ev.value)
        error = validate(s.validate, value)
        if error:
            return p, [Reply(error, choices=step_choices(p, s), expects_text=True)]
        answers[s.id] = Answer("value", value)
        shown = value if len(value) <= 60 else value[:57] + "…"
        return _advance(flows, p, answers, f"\"{shown}\"")
    return p, prompt(flows, p)
