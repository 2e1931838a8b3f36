"""Routing: commands, tapped buttons, typed choices and free text each go to the right handler."""

from __future__ import annotations

import re
import unicodedata
from typing import Awaitable, Callable

from handlers import admin, commands, guide, proposals, qa, reading, texts
from handlers.choosing import label_index, typed_number
from handlers.context import Context
from handlers.messages import Reply

MAX_TEXT = 4000  # characters; longer messages are refused politely (nothing is changed)

CommandHandler = Callable[[Context, str], Awaitable[list[Reply]]]  # (ctx, argument text)
PayloadHandler = Callable[[Context, str], Awaitable[list[Reply]]]  # (ctx, rest of the payload)
FrameHandler = Callable[[Context, str], Awaitable[list[Reply] | None]]  # None: not for me, route on

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

# Typed text while a focus frame is on top (handlers/focus.py) goes to that frame's handler first; None from it
# means "not for me": the text is routed on as if the frame had not been there.
FRAMES: dict[str, FrameHandler] = {
    **guide.HANDLERS,
    "delete": proposals.on_delete,
}

_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\S+)?(?:\s+(.*))?$", re.S)
_CONTROL = dict.fromkeys(
    c for c in range(0x110000) if c < 0x20 and chr(c) not in "\n\t" or 0x7F <= c < 0xA0
)
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
# Bidirectional controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, LRM, RLM, ALM): never meant as text,
# and an override such as U+202E would make a stored name and every reply that echoes it read backwards.
_INVISIBLE |= {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}
# A button token as App.handle issues it: "<menu id>.<index>" (ASCII only; anything else is forged).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,16}\.[0-9]{1,3}")


def clean(text: str) -> str:
    """Drop NUL/control and zero-width characters; keep letters, emoji, newlines; strip ends."""
    text = text.translate(_CONTROL)
    text = "".join(ch for ch in text if ch not in _INVISIBLE and unicodedata.category(ch) != "Cs")
    return text.strip()


async def dispatch_payload(ctx: Context, payload: str, tapped: bool = False) -> list[Reply]:
    """Run the handler for a button payload (tapped, or typed as its number or label); an unknown payload counts
    as an expired menu. A topic picked from a list offered at a proposal step is followed by the step again."""
    prefix, _, rest = payload.partition(":")
    handler = PAYLOADS.get(prefix)
    if handler is None:
        return [Reply(texts.EXPIRED)]
    top = ctx.focus.top
    if top is not None and top.kind == "delete" and prefix != "hapus":
        ctx.set_focus(ctx.focus.pop())  # another button calls off a pending /hapus confirmation
        top = ctx.focus.top
    replies = await handler(ctx, rest)
    if top is not None and top.kind == "topics" and payload.startswith("kb:show:"):
        ctx.set_focus(ctx.focus.pop("topics"))  # the topic is shown; the step it interrupted comes back
        p = proposals.load(ctx, top.proposal)
        if p is not None and p.pending and ctx.focus.guide is not None:
            replies = replies + guide.ask_again(ctx, p, "")
    return replies


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
    """Match typed text against the lists in focus: a number of the last one, a (shortened) label of any.

    Returns (payload, None) on a match, (None, reply) for a number out of range, (None, None) otherwise.
    """
    menus = ctx.focus.menus
    if not menus:
        return None, None
    n = typed_number(text)
    if n is not None:
        if 1 <= n <= len(menus[-1]):
            return menus[-1][n - 1][1], None
        return None, Reply(texts.OUT_OF_RANGE.format(n=n, max=len(menus[-1])))
    for menu in reversed(menus):
        i = label_index([label for label, _ in menu], text)
        if i is not None:
            return menu[i][1], None
    return None, None


async def run_command(ctx: Context, name: str, arg: str = "") -> list[Reply]:
    """Run a command by name (typed with a slash, or as a plain word such as "status"); a pending /hapus
    confirmation is called off by any other command."""
    top = ctx.focus.top
    if top is not None and top.kind == "delete" and name != "hapus":
        ctx.set_focus(ctx.focus.pop())
    handler = COMMANDS.get(name)
    if handler is None:
        return [Reply(texts.UNKNOWN_COMMAND.format(cmd="/" + name[:30]))]
    return await handler(ctx, arg)


async def route(ctx: Context) -> list[Reply]:
    """Send one inbound message to its handler, then remember the lists it showed (the focus's menus)."""
    replies = await _route(ctx)
    menus = tuple(tuple((c.label, c.payload) for c in r.choices) for r in replies if r.choices)
    if menus:
        ctx.set_focus(ctx.focus.with_menus(menus))
    return replies


async def _route(ctx: Context) -> list[Reply]:
    """The order of the checks below matters."""
    msg = ctx.msg
    # 1. Content we cannot read (stickers, photos, voice …): say so, change nothing.
    if msg.kind == "unsupported":
        return [Reply(texts.UNSUPPORTED)]
    # 2. A tapped button: look its token up server-side; unknown, forged or old → expired.
    if msg.kind == "choice" or msg.choice is not None:
        payload = _resolve_button(ctx, msg.choice or "")
        if payload is None:
            return [Reply(texts.EXPIRED)]
        return await dispatch_payload(ctx, payload, tapped=True)
    text = clean(msg.text)
    if len(text) > MAX_TEXT:
        return [Reply(texts.TOO_LONG.format(n=len(text), max=MAX_TEXT))]
    # 3. Commands, before anything else typed.
    m = _COMMAND.match(text)
    if m:
        return await run_command(ctx, m.group(1).lower(), (m.group(2) or "").strip())
    # 4. The frame in focus (a proposal step, a confirmation, a topic list, /hapus) reads typed text first.
    top = ctx.focus.top
    while top is not None:
        replies = await FRAMES[top.kind](ctx, text)
        if replies is not None:
            return replies
        if ctx.focus.top == top:  # the handler passed without leaving its frame: route on below
            break
        top = ctx.focus.top
    if not text:
        return [Reply(texts.EMPTY)]
    # 5. A command word without the slash ("status", "menu", "lanjut").
    r = reading.read(text, "text", (), proposals.words(ctx))
    if r.kind == "command":
        return await run_command(ctx, r.value)
    # 6. A typed number or label of the list in focus.
    payload, reply = typed_choice(ctx, text)
    if payload is not None:
        return await dispatch_payload(ctx, payload)
    if reply is not None:
        return [reply]
    if typed_number(text) is not None:
        return [Reply(texts.NO_LIST)]
    # 7. A bare yes/no with a proposal left with /batal: say how to resume instead of searching the rules.
    if r.kind in reading.YES_NO_KINDS and ctx.storage.active_proposal(ctx.chat_key) is not None:
        return [Reply(texts.RESUME_HINT)]
    # 8. Anything else is a question (greetings and thanks are recognised there).
    return await qa.answer_question(ctx, text)
