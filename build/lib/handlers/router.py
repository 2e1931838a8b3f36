"""Routing: commands, tapped buttons, typed choices and free text each go to the right handler."""

from __future__ import annotations

import re
import unicodedata
from typing import Awaitable, Callable

from handlers import admin, commands, proposals, qa, texts
from handlers.choosing import label_index, typed_number
from handlers.context import Context
from handlers.messages import Reply

MAX_TEXT = 4000  # characters; longer messages are refused politely (nothing is changed)

CommandHandler = Callable[[Context, str], Awaitable[list[Reply]]]  # (ctx, argument text)
PayloadHandler = Callable[[Context, str], Awaitable[list[Reply]]]  # (ctx, rest of the payload)
ModeHandler = Callable[[Context, str], Awaitable[list[Reply] | None]]  # None: not for me, route on

# Commands by name (without "/"). Aliases map English Telegram habits to the Indonesian commands.
COMMANDS: dict[str, CommandHandler] = {
    "mulai": commands.start,
    "start": commands.start,
    "menu": commands.start,
    "bantuan": commands.help_,
    "help": commands.help_,
    "tentang": commands.about,
    "tanya": commands.ask,
    # The proposal checklist (handlers/proposals.py).
    "usulan": proposals.usulan,
    "status": proposals.status,
    "ubah": proposals.ubah,
    "lewati": proposals.lewati,
    "batal": proposals.batal,
    "hapus": proposals.hapus,
    "dokumen": proposals.dokumen,
    "ringkasan": proposals.ringkasan,
    # Admin only (config [admin] chats); others get the ordinary unknown-command reply.
    "statistik": admin.admin_only("statistik", admin.stats),
    "muatulang": admin.admin_only("muatulang", admin.reload_knowledge),
}

# Button payloads by prefix ("<prefix>:<rest>"). Payloads never reach users; buttons carry short ids.
PAYLOADS: dict[str, PayloadHandler] = {
    "menu": commands.menu_choice,
    "kb": commands.kb_choice,
    "usl": proposals.choice,
    "hapus": proposals.hapus_choice,
}

# Handlers for chats in a mode (chat_state.mode), e.g. a checklist waiting for a step's answer.
MODES: dict[str, ModeHandler] = {
    proposals.MODE: proposals.pending_step,
    proposals.MODE_DELETE: proposals.delete_mode,
}

_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\S+)?(?:\s+(.*))?$", re.S)
_CONTROL = dict.fromkeys(
    c for c in range(0x110000) if c < 0x20 and chr(c) not in "\n\t" or 0x7F <= c < 0xA0
)
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
# A button token as App.handle issues it: "<menu id>.<index>" (ASCII only; anything else is forged).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,16}\.[0-9]{1,3}")


def clean(text: str) -> str:
    """Drop NUL/control and zero-width characters; keep letters, emoji, newlines; strip ends."""
    text = text.translate(_CONTROL)
    text = "".join(ch for ch in text if ch not in _INVISIBLE and unicodedata.category(ch) != "Cs")
    return text.strip()


async def dispatch_payload(ctx: Context, payload: str) -> list[Reply]:
    """Run the handler for a button payload; an unknown payload counts as an expired menu."""
    prefix, _, rest = payload.partition(":")
    handler = PAYLOADS.get(prefix)
    if handler is None:
        return [Reply(texts.EXPIRED)]
    return await handler(ctx, rest)


def _resolve_button(ctx: Context, token: str) -> str | None:
    if not _TOKEN.fullmatch(token):
        return None
    menu_id, _, index = token.partition(".")
    menu = ctx.storage.get_menu(ctx.chat_key, menu_id)
    if menu is None:
        return None
    i = int(index)
    return menu[i][1] if 0 <= i < len(menu) else None


def typed_choice(ctx: Context, text: str) -> tuple[str | None, Reply | None]:
    """Match typed text against the chat's latest menu: its number or its (possibly shortened) label.

    Returns (payload, None) on a match, (None, reply) for a number out of range, (None, None) otherwise.
    """
    latest = ctx.storage.latest_menu(ctx.chat_key)
    if latest is None:
        return None, None
    _, menu = latest
    n = typed_number(text)
    if n is not None:
        if 1 <= n <= len(menu):
            return menu[n - 1][1], None
        return None, Reply(texts.OUT_OF_RANGE.format(n=n, max=len(menu)))
    i = label_index([label for label, _ in menu], text)
    return (menu[i][1], None) if i is not None else (None, None)


async def route(ctx: Context) -> list[Reply]:
    """Send one inbound message to its handler. The order of the checks below matters."""
    msg = ctx.msg
    # 1. Content we cannot read (stickers, photos, voice …): say so, change nothing.
    if msg.kind == "unsupported":
        return [Reply(texts.UNSUPPORTED)]
    # 2. A tapped button: look its token up server-side; unknown, forged or old → expired.
    if msg.kind == "choice" or msg.choice is not None:
        payload = _resolve_button(ctx, msg.choice or "")
        if payload is None:
            return [Reply(texts.EXPIRED)]
        if not payload.startswith("hapus:"):
            proposals.end_delete_mode(ctx)  # another button calls off a pending /hapus confirmation
        return await dispatch_payload(ctx, payload)
    text = clean(msg.text)
    if not text:
        return [Reply(texts.EMPTY)]
    if len(text) > MAX_TEXT:
        return [Reply(texts.TOO_LONG.format(n=len(text), max=MAX_TEXT))]
    # 3. Commands, before anything else typed.
    m = _COMMAND.match(text)
    if m:
        proposals.end_delete_mode(ctx)  # any command calls off a pending /hapus confirmation
        handler = COMMANDS.get(m.group(1).lower())
        if handler is None:
            return [Reply(texts.UNKNOWN_COMMAND.format(cmd="/" + m.group(1)[:30]))]
        return await handler(ctx, (m.group(2) or "").strip())
    # 4. A chat in a mode (e.g. a checklist step waiting for an answer) decides first.
    mode, _ = ctx.storage.get_state(ctx.chat_key)
    if mode in MODES:
        replies = await MODES[mode](ctx, text)
        if replies is not None:
            return replies
    # 5. A typed number or label of the latest menu.
    payload, reply = typed_choice(ctx, text)
    if payload is not None:
        return await dispatch_payload(ctx, payload)
    if reply is not None:
        return [reply]
    # 6. Anything else is a question (greetings and thanks are recognised there).
    return await qa.answer_question(ctx, text)
