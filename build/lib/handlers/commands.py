"""The general commands (/mulai, /bantuan, /tentang, /tanya) and the main-menu buttons."""

from __future__ import annotations

from handlers import qa, texts
from handlers.context import Context
from handlers.messages import Reply

MENU_COMMANDS = {"mulai", "tanya", "usulan", "bantuan"}  # the commands main-menu buttons ("menu:<name>") run


async def start(ctx: Context, arg: str = "") -> list[Reply]:
    """/mulai: greeting and the main menu."""
    return [Reply(texts.GREETING, choices=qa.main_menu_choices())]


async def help_(ctx: Context, arg: str = "") -> list[Reply]:
    """/bantuan: how to use the assistant."""
    return [Reply(texts.HELP, heading="Bantuan")]


async def about(ctx: Context, arg: str = "") -> list[Reply]:
    """/tentang: what the assistant is and is not, the regulations, the knowledge base's version."""
    kb = ctx.knowledge.kb
    regs = "\n".join(f"• {r.title}" for r in kb.regulations.values())
    return [Reply(texts.ABOUT.format(regulations=regs, version=kb.version, date=kb.date), heading="Tentang Pandu")]


async def ask(ctx: Context, arg: str = "") -> list[Reply]:
    """/tanya [pertanyaan]: answer the question, or ask for one."""
    if arg:
        return await qa.answer_question(ctx, arg)
    return [Reply(texts.ASK_PROMPT)]


async def menu_choice(ctx: Context, rest: str) -> list[Reply]:
    """Main-menu buttons: menu:mulai, menu:tanya, menu:usulan, menu:bantuan."""
    from handlers.router import COMMANDS

    if rest not in MENU_COMMANDS:
        return [Reply(texts.EXPIRED)]
    return await COMMANDS[rest](ctx, "")


async def kb_choice(ctx: Context, rest: str) -> list[Reply]:
    """Knowledge-base buttons: kb:show:<id> (a topic), kb:pasal:<id> (its regulation wording)."""
    action, _, entry_id = rest.partition(":")
    if action == "show":
        return await qa.show_entry(ctx, entry_id)
    if action == "pasal":
        return await qa.show_excerpt(ctx, entry_id)
    return [Reply(texts.EXPIRED)]
