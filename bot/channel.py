"""The channel contract: what every channel (Telegram, WhatsApp, a web widget, SMS …) implements.

A channel is a parser, a renderer and a sender with a lifecycle; the core (bot/pipeline.py) owns the rest:
deduplication, storing before acknowledging, per-chat order, paging of stored menus, retries.

- parse: a platform update → `Delivery` items (or none). Each carries the platform's own id for
  deduplication, the core's `Inbound`, and `reply_to`: where and how replies go (JSON-able, opaque to the core).
- render: the core's replies to one delivery → `Outgoing` platform messages within the channel's limits,
  JSON-able (plus a file's bytes), so they can wait in the outbox across a crash.
- send: one `Outgoing`; raises `SendError` saying whether to retry (and when) or give up (and why).
- lifecycle: `routes()` for a webhook, `start()` and `stop()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence

from handlers.messages import Inbound, Outbound


@dataclass(frozen=True)
class Delivery:
    """One message a channel received, as stored in the inbox."""

    platform_id: str  # unique within the channel: "wamid:…", "telegram:<bot id>:<update id>"
    inbound: Inbound
    reply_to: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The inbox payload."""
        return {"inbound": asdict(self.inbound), "reply_to": self.reply_to}

    @classmethod
    def from_json(cls, platform_id: str, data: dict[str, Any]) -> "Delivery":
        """A delivery read back from the inbox."""
        return cls(platform_id, Inbound(**data["inbound"]), data.get("reply_to") or {})


@dataclass(frozen=True)
class Outgoing:
    """One platform message: a JSON-able body (with its address) and, for a document, the file's bytes."""

    body: dict[str, Any]
    blob: bytes | None = None


class SendError(Exception):
    """A send failed: retry (after `retry_after` seconds if the platform said so) or, if permanent, give up."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None,
                 blocked: bool = False):  # fmt: skip
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent or blocked
        self.retry_after = retry_after
        self.blocked = blocked  # the user blocked the bot: the chat is marked inactive


class Channel(Protocol):
    """What the core needs from a channel."""

    name: str

    def render(self, outs: Sequence[Outbound], delivery: Delivery) -> list[Outgoing]:
        """The replies to one delivery as platform messages (called inside the message's transaction)."""
        ...

    async def send(self, out: Outgoing, send_key: str) -> None:
        """Send one message; raise SendError on failure. `send_key` is unique per message, stable across retries."""
        ...

    def routes(self) -> Sequence[Any]:
        """Webhook routes for the web app (none for a polling channel)."""
        ...

    async def start(self) -> None:
        """Open clients, register webhooks."""
        ...

    async def stop(self) -> None:
        """Close clients."""
        ...
