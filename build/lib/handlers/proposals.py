"""The proposal commands (/usulan, /status, /ubah, /lewati, /batal, /hapus, /dokumen, /ringkasan), their
buttons, and the chat mode that takes a pending step's answer. Storage glue around handlers/checklist.py:
load the proposal, apply the event, write the new state, and only then return the replies."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import replace

from handlers import checklist as engine
from handlers import checklist_texts as t
from handlers import documents, qa, texts
from handlers.checklist import Answer, Event, Proposal
from handlers.citing import with_citations
from handlers.choosing import label_index, label_key, typed_number
from handlers.context import Context
from handlers.messages import Choice, Reply
from knowledge.flows import Flows

log = logging.getLogger(__name__)

MODE = "usulan"  # chat_state mode while a step waits for an answer
MODE_DELETE = "hapus"  # chat_state mode while /hapus waits for its confirmation
OTHERS_SHOWN = 3
MISSING_SHOWN = 3  # missing steps named per stage in /status


def _flows(ctx: Context) -> Flows:
    return ctx.knowledge.flows


def load(ctx: Context, proposal_id: int) -> Proposal | None:
    """This chat's proposal with that id, or None (unknown or another chat's)."""
    found = ctx.storage.load_proposal(ctx.chat_key, proposal_id)
    if found is None:
        return None
    data, answers = found
    p = Proposal(
        id=data["id"], name=data["name"], flow=data["flow"], outcome=data["outcome"], current=data["current"],
        revision=data["revision"], triage=data["triage"],
        answers={k: Answer(status, value) for k, (status, value) in answers.items()},
    )
    fixed = engine.repair(_flows(ctx), p)  # the flows may have changed since (/muatulang)
    if fixed is not p:
        log.info("proposal %s repaired after a flow change: %s → %s", p.id, p.current, fixed.current)
        save(ctx, fixed)
    return fixed


def save(ctx: Context, p: Proposal) -> None:
    """Write a proposal's state and answers (one transaction)."""
    data = {"id": p.id, "name": p.name, "flow": p.flow, "outcome": p.outcome, "current": p.current,
            "revision": p.revision, "triage": dict(p.triage)}
    ctx.storage.save_proposal(ctx.chat_key, data, {k: (a.status, a.value) for k, a in p.answers.items()})


def active(ctx: Context) -> Proposal | None:
    """The chat's active proposal."""
    pid = ctx.storage.active_proposal(ctx.chat_key)
    return load(ctx, pid) if pid is not None else None


def _set_mode(ctx: Context, p: Proposal) -> None:
    pending = p.current not in (engine.DONE, engine.STOPPED)
    ctx.storage.set_state(ctx.chat_key, MODE if pending else "", {"pid": p.id} if pending else {})


def run(ctx: Context, p: Proposal, ev: Event) -> list[Reply]:
    """Apply an event, persist the new state before returning the replies, and keep the chat's mode in step."""
    new, replies = engine.apply(_flows(ctx), p, ev)
    if new != p:
        save(ctx, new)
        log.debug("proposal %s: %s → %s (rev %d)", p.id, p.current, new.current, new.revision)
    _set_mode(ctx, new)
    return replies


def _start_new(ctx: Context, name: str = "") -> list[Reply]:
    p = Proposal(id=ctx.storage.create_proposal(ctx.chat_key))
    if name:
        return run(ctx, p, Event("text", value=name))
    _set_mode(ctx, p)
    return engine.prompt(_flows(ctx), p)


def _where(ctx: Context, p: Proposal) -> str:
    """Where a proposal stands, for /usulan's menu: triage, stopped, all steps visited, or "3/20 langkah"."""
    if p.current == engine.NAME or p.current.startswith(engine.TRIAGE):
        return t.TRIAGE_HEADING.lower()
    if p.current == engine.STOPPED:
        return t.WHERE_STOPPED
    stages = engine.progress(_flows(ctx), p)
    done, total = sum(d for _, d, _, _ in stages), sum(n for _, _, n, _ in stages)
    if p.current == engine.DONE:
        return t.WHERE_DONE.format(n=total - done) if done < total else t.WHERE_COMPLETE
    return t.WHERE_STEPS.format(done=done, total=total)


