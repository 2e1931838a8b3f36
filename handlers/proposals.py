"""The proposal commands (/usulan, /status, /ubah, /lewati, /batal, /hapus, /dokumen, /ringkasan) and their
buttons. Storage glue around handlers/checklist.py: load the proposal, apply the event, write the new state, and
only then return the replies. What the chat waits for lives in its focus (handlers/focus.py); typed text at a
step is read by handlers/guide.py."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

from handlers import checklist as engine
from handlers import checklist_texts as t
from handlers import documents, reading, texts
from handlers.checklist import Answer, At, Event, Proposal
from handlers.choosing import label_index, label_key, typed_number
from handlers.citing import with_citations
from handlers.context import Context
from handlers.focus import Frame
from handlers.messages import Choice, Reply
from knowledge.flows import Flows

log = logging.getLogger(__name__)

OTHERS_SHOWN = 3
MISSING_SHOWN = 3  # missing steps named per stage in /status


def flows(ctx: Context) -> Flows:
    """The checklist flows of the loaded knowledge base."""
    return ctx.knowledge.flows


def words(ctx: Context) -> reading.StepWords:
    """The step words of the knowledge directory (knowledge/step_words.toml)."""
    path = Path(ctx.config.knowledge_dir) / "step_words.toml"
    return reading.default_words(path if path.is_file() else reading.WORDS_FILE)


def load(ctx: Context, proposal_id: int) -> Proposal | None:
    """This chat's proposal with that id, or None (unknown or another chat's)."""
    found = ctx.storage.load_proposal(ctx.chat_key, proposal_id)
    if found is None:
        return None
    data, answers = found
    try:
        at = At(data["at"])
    except ValueError:
        log.warning("proposal %s has an unknown position %r; treated as finished", data["id"], data["at"])
        at = At.DONE
    p = Proposal(
        id=data["id"], name=data["name"], flow=data["flow"], outcome=data["outcome"], at=at, current=data["current"],
        revision=data["revision"], triage=data["triage"],
        answers={k: Answer(status, value) for k, (status, value) in answers.items()},
    )
    fixed = engine.repair(flows(ctx), p)  # the flows may have changed since (/muatulang)
    if fixed is not p:
        log.info("proposal %s repaired after a flow change: %s → %s", p.id, p.position, fixed.position)
        save(ctx, fixed)
    return fixed


def save(ctx: Context, p: Proposal) -> None:
    """Write a proposal's state and answers (one transaction)."""
    data = {"id": p.id, "name": p.name, "flow": p.flow, "outcome": p.outcome, "at": str(p.at),
            "current": p.current, "revision": p.revision, "triage": dict(p.triage)}  # fmt: skip
    ctx.storage.save_proposal(ctx.chat_key, data, {k: (a.status, a.value) for k, a in p.answers.items()})


def active(ctx: Context) -> Proposal | None:
    """The chat's active proposal."""
    pid = ctx.storage.active_proposal(ctx.chat_key)
    return load(ctx, pid) if pid is not None else None


def enter(ctx: Context, p: Proposal) -> None:
    """Put the guide of `p` in focus (frames above it are left), or leave the guide when nothing is pending."""
    focus = ctx.focus.pop("guide")
    ctx.set_focus(focus.push(Frame("guide", proposal=p.id)) if p.pending else focus)


def run(ctx: Context, p: Proposal, ev: Event) -> list[Reply]:
    """Apply an event, persist the new state before returning the replies, and keep the focus in step."""
    new, replies = engine.apply(flows(ctx), p, ev)
    if new != p:
        save(ctx, new)
        log.debug("proposal %s: %s → %s (rev %d)", p.id, p.position, new.position, new.revision)
    focus = ctx.focus
    edit = focus.find("edit")
    if edit is not None and edit.proposal == new.id and new.position != edit.target:
        focus = focus.pop("edit")  # the edited step was answered (or skipped): back to the guide
    if focus.guide is not None and focus.guide.proposal == new.id and not new.pending:
        focus = focus.pop("guide")  # finished or stopped: nothing waits any more
    if focus != ctx.focus:
        ctx.set_focus(focus)
    return replies


