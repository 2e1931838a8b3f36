"""Rendering replies for WhatsApp within its limits: text parts, reply buttons, list messages, pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Sequence

from bot.app import choice_token
from bot.textsplit import split_text
from handlers import texts
from handlers.messages import Choice, Document, Outbound, document_only

# WhatsApp Cloud API limits (interactive messages).
TEXT_LIMIT = 4096  # a text message body
BODY_LIMIT = 1024  # the body of an interactive message, and a media caption
MAX_BUTTONS = 3
BUTTON_TITLE = 20
MAX_ROWS = 10  # rows in one list message, over all sections
ROW_TITLE = 24
ROW_DESCRIPTION = 72
LIST_BUTTON = 20  # the label of the button that opens a list
PAGE_SIZE = MAX_ROWS - 1  # a page that is not the last one keeps one row for "Lainnya"

MORE_PREFIX = "more:"  # row id of "Lainnya": "more:<menu_id>:<first index of the next page>"
_MORE_ID = re.compile(r"([A-Za-z0-9_-]{1,16}):([0-9]{1,4})")

Kind = Literal["text", "buttons", "list", "document"]


@dataclass(frozen=True)
class Button:
    """A reply button (or a list row): the id WhatsApp sends back, a title, an optional description."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class WaMessage:
    """One message to send: text, text with reply buttons, a list message, or a document."""

    kind: Kind
    text: str = ""  # the text, the interactive body, or the document caption
    buttons: tuple[Button, ...] = ()  # reply buttons, or list rows
    list_button: str = ""
    document: Document | None = None


# WhatsApp formats text between paired markers (*bold*, _italic_, ~strike~, `code`, ```mono```) and
# turns "> " at the start of a line into a quote. A marker only counts at the edge of a word, so a marker
# with a letter or digit on both sides (snake_case, URLs) is left alone; every other one becomes a
# look-alike character that no WhatsApp client parses. Visible look-alikes rather than zero-width
# characters: clients differ (and are undocumented) on whether a zero-width space or word joiner counts
# as a word character, some strip them, and they make copied text silently differ.
# Lists ("- ", "1. ") only change indentation and never hide or alter text, so they are kept.
LOOKALIKE = {"*": "\u2217", "_": "\u02cd", "~": "\u02dc", "`": "\u02cb"}  # ∗ ˍ ˜ ˋ
_MARKER = re.compile(r"(?<![^\W_])[*_~`]|[*_~`](?![^\W_])")
_QUOTE = re.compile(r"^(\s*)>", re.M)


def neutralise(text: str) -> str:
    """Plain text that WhatsApp shows as written: formatting markers and quote marks become look-alikes."""
    text = _MARKER.sub(lambda m: LOOKALIKE[m.group()], text)
    return _QUOTE.sub("\\1\u02c3", text)  # ˃


def shorten(text: str, limit: int) -> str:
    """Text cut to `limit` characters at a word boundary, with "…" when anything was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:  # a word boundary that keeps at least half of the room
        cut = cut[:space]
    return cut.rstrip(" ,.;:–-") + "…"


def unique_titles(labels: Sequence[str], limit: int) -> list[str]:
    """Titles of at most `limit` characters, shortened sensibly; numbered ("1. …") if two would clash."""
    titles = [shorten(label, limit) for label in labels]
    if len({t.casefold() for t in titles}) == len(titles):
        return titles
    return [_numbered(i, label, limit) for i, label in enumerate(labels)]


def _numbered(index: int, label: str, limit: int) -> str:
    prefix = f"{index + 1}. "
    return prefix + shorten(label, limit - len(prefix))


def _row(index: int, token: str, label: str, description: str = "") -> Button:
    """A list row numbered over the whole menu, so a typed number always means the same choice.

    When the title had to be cut, the description shows the full label, followed by the choice's own
    description (e.g. the current answer in an /ubah menu), together within WhatsApp's 72 characters.
    """
    title = _numbered(index, label, ROW_TITLE)
    if title.endswith("…") and description:
        description = shorten(description, ROW_DESCRIPTION // 2)
        description = f"{shorten(label, ROW_DESCRIPTION - len(description) - 2)}: {description}"
    elif title.endswith("…"):
        description = label
    return Button(token, title, shorten(description, ROW_DESCRIPTION) if description else "")


def _page_end(total: int, start: int) -> int:
    """Where the page starting at `start` ends: the last page takes up to 10 rows, others 9 and "Lainnya"."""
    return total if total - start <= MAX_ROWS else start + PAGE_SIZE


def list_page(
    menu_id: str,
    tokens: Sequence[str],
    labels: Sequence[str],
    start: int,
    body: str,
    descriptions: Sequence[str] = (),
) -> WaMessage:
    """One list message showing a menu's choices from index `start`, with "Lainnya" if more follow."""
    total = len(labels)
    end = _page_end(total, start)
    rows = [_row(i, tokens[i], labels[i], descriptions[i] if i < len(descriptions) else "") for i in range(start, end)]
    if end < total:
        description = texts.WA_MORE_DESCRIPTION.format(start=end + 1, end=_page_end(total, end), total=total)
        rows.append(Button(f"{MORE_PREFIX}{menu_id}:{end}", texts.WA_MORE, description))
    return WaMessage("list", body, tuple(rows), list_button=shorten(texts.WA_LIST_BUTTON, LIST_BUTTON))