# -- commands -------------------------------------------------------------------------------------------
async def usulan(ctx: Context, arg: str = "") -> list[Reply]:
    """/usulan: resume the active proposal; /usulan baru or /usulan <nama>: start a new one."""
    if arg:
        return _start_new(ctx, "" if arg.casefold() == "baru" else arg)
    p = active(ctx)
    if p is None:
        return _start_new(ctx)
    others = [r for r in ctx.storage.proposals(ctx.chat_key) if r["id"] != p.id and r["name"]]
    choices = [Choice(t.RESUME.format(name=_short(p.name or "?")), f"usl:o:{p.id}"), Choice(t.NEW, "usl:n")]
    choices += [Choice(t.OPEN.format(name=_short(r["name"])), f"usl:o:{r['id']}") for r in others[:OTHERS_SHOWN]]
    if p.current == engine.STOPPED:  # nothing to continue: offer a new proposal first
        choices.pop(0)
    if p.current in (engine.DONE, engine.STOPPED) or others:
        menu = t.RESUME_MENU_STOPPED if p.current == engine.STOPPED else t.RESUME_MENU
        text = menu.format(name=p.name or "?", where=_where(ctx, p))
        return [Reply(text, choices=tuple(choices))]
    _set_mode(ctx, p)
    return [Reply(t.ASK_AGAIN.format(name=p.name or "?"))] + run(
        ctx, p, Event("show")
    )


def _short(name: str) -> str:
    return name if len(name) <= 24 else name[:23] + "…"


def _on_active(ctx: Context, build) -> list[Reply]:
    p = active(ctx)
    return [Reply(t.NO_PROPOSAL)] if p is None else build(ctx, p)


async def status(ctx: Context, arg: str = "") -> list[Reply]:
    """/status: progress per stage ("Persiapan 4/6") and what is still missing."""
    return _on_active(ctx, lambda c, p: [_status_reply(c, p)])


def _status_reply(ctx: Context, p: Proposal) -> Reply:
    flows = _flows(ctx)
    flow = engine.flow_of(flows, p)
    if p.current == engine.STOPPED:
        outcome = flows.outcomes.get(p.outcome)
        reason = with_citations(outcome.text, outcome.citations) if outcome else ""
        return Reply(t.STATUS_STOPPED.format(reason=reason).strip(), heading=t.STATUS_HEADING.format(name=p.name),
                     choices=(Choice(t.NEW, "usl:n"),))
    choices = [Choice(t.CONTINUE_BUTTON, f"usl:o:{p.id}")]
    if flow is None:
        return Reply(t.STATUS_TRIAGE, heading=t.STATUS_HEADING.format(name=p.name or "?"), choices=tuple(choices))
    lines = [t.STATUS_TYPE.format(title=flow.title, instrument=flow.instrument)]
    if p.current == engine.DONE:
        lines.append(_where(ctx, p).capitalize() + ".")
    for title, done, total, missing in engine.progress(flows, p):
        lines.append(t.STATUS_LINE.format(stage=title, done=done, total=total))
        if missing:
            shown = "; ".join(missing[:MISSING_SHOWN])
            more = t.STATUS_MORE.format(n=len(missing) - MISSING_SHOWN) if len(missing) > MISSING_SHOWN else ""
            lines.append(t.STATUS_MISSING.format(items=shown + more))
    choices = [Choice(t.DOCS_BUTTON, f"usl:d:{p.id}"), Choice(t.SUMMARY_BUTTON, f"usl:r:{p.id}")] + choices
    return Reply("\n".join(lines), heading=t.STATUS_HEADING.format(name=p.name), choices=tuple(choices))


async def ubah(ctx: Context, arg: str = "") -> list[Reply]:
    """/ubah: choose a stage, then an earlier step, to answer it again."""
    return _on_active(ctx, _edit_stages)