def _in_focus(ctx: Context, p: Proposal) -> bool:
    guide = ctx.focus.guide
    return guide is not None and guide.proposal == p.id


def _start_new(ctx: Context, name: str = "") -> list[Reply]:
    p = Proposal(id=ctx.storage.create_proposal(ctx.chat_key))
    ctx.set_focus(_base(ctx).pop("guide").push(Frame("guide", proposal=p.id)))
    if name:
        return run(ctx, p, Event("text", value=name))
    return engine.prompt(flows(ctx), p)


def _base(ctx: Context):
    """The focus without the transient frames (confirmations, topic lists, a pending /hapus)."""
    focus = ctx.focus
    while focus.top is not None and focus.top.kind in ("confirm", "topics", "delete"):
        focus = focus.pop()
    return focus


def _where(ctx: Context, p: Proposal) -> str:
    """Where a proposal stands, for /usulan's menu: triage, stopped, all steps visited, or "3/20 langkah"."""
    if p.at in (At.NAME, At.TRIAGE):
        return t.TRIAGE_HEADING.lower()
    if p.at == At.STOPPED:
        return t.WHERE_STOPPED
    stages = engine.progress(flows(ctx), p)
    done, total = sum(d for _, d, _, _ in stages), sum(n for _, _, n, _ in stages)
    if p.at == At.DONE:
        return t.WHERE_DONE.format(n=total - done) if done < total else t.WHERE_COMPLETE
    return t.WHERE_STEPS.format(done=done, total=total)


# -- commands -------------------------------------------------------------------------------------------
async def usulan(ctx: Context, arg: str = "") -> list[Reply]:
    """/usulan: resume the active proposal; /usulan baru or /usulan <nama>: start a new one."""
    ctx.set_focus(_base(ctx))
    if arg:
        return _start_new(ctx, "" if arg.casefold() == "baru" else arg)
    p = active(ctx)
    if p is None:
        return _start_new(ctx)
    others = [r for r in ctx.storage.proposals(ctx.chat_key) if r["id"] != p.id and r["name"]]
    choices = [Choice(t.RESUME.format(name=_short(p.name or "?")), f"usl:o:{p.id}"), Choice(t.NEW, "usl:n")]
    choices += [Choice(t.OPEN.format(name=_short(r["name"])), f"usl:o:{r['id']}") for r in others[:OTHERS_SHOWN]]
    if p.at == At.STOPPED:  # nothing to continue: offer a new proposal first
        choices.pop(0)
    if not p.pending or others:
        menu = t.RESUME_MENU_STOPPED if p.at == At.STOPPED else t.RESUME_MENU
        text = menu.format(name=p.name or "?", where=_where(ctx, p))
        return [Reply(text, choices=tuple(choices))]
    enter(ctx, p)
    return [Reply(t.ASK_AGAIN.format(name=p.name or "?"))] + run(ctx, p, Event("show"))


def _short(name: str) -> str:
    return name if len(name) <= 24 else name[:23] + "…"


def _on_active(ctx: Context, build) -> list[Reply]:
    p = active(ctx)
    return [Reply(t.NO_PROPOSAL)] if p is None else build(ctx, p)


async def status(ctx: Context, arg: str = "") -> list[Reply]:
    """/status: progress per stage ("Persiapan 4/6") and what is still missing."""
    return _on_active(ctx, lambda c, p: [_status_reply(c, p)])


def _stopped_reason(ctx: Context, p: Proposal) -> str:
    outcome = flows(ctx).outcomes.get(p.outcome)
    return with_citations(outcome.text, outcome.citations) if outcome else ""


