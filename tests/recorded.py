"""Payloads written by others (other libraries' fixtures, platform documentation, real captures), each with its source.

tests/fixtures/<platform>/external/<name>.json holds {"source": where it comes from, "adapted": what was changed
(if anything), "payload": the update as the platform sends it}.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_ids = itertools.count(1)


def recorded(platform: str, name: str) -> dict[str, Any]:
    """The payload of tests/fixtures/<platform>/external/<name>.json (a fresh copy)."""
    doc = json.loads((FIXTURES / platform / "external" / f"{name}.json").read_text(encoding="utf-8"))
    assert doc.get("source"), f"{platform}/{name}: a recorded payload must say where it comes from"
    return copy.deepcopy(doc["payload"])


def wa_value(payload: dict) -> dict:
    """The `value` of a WhatsApp webhook payload's first change."""
    return payload["entry"][0]["changes"][0]["value"]


def wa_message(payload: dict) -> dict:
    """The first message of a WhatsApp webhook payload."""
    return wa_value(payload)["messages"][0]


def wa_recorded(name: str, *, text: str | None = None, sender: str | None = None, **fields: Any) -> dict:
    """A recorded WhatsApp payload with a new message id (so it is not a redelivery), and optionally new text,
    another sender (`from` and the contact's wa_id), or other message fields (e.g. timestamp)."""
    payload = recorded("whatsapp", name)
    msg = wa_message(payload)
    msg["id"] = f"wamid.REC{next(_ids):06d}"
    if text is not None:
        msg["text"]["body"] = text
    if sender is not None:
        msg["from"] = sender
        for contact in wa_value(payload).get("contacts", []):
            contact["wa_id"] = sender
    msg.update(fields)
    return payload