def _edit_stages(ctx: Context, p: Proposal) -> list[Reply]:
    flows = _flows(ctx)
    flow = engine.flow_of(flows, p)
    if flow is None:
        return [Reply(t.EDIT_TRIAGE)]
    steps = engine.active_steps(flows, p)
    stages = [st for st in flow.stages if any(s.stage == st.id and s.id in p.answers for s in steps)]
    if not stages:
        return [Reply(t.EDIT_NOTHING)]
    choices = tuple(Choice(st.title, f"usl:e:{p.id}:{p.revision}:{st.id}") for st in stages)
    return [Reply(t.EDIT_STAGE, choices=choices)]


def _edit_stage(ctx: Context, p: Proposal, revision: int, stage: str) -> list[Reply]:
    if revision != p.revision:
        return [Reply(t.STALE)]
    steps = [s for s in engine.active_steps(_flows(ctx), p) if s.stage == stage and s.id in p.answers]
    if not steps:
        return [Reply(t.STALE)]
    choices = tuple(
        Choice(_short(engine.step_title(s)), f"usl:g:{p.id}:{p.revision}:{s.id}",
               description=engine.answer_label(p.answers.get(s.id))[:72])
        for s in steps
    )
    return [Reply(t.EDIT_STEP, choices=choices)]


async def lewati(ctx: Context, arg: str = "") -> list[Reply]:
    """/lewati: skip the pending step; it stays listed as missing."""
    mode, data = ctx.storage.get_state(ctx.chat_key)
    p = load(ctx, int(data.get("pid", 0))) if mode == MODE else None
    if p is None:
        return [Reply(t.NOT_IN_FLOW)]
    return run(ctx, p, Event("skip", step=p.current))


async def batal(ctx: Context, arg: str = "") -> list[Reply]:
    """/batal: leave the flow; everything stays saved."""
    ctx.storage.set_state(ctx.chat_key, "", {})
    return [Reply(t.CANCELLED)]


async def hapus(ctx: Context, arg: str = "") -> list[Reply]:
    """/hapus: ask for confirmation, then delete all of this chat's data."""
    mode, data = ctx.storage.get_state(ctx.chat_key)
    if mode == MODE_DELETE:
        mode, data = data.get("mode", ""), data.get("data", {})
    nonce = secrets.token_hex(4)
    ctx.storage.set_state(ctx.chat_key, MODE_DELETE, {"nonce": nonce, "mode": mode, "data": data})
    choices = (Choice(t.DELETE_YES, f"hapus:ya:{nonce}"), Choice(t.DELETE_NO, f"hapus:tidak:{nonce}"))
    return [Reply(t.CONFIRM_DELETE, choices=choices)]


async def hapus_choice(ctx: Context, rest: str) -> list[Reply]:
    """The /hapus confirmation buttons; only the latest confirmation is valid, and only once."""
    action, _, nonce = rest.partition(":")
    mode, data = ctx.storage.get_state(ctx.chat_key)
    if mode != MODE_DELETE or data.get("nonce") != nonce:
        return [Reply(texts.EXPIRED)]
    if action == "ya":
        counts = ctx.storage.delete_chat(ctx.chat_key)
        log.info("chat data deleted on request (%d rows)", sum(counts.values()))
        return [Reply(t.DELETED)]
    ctx.storage.set_state(ctx.chat_key, data.get("mode", ""), data.get("data", {}))
    return [Reply(t.DELETE_KEPT)]


async def delete_mode(ctx: Context, text: str) -> list[Reply] | None:
    """While /hapus waits: "1"/"ya"/the label confirms, "2"/the other label keeps; anything else cancels it.

    A typed answer counts only while the confirmation is the newest menu shown; text that is not an answer
    goes to the mode the chat was in before /hapus (e.g. the step that waits), as if /hapus had not been typed.
    """
    _, data = ctx.storage.get_state(ctx.chat_key)
    nonce = data.get("nonce", "")
    actions = ("ya", "tidak")
    latest = ctx.storage.latest_menu(ctx.chat_key)
    if latest is not None and [payload for _, payload in latest[1]] == [f"hapus:{a}:{nonce}" for a in actions]:
        n = typed_number(text)
        i = n - 1 if n in (1, 2) else label_index([t.DELETE_YES, t.DELETE_NO], text)
        if i is None and label_key(text) in actions:
            i = actions.index(label_key(text))
        if i is not None:
            return await hapus_choice(ctx, f"{actions[i]}:{nonce}")
    end_delete_mode(ctx)
    if data.get("mode") == MODE:
        return await pending_step(ctx, text)
    return None  # not an answer to the confirmation: handle it as usual (the deletion is called off)