def _status_reply(ctx: Context, p: Proposal) -> Reply:
    fl = flows(ctx)
    flow = engine.flow_of(fl, p)
    if p.at == At.STOPPED:
        return Reply(t.STATUS_STOPPED.format(reason=_stopped_reason(ctx, p)).strip(),
                     heading=t.STATUS_HEADING.format(name=p.name), choices=(Choice(t.NEW, "usl:n"),))  # fmt: skip
    choices = [Choice(t.CONTINUE_BUTTON, f"usl:o:{p.id}")]
    if flow is None:
        return Reply(t.STATUS_TRIAGE, heading=t.STATUS_HEADING.format(name=p.name or "?"), choices=tuple(choices))
    lines = [t.STATUS_TYPE.format(title=flow.title, instrument=flow.instrument)]
    if p.at == At.DONE:
        lines.append(_where(ctx, p).capitalize() + ".")
        choices = []
    for title, done, total, missing in engine.progress(fl, p):
        lines.append(t.STATUS_LINE.format(stage=title, done=done, total=total))
        if missing:
            shown = "; ".join(missing[:MISSING_SHOWN])
            more = t.STATUS_MORE.format(n=len(missing) - MISSING_SHOWN) if len(missing) > MISSING_SHOWN else ""
            lines.append(t.STATUS_MISSING.format(items=shown + more))
    choices = [Choice(t.DOCS_BUTTON, f"usl:d:{p.id}"), Choice(t.SUMMARY_BUTTON, f"usl:r:{p.id}")] + choices
    return Reply("\n".join(lines), heading=t.STATUS_HEADING.format(name=p.name), choices=tuple(choices))


async def ubah(ctx: Context, arg: str = "") -> list[Reply]:
    """/ubah: choose a stage, then an earlier step, to answer it again."""
    ctx.set_focus(_base(ctx))
    return _on_active(ctx, _edit_stages)


def _edit_stages(ctx: Context, p: Proposal) -> list[Reply]:
    fl = flows(ctx)
    flow = engine.flow_of(fl, p)
    if p.at == At.STOPPED:
        return [Reply(t.EDIT_STOPPED)]
    if flow is None:
        return [Reply(t.EDIT_TRIAGE)]
    steps = engine.active_steps(fl, p)
    stages = [st for st in flow.stages if any(s.stage == st.id and s.id in p.answers for s in steps)]
    if not stages:
        return [Reply(t.EDIT_NOTHING)]
    choices = tuple(Choice(st.title, f"usl:e:{p.id}:{p.revision}:{st.id}") for st in stages)
    return [Reply(t.EDIT_STAGE, choices=choices)]


def _edit_stage(ctx: Context, p: Proposal, revision: int, stage: str) -> list[Reply]:
    if revision != p.revision:
        return [Reply(t.STALE)]
    steps = [s for s in engine.active_steps(flows(ctx), p) if s.stage == stage and s.id in p.answers]
    if not steps:
        return [Reply(t.STALE)]
    choices = tuple(
        Choice(_short(engine.step_title(s)), f"usl:g:{p.id}:{p.revision}:{s.id}",
               description=engine.answer_label(p.answers.get(s.id))[:72])
        for s in steps
    )
    return [Reply(t.EDIT_STEP, choices=choices)]


def _goto(ctx: Context, p: Proposal, revision: int, step: str) -> list[Reply]:
    """An earlier step chosen through /ubah: answer it again; "tidak jadi" or /batal goes back unchanged."""
    resume = ctx.focus.find("edit")
    before = resume.position if resume is not None and resume.proposal == p.id else p.position
    new, replies = engine.apply(flows(ctx), p, Event("goto", step=step, revision=revision))
    if new == p:
        return replies
    save(ctx, new)
    focus = _base(ctx).pop("edit").pop("guide")
    ctx.set_focus(focus.push(Frame("guide", proposal=p.id)).push(
        Frame("edit", proposal=p.id, position=before, target=new.position)))
    first = replies[0]
    return [Reply(t.EDIT_HINT)] + [first, *replies[1:]]


