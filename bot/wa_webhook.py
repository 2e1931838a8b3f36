"""Reading WhatsApp Cloud API webhook payloads: messages in both shapes (with and without the BSUID).

Each user message becomes an `Incoming`; notices that are not messages (reactions, a deleted or edited message,
system messages) are counted and never answered, except that a system message saying the user's number or
business-scoped id changed becomes an `IdentityChange` (the chat moves to the new id). Ids are checked for type
and shape: a value that is not what Meta sends is never turned into a chat key or a send address.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Notices in `messages[]` that are not something the user said to the bot: never answered (logged at DEBUG).
# "system" messages carry identity changes (read below); "reaction", "revoke" (a deleted message) and "edit"
# refer to an earlier message.
IGNORED_TYPES = {"reaction", "revoke", "edit", "system"}
WELCOME = "request_welcome"  # a user opened the chat for the first time: answered with the welcome and menu

_WA_ID = re.compile(r"[0-9]{1,20}")  # a phone-number id: digits only
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,159}")  # a BSUID such as "US.13491208655302741918"
_MAX_ID = 512
_FIRST_VALID_TIME = 1_000_000_000.0  # 2001-09-09: anything earlier is not a WhatsApp message time


@dataclass(frozen=True)
class Incoming:
    """One user message from a webhook, reduced to what the bot needs (never logged with its text)."""

    message_id: str
    phone_id: str  # the business phone number id it was sent to
    user_id: str | None  # the business-scoped user id (BSUID), when the webhook carries one
    wa_id: str | None  # the phone-number id; absent for users with a username and no recent contact
    timestamp: float | None  # None when absent or not a real time (the receipt time is used instead)
    type: str
    text: str = ""
    reply_id: str | None = None  # the id of a tapped reply button or list row

    @property
    def address(self) -> str:
        """Where replies go: the wa_id when known (every API version accepts it), else the BSUID."""
        return self.wa_id or self.user_id or ""


@dataclass(frozen=True)
class IdentityChange:
    """A system message: the user's number or business-scoped id changed, so their chat moves to the new one."""

    old_wa_id: str | None
    old_user_id: str | None
    new_wa_id: str | None
    new_user_id: str | None


@dataclass
class ParsedUpdate:
    """Everything one webhook delivery carried."""

    messages: list[Incoming] = field(default_factory=list)
    statuses: int = 0
    trackers: list[str] = field(default_factory=list)  # our send keys named by status updates (sent, delivered …)
    changes: list[IdentityChange] = field(default_factory=list)
    ignored: int = 0  # notices that are not messages


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
            _log_errors(value.get("errors"))
            _read_messages(value, result)
    return result


def _log_errors(errors: Any) -> None:
    """Meta's own errors about a delivery (e.g. 131000 "Unsupported webhook payload"), by code only."""
    if isinstance(errors, list) and errors:
        codes = [e.get("code") for e in errors if isinstance(e, dict) and isinstance(e.get("code"), int)]
        log.warning("whatsapp: Meta reported error code(s) %s with a delivery", codes or "?")


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
        kind = msg.get("type") if isinstance(msg, dict) else type(msg).__name__
        try:
            if kind in IGNORED_TYPES:
                result.ignored += 1
                change = _identity_change(msg) if kind == "system" else None
                if change is not None:
                    result.changes.append(change)
                log.debug("whatsapp: a %s notice was not answered", kind)
                continue
            result.messages.append(_incoming(msg, phone_id, contacts))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            keys = sorted(msg) if isinstance(msg, dict) else []
            log.error("whatsapp: could not read a message (type=%s, keys=%s): %r", str(kind)[:40], keys[:20], exc)


# -- ids --------------------------------------------------------------------------------------
def wa_id_of(value: Any) -> str | None:
    """A phone-number id (digits, as Meta sends it), None if absent; ValueError for anything else."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _WA_ID.fullmatch(value):
        raise ValueError(f"a phone-number id that is not a string of digits ({type(value).__name__})")
    return value


def user_id_of(value: Any) -> str | None:
    """A business-scoped user id, None if absent; ValueError for anything that is not one."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _USER_ID.fullmatch(value):
        raise ValueError(f"a business-scoped user id of the wrong shape ({type(value).__name__})")
    return value