def end_delete_mode(ctx: Context) -> None:
    """Call off a pending /hapus confirmation: the chat returns to the mode it was in before."""
    mode, data = ctx.storage.get_state(ctx.chat_key)
    if mode == MODE_DELETE:
        ctx.storage.set_state(ctx.chat_key, data.get("mode", ""), data.get("data", {}))


async def dokumen(ctx: Context, arg: str = "") -> list[Reply]:
    """/dokumen: the proposal's .docx documents (summary, draft, and for antar-Desa the offer letter)."""
    p = active(ctx)
    return [Reply(t.NO_PROPOSAL)] if p is None else await _documents(ctx, p)


async def _documents(ctx: Context, p: Proposal) -> list[Reply]:
    flows = _flows(ctx)
    if engine.flow_of(flows, p) is None:
        return [Reply(t.DOCS_NOT_READY)]
    docs = await asyncio.to_thread(documents.build_all, flows, p)  # ~130 ms: other chats go on meanwhile
    replies = [Reply(t.DOCS_INTRO.format(name=p.name))] + [Reply(d.caption, document=d) for d in docs]
    if p.current not in (engine.DONE, engine.STOPPED):  # mid-flow: one tap back to the pending step
        replies.append(Reply(t.DOCS_THEN_CONTINUE, choices=(Choice(t.CONTINUE_BUTTON, f"usl:o:{p.id}"),)))
    return replies


async def ringkasan(ctx: Context, arg: str = "") -> list[Reply]:
    """/ringkasan: a short text summary of the proposal's answers."""
    return _on_active(ctx, lambda c, p: [_summary_reply(c, p)])


def _summary_reply(ctx: Context, p: Proposal) -> Reply:
    flows = _flows(ctx)
    if engine.flow_of(flows, p) is None:
        return Reply(t.DOCS_NOT_READY)
    return Reply(documents.summary_text(flows, p), heading=t.SUMMARY_HEADING.format(name=p.name),
                 choices=(Choice(t.DOCS_BUTTON, f"usl:d:{p.id}"), Choice(t.CONTINUE_BUTTON, f"usl:o:{p.id}")))


# -- buttons ----------------------------------------------------------------------------------------------
def _int(x: str) -> int | None:
    return int(x) if x.isdigit() and len(x) < 12 else None


async def choice(ctx: Context, rest: str) -> list[Reply]:
    """Proposal buttons "usl:<action>:<proposal id>[:<revision>:<step>[:<value>]]"."""
    parts = rest.split(":")
    action = parts[0]
    if action == "n":
        return _start_new(ctx)
    pid = _int(parts[1]) if len(parts) > 1 else None
    p = load(ctx, pid) if pid is not None else None
    if p is None:
        return [Reply(texts.EXPIRED)]
    if action == "o":
        ctx.storage.set_active_proposal(ctx.chat_key, p.id)
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
    if p.id != ctx.storage.active_proposal(ctx.chat_key):
        return [Reply(t.STALE)]
    if action == "e":
        return _edit_stage(ctx, p, rev, parts[3])
    if action == "g":
        return run(ctx, p, Event("goto", step=parts[3], revision=rev))
    if action == "s":
        return run(ctx, p, Event("skip", step=parts[3], revision=rev))
    if action == "a" and len(parts) == 5:
        return run(ctx, p, Event("answer", step=parts[3], value=parts[4], revision=rev))
    return [Reply(texts.EXPIRED)]


