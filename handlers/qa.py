"""Questions and answers from the curated knowledge base."""

from __future__ import annotations

import logging

from handlers import texts
from handlers.citing import cite_line, excerpt_blocks
from handlers.context import Context
from handlers.messages import Choice, Reply
from knowledge.base import Entry
from knowledge.retrieval import Result

log = logging.getLogger(__name__)

MAX_QUESTION = 500  # characters


def main_menu_choices() -> tuple[Choice, ...]:
    """The three choices of the main menu."""
    return (
        Choice(texts.MENU_ASK, "menu:tanya"),
        Choice(texts.MENU_PROPOSAL, "menu:usulan"),
        Choice(texts.MENU_HELP, "menu:bantuan"),
    )


def entry_reply(ctx: Context, entry: Entry) -> Reply:
    """An entry's answer: text, citations, an unverified warning if needed, and its buttons."""
    parts = [entry.answer, cite_line(entry.citations)]
    if entry.status == "unverified" and entry.note:
        parts.append(texts.UNVERIFIED_MARK + entry.note)
    choices = [Choice(texts.EXCERPT_BUTTON, f"kb:pasal:{entry.id}")]
    kb = ctx.knowledge.kb
    for rid in entry.related[: ctx.config.retrieval.related]:
        rel = kb.by_id.get(rid)
        if rel:
            choices.append(Choice(rel.title, f"kb:show:{rel.id}"))
    if entry.checklist:
        choices.append(Choice(texts.PROPOSAL_OFFER, "menu:usulan"))
    return Reply("\n\n".join(parts), heading=entry.title, choices=tuple(choices))


def excerpt_reply(ctx: Context, entry: Entry) -> Reply:
    """The regulation wording an entry rests on, each block under its citation."""
    blocks = excerpt_blocks(entry.excerpts)
    if entry.status == "verified":
        blocks.append(texts.EXCERPT_VERIFIED_NOTE.format(where=entry.verified_against))
    elif entry.status == "verbatim":
        blocks.append(texts.EXCERPT_VERBATIM_NOTE)
    elif entry.note:
        blocks.append(texts.UNVERIFIED_MARK + entry.note)
    back = (Choice(texts.MAIN_MENU, "menu:mulai"),)
    return Reply("\n\n".join(blocks), heading=f"{texts.EXCERPT_HEADING}: {entry.title}", choices=back)


async def answer_question(ctx: Context, question: str, result: Result | None = None) -> list[Reply]:
    """Answer a free-text question: the entry; "Maksud Bapak/Ibu:" with topics (unclear); in scope but not
    settled by the texts (closest topics, ask the Camat/Dinas PMD); or out of scope.

    `result` is the retriever's result for the question when the caller has already searched for it.
    """
    question = question.strip()
    if len(question) > MAX_QUESTION:
        return [Reply(texts.TOO_LONG.format(n=len(question), max=MAX_QUESTION))]
    if result is None:
        result = ctx.knowledge.retriever.search(question)
    if result.outcome == "smalltalk":
        if result.smalltalk == "thanks":
            return [Reply(texts.THANKS)]
        return [Reply(texts.GREETING_SHORT, choices=main_menu_choices())]
    if ctx.config.question_log.enabled:
        best = result.best
        ctx.storage.log_question(
            ctx.chat_key,
            ctx.msg.channel,
            question,
            result.outcome,
            best.entry.id if best else None,
            best.score if best else 0.0,
        )
    log.debug("question outcome=%s score=%.1f", result.outcome, result.best.score if result.best else 0.0)
    if result.outcome == "answer" and result.entry is not None:
        return [entry_reply(ctx, result.entry)]
    topics = tuple(Choice(m.entry.title, f"kb:show:{m.entry.id}") for m in result.suggestions)
    if result.outcome == "suggest":  # unclear: which of these topics?
        return [Reply(texts.SUGGEST, choices=topics)]
    if result.miss == "not_in_texts" and topics:  # in scope, but the texts do not settle it
        return [Reply(texts.NOT_IN_TEXTS, choices=topics)]
    if result.miss == "unclear":  # nothing left once greetings and introductions are removed
        return [Reply(texts.NO_QUESTION, choices=main_menu_choices())]
    return [Reply(texts.NOT_FOUND, choices=main_menu_choices())]


async def show_entry(ctx: Context, entry_id: str) -> list[Reply]:
    """A topic chosen from a button (a suggestion or a related topic)."""
    entry = ctx.knowledge.kb.by_id.get(entry_id)
    if entry is None:
        return [Reply(texts.EXPIRED)]
    return [entry_reply(ctx, entry)]


async def show_excerpt(ctx: Context, entry_id: str) -> list[Reply]:
    """The "Bunyi pasal" button."""
    entry = ctx.knowledge.kb.by_id.get(entry_id)
    if entry is None:
        return [Reply(texts.EXPIRED)]
    return [excerpt_reply(ctx, entry)]