def chat_id_for(user_id: str | None, wa_id: str | None, hash_id) -> str:
    """A WhatsApp chat's id: the BSUID when known, else "wa-" and a salted hash of the wa_id (`hash_id`)."""
    if user_id:
        return user_id
    return "wa-" + hash_id(f"wa_id:{wa_id}")[:24]


def timestamp_of(value: Any) -> float | None:
    """A message time in Unix seconds, or None when absent or not a real time ("nan", "-1", "inf", a date)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= _FIRST_VALID_TIME else None


def _contact_for(msg: dict, contacts: list[dict]) -> dict:
    """The contacts[] entry of the message's sender: matched by BSUID or wa_id, else the only entry when it
    does not contradict the message (a contact naming someone else is never used)."""
    wa_id, user_id = msg.get("from"), msg.get("from_user_id")
    for c in contacts:
        if user_id and c.get("user_id") == user_id:
            return c
        if wa_id and c.get("wa_id") == wa_id:
            return c
    if len(contacts) == 1:
        c = contacts[0]
        contradicts = (wa_id and c.get("wa_id") and c.get("wa_id") != wa_id) or (
            user_id and c.get("user_id") and c.get("user_id") != user_id)  # fmt: skip
        if not contradicts:
            return c
        log.warning("whatsapp: a message's only contact names another user; it was not used")
    return {}


def _identity_change(msg: Any) -> IdentityChange | None:
    """The identity change a system message reports (user_changed_number, user_changed_user_id), if any."""
    system = msg.get("system") if isinstance(msg, dict) else None
    if not isinstance(system, dict):
        return None
    kind = system.get("type")
    old_wa = wa_id_of(msg.get("from"))
    old_user = user_id_of(system.get("previous_user_id") or msg.get("from_user_id"))
    if kind == "user_changed_number":  # Meta's reference names the new number "wa_id"; older payloads "new_wa_id"
        new_wa = wa_id_of(system.get("wa_id") or system.get("new_wa_id"))
        new_user = user_id_of(system.get("user_id"))
    elif kind == "user_changed_user_id":
        new_wa, new_user = None, user_id_of(system.get("user_id"))
    else:  # customer_identity_changed and the like: nothing to move
        return None
    if not (new_wa or new_user) or not (old_wa or old_user):
        return None
    return IdentityChange(old_wa, old_user, new_wa, new_user)


def _text_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_ID or not value.isprintable():
        raise ValueError(f"{what} missing or not valid text")
    return value


def _incoming(msg: Any, phone_id: str, contacts: list[dict]) -> Incoming:
    if not isinstance(msg, dict):
        raise TypeError("message is not an object")
    contact = _contact_for(msg, contacts)
    user_id = user_id_of(msg.get("from_user_id")) or user_id_of(contact.get("user_id"))
    wa_id = wa_id_of(msg.get("from")) or wa_id_of(contact.get("wa_id"))
    message_id = _text_id(msg.get("id"), "message id")
    if not (user_id or wa_id):
        raise ValueError("no sender id (neither from/wa_id nor user_id)")
    kind = msg.get("type")
    if not isinstance(kind, str) or not kind.isprintable() or len(kind) > 40:
        raise ValueError("message type missing or not valid text")
    text, reply_id = "", None
    if kind == "text":
        body = (msg.get("text") or {}).get("body")
        text = body if isinstance(body, str) else ""
    elif kind == "interactive":
        inter = msg.get("interactive")
        sub = inter.get("type") if isinstance(inter, dict) else None
        if sub in ("button_reply", "list_reply") and isinstance(inter.get(sub), dict):
            value = inter[sub].get("id")  # any text: the core answers an unknown or forged id "kedaluwarsa"
            reply_id = value if isinstance(value, str) else ""
        else:  # e.g. Meta's "Unsupported webhook payload" (errors, no interactive object): only text is understood
            kind = f"interactive:{sub if isinstance(sub, str) else 'unreadable'}"[:40]
    elif kind == "button":  # a quick-reply button of a template: its text is what the user "said"
        button_text = (msg.get("button") or {}).get("text")
        kind, text = "text", button_text if isinstance(button_text, str) else ""
    return Incoming(message_id, phone_id, user_id, wa_id, timestamp_of(msg.get("timestamp")), kind, text, reply_id)