# -- the chat mode: a step is waiting for an answer ----------------------------------------------------------
def _for_pending(payload: str, p: Proposal) -> bool:
    """Whether a button payload belongs to the proposal's pending step at its current revision."""
    return (
        payload.startswith(f"usl:a:{p.id}:{p.revision}:{p.current}:")
        or payload == f"usl:s:{p.id}:{p.revision}:{p.current}"
        or payload == f"usl:w:{p.id}:{p.current}"
    )


async def pending_step(ctx: Context, text: str) -> list[Reply] | None:
    """Typed text while a step waits: its answer, a typed choice, or a question (answered, then the step again)."""
    _, data = ctx.storage.get_state(ctx.chat_key)
    p = load(ctx, int(data.get("pid", 0) or 0))
    if p is None or p.current in (engine.DONE, engine.STOPPED):
        ctx.storage.set_state(ctx.chat_key, "", {})
        return None
    flows = _flows(ctx)
    flow = engine.flow_of(flows, p)
    step = flow.step(p.current) if flow else None
    choices = engine.pending_choices(flows, p)
    latest = ctx.storage.latest_menu(ctx.chat_key)
    if (
        latest is not None
        and ctx.storage.menu_after_state(ctx.chat_key)
        and not any(_for_pending(payload, p) for _, payload in latest[1])
    ):
        # Another list was shown after the step (/status, /ubah, an answer's topics): numbers refer to it.
        # A menu older than the step (e.g. the main menu before /usulan) does not.
        from handlers.router import typed_choice  # the router imports this module

        payload, reply = typed_choice(ctx, text)
        if payload is not None:
            return None  # the router dispatches it
        if reply is not None:
            return [reply]
    if step is not None and step.kind == "text":
        # The step's own buttons answer to their number or label too (a client without buttons is never
        # stuck); a bare "1"/"2" is never a usable field value anyway, except at a duration step, where it
        # is a value without its unit (the validation asks for one, and names "lewati").
        labels = [c.label for c in choices]
        n = typed_number(text)
        if n is None:
            i = label_index(labels, text)
        else:
            i = n - 1 if 1 <= n <= len(labels) and step.validate != "duration" else None
        if i is not None and labels[i] == t.SKIP:
            return run(ctx, p, Event("skip", step=p.current))
        if i is not None and labels[i] == t.WHY:
            return run(ctx, p, Event("why", step=p.current))
    if p.current.startswith(engine.TRIAGE) or (step is not None and step.kind != "text"):
        value, problem = engine.match_typed(p, flows, text)
        if value == "why":
            return run(ctx, p, Event("why", step=p.current))
        if value is not None:
            return run(ctx, p, Event("answer", step=p.current, value=value, revision=p.revision))
        if problem == "range":
            return [Reply(texts.OUT_OF_RANGE.format(n=typed_number(text), max=len(choices)))]
        kind = "choice"
    else:
        kind = "text"
    talk = ctx.knowledge.retriever.norm.smalltalk(text)
    found = None  # the retriever's result, searched once and handed to the answer
    if talk:
        outcome = "smalltalk"
    elif kind == "choice" or engine.looks_like_question(text):
        found = ctx.knowledge.retriever.search(text)
        outcome = found.outcome
    else:
        outcome = "none"
    verdict = engine.classify_typed(kind, text, outcome)
    if verdict == "answer":
        return run(ctx, p, Event("text", value=text))
    answer: list[Reply] = []
    if verdict == "smalltalk":
        lead = t.SMALLTALK.get(talk or "", t.SMALLTALK["greeting"])
    elif verdict == "unclear":
        lead = t.CHOOSE_ONE.format(n=len(choices))
    else:
        answer, lead = await qa.answer_question(ctx, text, found), t.QUESTION_THEN_STEP
    return answer + _ask_again(ctx, p, lead)


def _ask_again(ctx: Context, p: Proposal, lead: str) -> list[Reply]:
    """The pending step asked again, after a short lead line; nothing is saved."""
    again = engine.prompt(_flows(ctx), p)
    back = t.CONTINUE_STEP.format(name=p.name) if p.name else ""
    again[0] = replace(again[0], text="\n\n".join(x for x in (f"{lead} {back}".strip(), again[0].text)))
    return again