async def lewati(ctx: Context, arg: str = "") -> list[Reply]:
    """/lewati: skip the pending step; it stays listed as missing."""
    ctx.set_focus(_base(ctx))
    guide = ctx.focus.guide
    p = load(ctx, guide.proposal) if guide else None
    if p is None or not p.pending:
        return [Reply(t.NOT_IN_FLOW)]
    return run(ctx, p, Event("skip", step=p.position))


async def batal(ctx: Context, arg: str = "") -> list[Reply]:
    """/batal: stop the guide. An edit in progress is dropped unchanged, a pending "Simpan …?" unsaved; everything
    stored stays; nothing typed afterwards is stored until the user resumes (/usulan, "Lanjutkan")."""
    from handlers import guide

    lead = []
    if ctx.focus.find("edit") is not None:
        guide.cancel_edit(ctx)  # back where the guide was before /ubah, nothing changed
        lead.append(t.EDIT_CANCELLED)
    had_delete = ctx.focus.find("delete") is not None
    focus = _base(ctx)
    if focus.guide is None:
        ctx.set_focus(focus)
        return [Reply("\n\n".join([*lead, t.DELETE_KEPT if had_delete else t.NOTHING_TO_STOP]))]
    ctx.set_focus(focus.pop("guide"))
    return [Reply("\n\n".join([*lead, t.CANCELLED]))]


async def hapus(ctx: Context, arg: str = "") -> list[Reply]:
    """/hapus: ask for confirmation, then delete all of this chat's data."""
    nonce = secrets.token_hex(4)
    ctx.set_focus(_base(ctx).push(Frame("delete", nonce=nonce)))
    choices = (Choice(t.DELETE_YES, f"hapus:ya:{nonce}"), Choice(t.DELETE_NO, f"hapus:tidak:{nonce}"))
    return [Reply(t.CONFIRM_DELETE, choices=choices)]


async def hapus_choice(ctx: Context, rest: str) -> list[Reply]:
    """The /hapus confirmation buttons; only the latest confirmation is valid, and only once."""
    action, _, nonce = rest.partition(":")
    top = ctx.focus.top
    if top is None or top.kind != "delete" or top.nonce != nonce:
        return [Reply(texts.EXPIRED)]
    if action == "ya":
        counts = ctx.storage.delete_chat(ctx.chat_key)
        ctx.forget_focus()
        log.info("chat data deleted on request (%d rows)", sum(counts.values()))
        return [Reply(t.DELETED)]
    ctx.set_focus(ctx.focus.pop())
    return [Reply(t.DELETE_KEPT)]


async def on_delete(ctx: Context, text: str) -> list[Reply] | None:
    """While /hapus waits: "1"/"ya"/the label confirms, "2"/the other label keeps; anything else calls it off and
    is handled as if /hapus had not been typed."""
    nonce = ctx.focus.top.nonce
    actions = ("ya", "tidak")
    n = typed_number(text)
    i = n - 1 if n in (1, 2) else label_index([t.DELETE_YES, t.DELETE_NO], text)
    if i is None and label_key(text) in actions:
        i = actions.index(label_key(text))
    if i is not None:
        return await hapus_choice(ctx, f"{actions[i]}:{nonce}")
    ctx.set_focus(ctx.focus.pop())
    return None


async def dokumen(ctx: Context, arg: str = "") -> list[Reply]:
    """/dokumen: the proposal's documents (summary, draft, and for antar-Desa the offer letter)."""
    p = active(ctx)
    return [Reply(t.NO_PROPOSAL)] if p is None else await _documents(ctx, p)


