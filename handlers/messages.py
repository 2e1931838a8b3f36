"""The one inbound and one outbound type shared by every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "choice", "unsupported", "page"]


@dataclass(frozen=True)
class Inbound:
    """One user message: typed text, a tapped button (its callback token), or something else."""

    channel: str  # "console" | "telegram" | "whatsapp" | "test"
    chat_id: str  # channel-local chat id (the storage key is "channel:chat_id")
    text: str = ""  # typed text, or "" for a button tap / unsupported content
    choice: str | None = None  # the token of a tapped button (see Outbound.choice_tokens)
    kind: Kind = "text"
    what: str = ""  # for kind="unsupported": "sticker", "photo", "voice", …
    page: int = 0  # for kind="page": the first choice to show of the stored menu `choice` (a long list's next page)

    @property
    def chat_key(self) -> str:
        """The storage key of this chat: channel and id together, so channels never collide."""
        return f"{self.channel}:{self.chat_id}"


@dataclass(frozen=True)
class Choice:
    """A button: a label for people, a payload for the router (never shown to users)."""

    label: str
    payload: str
    description: str = ""  # optional longer text (WhatsApp list rows)


@dataclass(frozen=True)
class Document:
    """A file to deliver (e.g. a .docx draft)."""

    filename: str
    data: bytes
    mime: str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    """What a handler returns: text (plain, never markup), optional bold heading, choices, a document."""

    text: str
    heading: str = ""
    choices: tuple[Choice, ...] = ()
    document: Document | None = None
    # True when this reply asks the user to type free text (a proposal's text step, its name): channels
    # open a reply field for it (Telegram ForceReply in groups) instead of guessing from storage.
    expects_text: bool = False


@dataclass(frozen=True)
class Outbound:
    """A reply ready for a channel: the menu id its buttons belong to and a token per button."""

    reply: Reply
    menu_id: str | None = None
    choice_tokens: tuple[str, ...] = field(default=())
    page_start: int = 0  # a later page of a long menu: the index of its first choice (channels page long lists)

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def choices(self) -> tuple[Choice, ...]:
        return self.reply.choices


def document_only(reply: Reply) -> bool:
    """A document whose reply text only repeats its caption (or is empty): channels send the document alone."""
    doc = reply.document
    return doc is not None and not reply.heading and reply.text.strip() in ("", doc.caption.strip())