def next_page(menu_id: str, labels: Sequence[str], start: int) -> WaMessage | None:
    """The page of a stored menu that "Lainnya" asks for (served by the channel, not the core)."""
    total = len(labels)
    if not 0 < start < total:
        return None
    body = texts.WA_PAGE.format(start=start + 1, end=_page_end(total, start), total=total)
    tokens = [choice_token(menu_id, i) for i in range(total)]
    return list_page(menu_id, tokens, [neutralise(label) for label in labels], start, body)


def parse_more(row_id: str) -> tuple[str, int] | None:
    """(menu_id, start) from a "Lainnya" row id, or None if it is not a well-formed one."""
    if not row_id.startswith(MORE_PREFIX):
        return None
    m = _MORE_ID.fullmatch(row_id[len(MORE_PREFIX) :])  # ASCII only: int("²") would raise
    if m is None:
        return None
    return m.group(1), int(m.group(2))


def render(out: Outbound) -> list[WaMessage]:
    """An outbound reply as WhatsApp messages: text (split at 4096), a document, then the choices.

    Reply text is plain by contract, so every piece of it is neutralised; only the heading is made bold.
    A document whose reply text merely repeats its caption is sent as the document alone.
    """
    reply = out.reply
    choices = reply.choices if out.menu_id and len(out.choice_tokens) == len(reply.choices) else ()
    full = "" if document_only(reply) else neutralise(reply.text.strip())
    if len(choices) <= MAX_BUTTONS:
        full = f"{full}\n\n{_button_notes(choices)}".strip()
    if reply.heading.strip() and not document_only(reply):
        full = f"*{neutralise(' '.join(reply.heading.split()))}*\n\n{full}".strip()
    parts = split_text(full, TEXT_LIMIT)
    body = ""
    if choices:
        if parts and len(parts[-1]) <= BODY_LIMIT:
            body = parts.pop()
        else:
            body = texts.WA_CHOOSE
    messages = [WaMessage("text", p) for p in parts]
    doc = reply.document
    if doc is not None:
        caption = shorten(neutralise(doc.caption), BODY_LIMIT) if doc.caption else ""
        messages.append(WaMessage("document", caption, document=doc))
    if choices:
        messages.append(_choices(out, body))
    return messages


def _button_notes(choices: Sequence[Choice]) -> str:
    """Reply buttons have no descriptions: the ones that carry information go in the body instead."""
    return "\n".join(f"• {neutralise(c.label)}: {neutralise(c.description)}" for c in choices if c.description.strip())


def _choices(out: Outbound, body: str) -> WaMessage:
    choices = out.reply.choices
    labels = [neutralise(c.label) for c in choices]
    if len(choices) <= MAX_BUTTONS:
        titles = unique_titles(labels, BUTTON_TITLE)
        return WaMessage("buttons", body, tuple(Button(t, title) for t, title in zip(out.choice_tokens, titles)))
    assert out.menu_id is not None
    return list_page(out.menu_id, out.choice_tokens, labels, 0, body, [neutralise(c.description) for c in choices])