async def _documents(ctx: Context, p: Proposal) -> list[Reply]:
    fl = flows(ctx)
    if p.at == At.STOPPED:
        return [Reply(t.DOCS_STOPPED.format(name=p.name, reason=_stopped_reason(ctx, p)), choices=(Choice(t.NEW, "usl:n"),))]
    if engine.flow_of(fl, p) is None:
        return [Reply(t.DOCS_NOT_READY)]
    docs = await asyncio.to_thread(documents.build_all, fl, p)  # ~130 ms: other chats go on meanwhile
    replies = [Reply(t.DOCS_INTRO.format(name=p.name))] + [Reply(d.caption, document=d) for d in docs]
    if p.pending:  # mid-flow: one tap back to the pending step
        replies.append(Reply(t.DOCS_THEN_CONTINUE, choices=(Choice(t.CONTINUE_BUTTON, f"usl:o:{p.id}"),)))
    return replies


async def ringkasan(ctx: Context, arg: str = "") -> list[Reply]:
    """/ringkasan: a short text summary of the proposal's answers."""
    return _on_active(ctx, lambda c, p: [_summary_reply(c, p)])


def _summary_reply(ctx: Context, p: Proposal) -> Reply:
    fl = flows(ctx)
    if engine.flow_of(fl, p) is None:
        return Reply(t.DOCS_NOT_READY)
    choices = [Choice(t.DOCS_BUTTON, f"usl:d:{p.id}")]
    if p.pending:
        choices.append(Choice(t.CONTINUE_BUTTON, f"usl:o:{p.id}"))
    return Reply(documents.summary_text(fl, p), heading=t.SUMMARY_HEADING.format(name=p.name), choices=tuple(choices))


# -- buttons ----------------------------------------------------------------------------------------------
def _int(x: str) -> int | None:
    return int(x) if x.isdigit() and len(x) < 12 else None


async def choice(ctx: Context, rest: str) -> list[Reply]:
    """Proposal buttons "usl:<action>:<proposal id>[:<revision>:<position>[:<value>]]"."""
    from handlers import guide

    parts = rest.split(":")
    action = parts[0]
    if action == "n":
        ctx.set_focus(_base(ctx))
        return _start_new(ctx)
    pid = _int(parts[1]) if len(parts) > 1 else None
    p = load(ctx, pid) if pid is not None else None
    if p is None:
        return [Reply(texts.EXPIRED)]
    if action == "o":  # open / continue: the guide takes the focus again
        ctx.storage.set_active_proposal(ctx.chat_key, p.id)
        ctx.set_focus(_base(ctx))
        enter(ctx, p)
        return run(ctx, p, Event("show"))
    if action == "w" and len(parts) == 3:
        return run(ctx, p, Event("why", step=parts[2]))
    if action == "d":
        return await _documents(ctx, p)
    if action == "r":
        return [_summary_reply(ctx, p)]
    if action == "st":
        return [_status_reply(ctx, p)]
    rev = _int(parts[2]) if len(parts) > 2 else None
    if rev is None or len(parts) < 4:
        return [Reply(texts.EXPIRED)]
    if action == "c":
        return await guide.confirm_answer(ctx, parts[3], rev)
    if p.id != ctx.storage.active_proposal(ctx.chat_key):
        return [Reply(t.STALE)]
    if action == "e":
        return _edit_stage(ctx, p, rev, parts[3])
    if action == "g":
        return _goto(ctx, p, rev, parts[3])
    if not _in_focus(ctx, p):  # after /batal nothing is stored until the user resumes
        return [Reply(t.PAUSED.format(name=p.name), choices=(Choice(t.CONTINUE_BUTTON, f"usl:o:{p.id}"),))]
    ctx.set_focus(_base(ctx))  # a tap answers the step: a pending "Simpan …?" or topic list is left
    if action == "s":
        return run(ctx, p, Event("skip", step=parts[3], revision=rev))
    if action == "a" and len(parts) == 5:
        return run(ctx, p, Event("answer", step=parts[3], value=parts[4], revision=rev))
    return [Reply(texts.EXPIRED)]
