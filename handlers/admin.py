"""Admin commands: /statistik (usage counts) and /muatulang (reload the knowledge base).

Only chats listed in config [admin] chats ("channel:id") may use them; everyone else gets the
ordinary unknown-command reply, so the commands are not even visible to them.
"""

from __future__ import annotations

import logging

from handlers import texts
from handlers.context import Context
from handlers.messages import Reply

log = logging.getLogger(__name__)

TOP_UNANSWERED = 10
SHOWN_PROBLEMS = 5
QUESTION_SHOWN = 80  # characters of each unanswered question


def admin_only(name: str, handler):
    """Wrap a command handler so that non-admin chats get the unknown-command reply."""

    async def guarded(ctx: Context, arg: str = "") -> list[Reply]:
        if not ctx.is_admin:
            return [Reply(texts.UNKNOWN_COMMAND.format(cmd="/" + name))]
        log.info("admin command /%s (channel=%s)", name, ctx.msg.channel)
        return await handler(ctx, arg)

    guarded.__doc__ = handler.__doc__
    return guarded


def _short(question: str) -> str:
    q = " ".join(question.split())
    return q if len(q) <= QUESTION_SHOWN else q[: QUESTION_SHOWN - 1] + "…"


async def stats(ctx: Context, arg: str = "") -> list[Reply]:
    """/statistik: chats, proposals, questions by outcome, the most frequent unanswered questions."""
    s = ctx.storage.usage_stats()
    outcomes = s["outcomes"]
    channels = ", ".join(f"{name}: {n}" for name, n in s["channels"].items()) or "-"
    body = texts.STATS.format(
        chats=s["chats"],
        active=s["active"],
        channels=channels,
        proposals=s["proposals"],
        questions=sum(outcomes.values()),
        answer=outcomes.get("answer", 0),
        suggest=outcomes.get("suggest", 0),
        none=outcomes.get("none", 0),
    )
    rows = ctx.storage.unanswered(TOP_UNANSWERED)
    if rows:
        lines = [f"{i}. {_short(q)} ({n}×)" for i, (q, _outcome, n) in enumerate(rows, 1)]
        body += "\n\n" + texts.STATS_UNANSWERED + "\n" + "\n".join(lines)
    else:
        body += "\n\n" + texts.STATS_NO_UNANSWERED
    return [Reply(body, heading=texts.STATS_HEADING)]


async def reload_knowledge(ctx: Context, arg: str = "") -> list[Reply]:
    """/muatulang: load the knowledge base again; refuse (keeping the old one) if it has problems."""
    old = ctx.knowledge.kb
    try:
        kb = ctx.services.reload_knowledge().kb
    except Exception as exc:  # KnowledgeError, or an unreadable folder: keep serving the old KB
        problems = getattr(exc, "problems", None) or [str(exc).splitlines()[0]]
        log.warning("knowledge reload refused: %d problem(s); first: %s", len(problems), problems[0])
        shown = "\n".join(f"• {p}" for p in problems[:SHOWN_PROBLEMS])
        return [Reply(texts.RELOAD_REFUSED.format(count=len(problems), version=old.version, problems=shown))]
    log.info("knowledge reloaded: version %s, %d entries", kb.version, len(kb.entries))
    return [Reply(texts.RELOAD_OK.format(version=kb.version, date=kb.date, entries=len(kb.entries)))]
