"""Reading WhatsApp Cloud API webhook payloads: messages in both shapes (with and without the BSUID)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Message types ignored silently; any other non-text type is answered with "only text is understood".
IGNORED_TYPES = {"reaction"}


@dataclass(frozen=True)
class Incoming:
    """One user message from a webhook, reduced to what the bot needs (never logged with its text)."""

    message_id: str
    phone_id: str  # the business phone number id it was sent to
    user_id: str | None  # the business-scoped user id (BSUID), when the webhook carries one
    wa_id: str | None  # the phone-number id; absent for users with a username and no recent contact
    timestamp: float | None
    type: str
    text: str = ""
    reply_id: str | None = None  # the id of a tapped reply button or list row

    @property
    def address(self) -> str:
        """Where replies go: the wa_id when known (every API version accepts it), else the BSUID."""
        return self.wa_id or self.user_id or ""


@dataclass
class ParsedUpdate:
    """Everything one webhook delivery carried."""

    messages: list[Incoming] = field(default_factory=list)
    statuses: int = 0
    trackers: list[str] = field(default_factory=list)  # our send keys named by status updates (sent, delivered …)


def parse_update(payload: Any) -> ParsedUpdate | None:
    """Read a webhook body; None if it is not a WhatsApp Business Account update at all."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return None
    result = ParsedUpdate()
    for entry in payload["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                log.error("whatsapp: a messages change without a value object was ignored")
                continue
            statuses = value.get("statuses")
            if isinstance(statuses, list):
                result.statuses += len(statuses)
                result.trackers += _trackers(statuses)
            _read_messages(value, result)
    return result


def _trackers(statuses: list) -> list[str]:
    """The biz_opaque_callback_data of statuses that say a message reached Meta (any status but "failed")."""
    found = []
    for st in statuses:
        if isinstance(st, dict) and st.get("status") in ("sent", "delivered", "read"):
            tracker = st.get("biz_opaque_callback_data")
            if isinstance(tracker, str) and tracker.isprintable() and len(tracker) <= 512:
                found.append(tracker)
    return found


def _read_messages(value: dict, result: ParsedUpdate) -> None:
    metadata, contacts, messages = (value.get(k) for k in ("metadata", "contacts", "messages"))
    phone_id = str(metadata.get("phone_number_id") or "") if isinstance(metadata, dict) else ""
    contacts = [c for c in contacts if isinstance(c, dict)] if isinstance(contacts, list) else []
    if messages and not isinstance(messages, list):
        log.error("whatsapp: a messages change whose messages are not a list was ignored")
        messages = []
    for msg in messages or ():
        try:
            result.messages.append(_incoming(msg, phone_id, contacts))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            kind = msg.get("type") if isinstance(msg, dict) else type(msg).__name__
            keys = sorted(msg) if isinstance(msg, dict) else []
            log.error("whatsapp: could not read a message (type=%s, keys=%s): %r", kind, keys, exc)


def _contact_for(msg: dict, contacts: list[dict]) -> dict:
    """The contacts[] entry of the message's sender (matched by BSUID or wa_id, else the only one)."""
    for c in contacts:
        if msg.get("from_user_id") and c.get("user_id") == msg.get("from_user_id"):
            return c
        if msg.get("from") and c.get("wa_id") == msg.get("from"):
            return c
    return contacts[0] if len(contacts) == 1 else {}


def _incoming(msg: Any, phone_id: str, contacts: list[dict]) -> Incoming:
    if not isinstance(msg, dict):
        raise TypeError("message is not an object")
    contact = _contact_for(msg, contacts)
    user_id = msg.get("from_user_id") or contact.get("user_id") or None
    wa_id = msg.get("from") or contact.get("wa_id") or None
    message_id = msg["id"]
    if not isinstance(message_id, str) or not message_id:
        raise ValueError("message id missing")
    if not (user_id or wa_id):
        raise ValueError("no sender id (neither from/wa_id nor user_id)")
    for ident in (message_id, user_id, wa_id):  # control characters or lone surrogates: not a real id
        if ident is not None and not str(ident).isprintable():
            raise ValueError("an id is not valid text")
    kind = str(msg["type"])
    text, reply_id = "", None
    if kind == "text":
        text = str((msg.get("text") or {}).get("body") or "")
    elif kind == "interactive":
        inter = msg["interactive"]
        sub = inter.get("type")
        if sub in ("button_reply", "list_reply"):
            reply_id = str(inter[sub]["id"])
        else:
            kind = f"interactive:{sub}"
    elif kind == "button":  # a quick-reply button of a template: its text is what the user "said"
        kind, text = "text", str((msg.get("button") or {}).get("text") or "")
    try:
        timestamp: float | None = float(msg.get("timestamp"))
    except (TypeError, ValueError):
        timestamp = None
    return Incoming(message_id, phone_id, str(user_id) if user_id else None, str(wa_id) if wa_id else None,
                    timestamp, kind, text, reply_id)  # fmt: skip
