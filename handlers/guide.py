"""Typed text while the proposal guide is in focus: each focus frame's handler (handlers/focus.py).

The guide reads a message once (handlers/reading.py) and does what it means: a choice of the list in focus, a
command word, an answer in everyday words, a question about the step or about the rules, or a value — and asks
"Simpan "…" sebagai …?" instead of storing a value it is not sure of. Nothing is stored that the user did not
give as an answer to the step in focus.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Awaitable, Callable

from handlers import checklist as engine
from handlers import checklist_texts as t
from handlers import proposals, qa, reading, texts
from handlers.checklist import At, Event, Proposal
from handlers.choosing import label_index, label_key
from handlers.context import Context
from handlers.focus import Frame
from handlers.messages import Choice, Reply

log = logging.getLogger(__name__)



def _expecting(ctx: Context, p: Proposal) -> reading.Expecting:
    if p.at == At.NAME:
        return "proposal"
    options = _options(ctx, p)
    if options is not None:
        return "yesno" if _yes_no_options(options) is not None else "choice"
    s = engine.pending_step(proposals.flows(ctx), p)
    if s is None:
        return "text"
    if s.kind == "confirm":
        return "confirm"
    return {"duration": "duration", "name": "name"}.get(s.validate, "text")


def _options(ctx: Context, p: Proposal) -> list[tuple[str, str, tuple[str, ...]]] | None:
    """The pending triage question's or choice step's options: (event value, label, aliases); None otherwise."""
    fl = proposals.flows(ctx)
    q = engine.pending_question(fl, p)
    if q is not None:
        return [(o.id, o.label, o.aliases) for o in q.options]
    s = engine.pending_step(fl, p)
    if s is not None and s.kind == "choice":
        return [(str(i), label, aliases) for i, (label, aliases) in enumerate(s.option_words())]
    return None


def _yes_no_options(options) -> tuple[str, str] | None:
    """(yes value, no value) when the options are a yes and a no ("Ya" / "Tidak", "Ya, …" / "Tidak, …")."""
    if len(options) != 2:
        return None
    first = [label.split(",")[0].split()[0].casefold() if label.split() else "" for _, label, _ in options]
    return (options[0][0], options[1][0]) if first == ["ya", "tidak"] else None


def _named_option(ctx: Context, p: Proposal, text: str) -> str | None:
    """The event value of the option a free answer names ("sama desa tetangga", "perusahaan swasta")."""
    options = _options(ctx, p)
    if not options:
        return None
    i = reading.match_option(text, [(label, aliases) for _, label, aliases in options], proposals.words(ctx))
    return options[i][0] if i is not None else None


def _field_name(ctx: Context, p: Proposal) -> str:
    """The name of what the pending step asks ("Nama usulan", "Desa pengusul", "Kecamatan", …)."""
    if p.at == At.NAME:
        return t.NAME_HEADING
    s = engine.pending_step(proposals.flows(ctx), p)
    return s.name if s else ""


def _read(ctx: Context, text: str, expecting: reading.Expecting) -> reading.Reading:
    """The reading of a message at a step, its greeting, thanks or courtesy removed first ("Assalamualaikum pak,
    sudah" is "sudah"; "Sukamaju, terima kasih pak" is the value "Sukamaju")."""
    menus = ctx.focus.menus
    labels = tuple(label for label, _ in menus[-1]) if menus else ()
    words, talk = proposals.words(ctx), ctx.knowledge.retriever.norm.smalltalk
    r = reading.read(text, expecting, labels, words, talk)
    if r.kind not in ("value", "question"):
        return r
    m = ctx.knowledge.retriever.stripper.strip(text)
    if not (m.greeting or m.thanks) or m.empty:
        return r
    inner = unwrap(text, m.removed)
    if not inner or inner == text.strip():
        return r
    return reading.read(inner, expecting, labels, words, talk)


def unwrap(text: str, pieces: tuple[str, ...]) -> str:
    """`text` without the removed courtesy `pieces` at its start or end (punctuation around them too); the words
    in between stay exactly as typed."""
    out = text.strip()
    changed = True
    while changed:
        changed = False
        for piece in pieces:
            pattern = r"\W*".join(re.escape(w) for w in piece.split())
            head = re.match(rf"^\W*{pattern}[\W_]*", out, re.I)
            if head and head.end() < len(out):
                out, changed = out[head.end():], True
            tail = re.search(rf"[\W_]*{pattern}\W*$", out, re.I)
            if tail and tail.start() > 0:
                out, changed = out[: tail.start()], True
    return out.strip()


def _older_menu_label(ctx: Context, text: str) -> str | None:
    """The payload of a label typed from a list shown with the step but before it (an answer's buttons)."""
    for menu in ctx.focus.menus[:-1]:
        i = label_index([label for label, _ in menu], text)
        if i is not None:
            return menu[i][1]
    return None


# Labels of the assistant's own buttons: typed where no such button is in focus they are not an answer.
UI_LABELS = (
    texts.EXCERPT_BUTTON, texts.MAIN_MENU, texts.MENU_ASK, texts.MENU_PROPOSAL, texts.MENU_HELP, texts.PROPOSAL_OFFER,
    t.SKIP, t.WHY, t.DOCS_BUTTON, t.SUMMARY_BUTTON, t.STATUS_BUTTON, t.CONTINUE_BUTTON, t.NEW, t.BACK_TO_STEP,
    t.SUDAH, t.BELUM, t.NA, t.DELETE_YES, t.DELETE_NO,
)  # fmt: skip


def _known_label(ctx: Context, text: str) -> str | None:
    """"button" for one of the assistant's button labels, "topic" for a knowledge-base topic title, else None."""
    key = label_key(text)
    if not key:
        return None
    if key in {label_key(x) for x in UI_LABELS}:
        return "button"
    if key in {label_key(e.title) for e in ctx.knowledge.kb.entries}:
        return "topic"
    return None


def _menu_payload(ctx: Context, index: int) -> str:
    return ctx.focus.menus[-1][index][1]


# -- the guide frame: a step, the name or a triage question waits ---------------------------------------------
async def on_guide(ctx: Context, text: str) -> list[Reply] | None:
    """Typed text while the guide waits for the pending step; None when the guide is no longer pending."""
    frame = ctx.focus.top
    p = proposals.load(ctx, frame.proposal) if frame else None
    if p is None or not p.pending:
        ctx.set_focus(ctx.focus.pop("guide"))
        return None
    return await _at_step(ctx, p, text)


async def _at_step(ctx: Context, p: Proposal, text: str) -> list[Reply]:
    from handlers.router import dispatch_payload, run_command  # the router imports this module

    expecting = _expecting(ctx, p)
    r = _read(ctx, text, expecting)
    if r.kind not in ("choice", "number"):
        older = _older_menu_label(ctx, text)
        if older is not None:
            return await dispatch_payload(ctx, older)
        known = _known_label(ctx, text) if r.kind in ("value", "question") else None
        if known == "button":  # "Bunyi pasal" typed where no such button is shown: never a value
            return ask_again(ctx, p, t.LABEL_NOT_HERE.format(label=text.strip()))
        if known == "topic":  # a topic title typed from an older answer: show it, then the step again
            r = reading.Reading("question", text.strip())
    kind = r.kind
    if kind == "empty":
        return ask_again(ctx, p, t.EMPTY_AT_STEP)
    if kind == "choice":
        return await dispatch_payload(ctx, _menu_payload(ctx, r.index))
    if kind == "number":
        if expecting == "duration":
            return [Reply(t.DURATION_NUMBER.format(n=r.index), choices=engine.pending_choices(proposals.flows(ctx), p),
                          expects_text=True)]  # fmt: skip
        n = len(ctx.focus.menus[-1]) if ctx.focus.menus else 0
        return ask_again(ctx, p, texts.OUT_OF_RANGE.format(n=r.index, max=n) if n else t.CHOOSE_ONE_PLAIN)
    if kind == "command":
        return await run_command(ctx, r.value)
    if kind == "cancel":
        return ask_again(ctx, p, t.NOTHING_TO_CANCEL)
    if kind == "smalltalk":
        return ask_again(ctx, p, t.SMALLTALK.get(r.value, t.SMALLTALK["greeting"]))
    if kind == "help":
        return ask_again(ctx, p, engine.hint(proposals.flows(ctx), p), resume=False)
    if kind == "why":
        return proposals.run(ctx, p, Event("why", step=p.position))
    if kind in reading.YES_NO_KINDS:
        return await _yes_no(ctx, p, expecting, kind, text)
    if kind == "value" and expecting in ("choice", "yesno"):  # a question ("bumdes itu termasuk?") is answered
        named = _named_option(ctx, p, r.value or text)
        if named is not None:  # "sama desa tetangga" → "Dengan Desa lain"
            return proposals.run(ctx, p, Event("answer", step=p.position, value=named, revision=p.revision))
    if kind == "question":
        return await _question(ctx, p, expecting, r)
    return await _value(ctx, p, expecting, r)


async def _yes_no(ctx: Context, p: Proposal, expecting: str, kind: str, text: str) -> list[Reply]:
    if expecting == "confirm":
        value = {"yes": "sudah", "not_yet": "belum", "no": "belum", "na": "na"}[kind]
        return proposals.run(ctx, p, Event("answer", step=p.position, value=value, revision=p.revision))
    yes_no = _yes_no_options(_options(ctx, p) or [])
    if expecting == "yesno" and yes_no is not None and kind in ("yes", "no"):
        value = yes_no[0] if kind == "yes" else yes_no[1]
        return proposals.run(ctx, p, Event("answer", step=p.position, value=value, revision=p.revision))
    if expecting in ("yesno", "choice"):
        return ask_again(ctx, p, t.CHOOSE_ONE.format(n=len(engine.pending_choices(proposals.flows(ctx), p)) - 1))
    if kind in ("no", "not_yet") and expecting != "name" and p.at == At.STEP:  # "belum ada": skip it for now?
        return confirm_store(ctx, p, "", t.CONFIRM_SKIP.format(field=_field_name(ctx, p)), "skip")
    return ask_again(ctx, p, t.NOT_A_VALUE.format(field=_field_name(ctx, p)))


async def _question(ctx: Context, p: Proposal, expecting: str, r: reading.Reading) -> list[Reply]:
    found = ctx.knowledge.retriever.search(r.value)
    if not r.certain and expecting in ("proposal", "name", "text", "duration") and found.outcome != "answer":
        # "Bagaimana kalau dibagi dua" at a text step: perhaps the answer, perhaps a question. Ask.
        return _maybe_value(ctx, p, r.value)
    return await answer_then_step(ctx, p, r.value, found)


async def _value(ctx: Context, p: Proposal, expecting: str, r: reading.Reading) -> list[Reply]:
    if expecting in ("confirm", "choice", "yesno"):
        found = ctx.knowledge.retriever.search(r.value)
        if found.outcome == "answer":  # "bkad itu lembaga apa" without "?"
            return await answer_then_step(ctx, p, r.value, found)
        n = len(engine.pending_choices(proposals.flows(ctx), p)) - 1
        return ask_again(ctx, p, t.CHOOSE_ONE.format(n=n))
    if not r.certain or _repeats_an_answer(p, r.value) or _only_an_introduction(ctx, r.value, expecting):
        return _maybe_value(ctx, p, r.value)
    if _reads_as_question(ctx, p, r.value, expecting):
        return _maybe_value(ctx, p, r.value, maybe_question=True)
    return proposals.run(ctx, p, Event("text", value=r.value))


def _only_an_introduction(ctx: Context, value: str, expecting: str) -> bool:
    """Whether a name typed at a name step is only the writer introducing themselves ("Saya Budi, sekdes Sukamaju"
    as the proposal's name or as Nama Desa): nothing is left once knowledge/messages.toml's introductions are
    removed. It is checked with the user before it is stored."""
    if expecting not in ("proposal", "name"):
        return False
    stripper = ctx.knowledge.retriever.stripper
    message = stripper.strip(value)
    return message.empty and bool(message.removed) and stripper.smalltalk(value) is None


def _repeats_an_answer(p: Proposal, value: str) -> bool:
    """Whether `value` is what another step already holds: a message sent twice ("Sukamaju" again at Kecamatan)
    is checked with the user rather than stored a second time."""
    key = reading.fold(value)
    return bool(key) and any(a.status == "value" and reading.fold(a.value) == key for a in p.answers.values())


def _reads_as_question(ctx: Context, p: Proposal, value: str, expecting: str) -> bool:
    """Whether a value may be a question typed without its question mark, so the user is asked before it is
    stored ("Simpan … sebagai …?" — "Bukan, itu pertanyaan"): a value that is one of the knowledge base's own
    question phrasings or topic titles; a place or proposal name about an out-of-scope subject; a place name (a
    step with `prefixes`: Desa, Kecamatan, Kabupaten) of three or more ordinary dictionary words ("harga beras hari
    ini"), or naming a cooperation term that the knowledge base answers as a question ("keanggotaan bkad" as Nama
    Desa). "Bantul", "Tanah Datar", a person's name or position are not second-guessed, nor a free text: "Pembangunan
    Desa" or "disepakati dalam Musyawarah antar-Desa" are answers although the knowledge base knows the words."""
    if known_phrasing(ctx, value):
        return True
    s = engine.pending_step(proposals.flows(ctx), p)
    place = expecting == "name" and s is not None and bool(s.prefixes)  # Desa, Kecamatan, Kabupaten
    if not (place or expecting == "proposal"):
        return False
    norm = ctx.knowledge.retriever.norm
    tokens = norm.tokens(value)
    if norm.out_of_scope(tokens):
        return True
    if not place:  # a proposal's name may well say "kerja sama …"
        return False
    bare = reading.strip_prefixes(value, s.prefixes, s.items)
    if reading.ordinary_words(bare):
        return True
    # A place is never named with cooperation terms ("keanggotaan bkad", "definisi kerja sama desa"): only then
    # is the knowledge base asked whether the "name" is one of its questions.
    return norm.names_in_scope(tokens) and (
        ctx.knowledge.retriever.search(value).outcome == "answer"
    )


_PHRASINGS: dict[int, frozenset[str]] = {}


def known_phrasing(ctx: Context, text: str) -> bool:
    """Whether `text`, normalised, is one of the knowledge base's question phrasings or topic titles."""
    kb, norm = ctx.knowledge.kb, ctx.knowledge.retriever.norm
    known = _PHRASINGS.get(id(kb))
    if known is None:
        known = frozenset(norm.text(q) for e in kb.entries for q in (*e.questions, e.title))
        _PHRASINGS.clear()
        _PHRASINGS[id(kb)] = known
    return norm.text(text) in known


def _maybe_value(ctx: Context, p: Proposal, value: str, maybe_question: bool = False) -> list[Reply]:
    error = _invalid(ctx, p, value)
    if error:
        return [error]
    shown = value if len(value) <= 60 else value[:57] + "…"
    question = t.CONFIRM_VALUE.format(value=shown, field=_field_name(ctx, p))
    return confirm_store(ctx, p, value, question, "question" if maybe_question else "value")


def _invalid(ctx: Context, p: Proposal, value: str) -> Reply | None:
    """The engine's validation message for a value, without applying it."""
    new, replies = engine.apply(proposals.flows(ctx), p, Event("text", value=value))
    return replies[0] if new == p and replies else None


def confirm_store(ctx: Context, p: Proposal, value: str, question: str, action: str) -> list[Reply]:
    """Ask Ya / Bukan before storing `value` (or skipping) at the pending step; nothing is stored yet."""
    frame = Frame("confirm", proposal=p.id, position=p.position, revision=p.revision, value=value, action=action)
    ctx.set_focus(ctx.focus.push(frame))
    choices = (Choice(t.CONFIRM_YES, f"usl:c:{p.id}:{p.revision}:ya"),
               Choice(_no_label(action), f"usl:c:{p.id}:{p.revision}:bukan"))  # fmt: skip
    return [Reply(question, choices=choices)]


def _no_label(action: str) -> str:
    return t.CONFIRM_NO_QUESTION if action == "question" else t.CONFIRM_NO


async def answer_then_step(ctx: Context, p: Proposal, question: str, found=None) -> list[Reply]:
    """A question typed at a step: its answer, then the step again. Topics to choose from become a list in focus
    (a number then picks a topic, not an answer to the step); "sudah dijawab" only when an answer was given."""
    if found is None:
        found = ctx.knowledge.retriever.search(question)
    replies = await qa.answer_question(ctx, question, found)
    outcome = found.outcome
    if outcome == "suggest" and replies and replies[-1].choices:
        ctx.set_focus(ctx.focus.push(Frame("topics", proposal=p.id)))
        topics = replies[-1]
        back = Choice(t.BACK_TO_STEP, f"usl:o:{p.id}")
        return [*replies[:-1], replace(topics, text=f"{topics.text}", choices=(*topics.choices, back))]
    if outcome == "smalltalk":
        return ask_again(ctx, p, t.SMALLTALK.get(found.smalltalk, t.SMALLTALK["greeting"]))
    if outcome == "answer":
        return replies + ask_again(ctx, p, t.QUESTION_THEN_STEP)
    # Not answered: say so briefly (without the main menu) and ask the step again.
    miss = [replace(r, choices=()) for r in replies]
    return miss + ask_again(ctx, p, t.QUESTION_NOT_ANSWERED)


def ask_again(ctx: Context, p: Proposal, lead: str, resume: bool = True) -> list[Reply]:
    """The pending step asked again, after a short lead line (and "Kita lanjutkan usulan …" with `resume`)."""
    again = engine.prompt(proposals.flows(ctx), p)
    back = t.CONTINUE_STEP.format(name=p.name) if p.name and resume else ""
    again[0] = replace(again[0], text="\n\n".join(x for x in (f"{lead} {back}".strip(), again[0].text) if x))
    return again


# -- on top of the guide ---------------------------------------------------------------------------------------
async def on_confirm(ctx: Context, text: str) -> list[Reply] | None:
    """"Simpan "…" sebagai …?": yes stores, no / cancel does not; anything else is read again at the step."""
    frame = ctx.focus.top
    p = proposals.load(ctx, frame.proposal)
    if p is None or p.position != frame.position or p.revision != frame.revision:
        ctx.set_focus(ctx.focus.pop())
        return None
    r = reading.read(text, "yesno", (t.CONFIRM_YES, _no_label(frame.action)), proposals.words(ctx))
    if r.kind == "choice":
        return await confirm_answer(ctx, "ya" if r.index == 0 else "bukan")
    if r.kind == "yes":
        return await confirm_answer(ctx, "ya")
    if r.kind in ("no", "not_yet", "cancel"):
        return await confirm_answer(ctx, "bukan")
    ctx.set_focus(ctx.focus.pop())  # another answer, a question, a command: the step reads it afresh
    return None


async def confirm_answer(ctx: Context, answer: str, revision: int | None = None) -> list[Reply]:
    """Ya / Bukan to a pending "Simpan …?" (typed or tapped)."""
    frame = ctx.focus.top
    if frame is None or frame.kind != "confirm" or (revision is not None and revision != frame.revision):
        return [Reply(texts.EXPIRED)]
    p = proposals.load(ctx, frame.proposal)
    ctx.set_focus(ctx.focus.pop())
    if p is None or p.position != frame.position or p.revision != frame.revision:
        return [Reply(t.STALE)]
    if answer != "ya":
        if frame.action == "question":  # "Bukan, itu pertanyaan": answer it, then the step again
            return await answer_then_step(ctx, p, frame.value)
        return ask_again(ctx, p, t.NOT_SAVED)
    if frame.action == "skip":
        return proposals.run(ctx, p, Event("skip", step=p.position))
    return proposals.run(ctx, p, Event("text", value=frame.value))


async def on_topics(ctx: Context, text: str) -> list[Reply] | None:
    """Topics offered for a question at a step: a number or label picks one; anything else goes to the step."""
    from handlers.router import dispatch_payload

    menus = ctx.focus.menus
    r = reading.read(text, "choice", tuple(label for label, _ in menus[-1]) if menus else (), proposals.words(ctx))
    if r.kind == "choice":
        return await dispatch_payload(ctx, menus[-1][r.index][1])  # pops the topic list, asks the step again
    ctx.set_focus(ctx.focus.pop())
    return None


async def on_edit(ctx: Context, text: str) -> list[Reply] | None:
    """An earlier step answered again (/ubah): "tidak jadi" goes back unchanged; the rest as at any step."""
    frame = ctx.focus.top
    p = proposals.load(ctx, frame.proposal)
    if p is None or p.position != frame.target:
        ctx.set_focus(ctx.focus.pop())
        return None
    r = reading.read(text, "text", (), proposals.words(ctx))
    if r.kind == "cancel":
        return [Reply(t.EDIT_CANCELLED)] + cancel_edit(ctx)
    return await _at_step(ctx, p, text)


def cancel_edit(ctx: Context) -> list[Reply]:
    """Leave an edit without changing anything: the guide goes back where it was before /ubah (its prompt)."""
    frame = ctx.focus.find("edit")
    ctx.set_focus(ctx.focus.pop("edit"))
    p = proposals.load(ctx, frame.proposal) if frame else None
    if p is None:
        return [Reply(t.NOT_IN_FLOW)]
    return proposals.run(ctx, p, Event("restore", step=frame.position, revision=p.revision))


FrameHandler = Callable[[Context, str], Awaitable[list[Reply] | None]]
HANDLERS: dict[str, FrameHandler] = {
    "guide": on_guide,
    "edit": on_edit,
    "confirm": on_confirm,
    "topics": on_topics,
}
