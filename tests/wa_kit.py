"""Test kit for the WhatsApp channel: recorded payloads, real signatures, a user who writes and taps."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import itertools
import json
import time
from pathlib import Path

import httpx

from tests.fake_graph import FakeGraph, choice_rows, message_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "whatsapp"
PHONE_ID = "1122334455667"  # the phone_number_id in the fixtures
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
TOKEN = "test-access-token"
ENV = {
    "WHATSAPP_TOKEN": TOKEN,
    "WHATSAPP_PHONE_ID": PHONE_ID,
    "WHATSAPP_APP_SECRET": APP_SECRET,
    "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
}
_ids = itertools.count(1)


def fixture(name: str) -> dict:
    """A recorded webhook payload from tests/fixtures/whatsapp (e.g. "text_new")."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    """The X-Hub-Signature-256 header Meta sends: HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def the_message(payload: dict) -> dict:
    return payload["entry"][0]["changes"][0]["value"]["messages"][0]


def fresh(name: str, *, text: str | None = None, reply_id: str | None = None, age: float = 0.0,
          wa_id: str | None = None) -> dict:  # fmt: skip
    """A recorded payload with a new message id, a current timestamp (minus `age` s), and new content.

    `wa_id`: another sender (the fixtures all come from one person, with or without a business-scoped id).
    """
    payload = copy.deepcopy(fixture(name))
    msg = the_message(payload)
    msg["id"] = f"wamid.TEST{next(_ids):06d}"
    msg["timestamp"] = str(int(time.time() - age))
    if text is not None:
        msg["text"]["body"] = text
    if reply_id is not None:
        inter = msg["interactive"]
        inter[inter["type"]]["id"] = reply_id
    if wa_id is not None:
        msg["from"] = wa_id
        value = payload["entry"][0]["changes"][0]["value"]
        for contact in value.get("contacts", []):
            contact["wa_id"] = wa_id
            if "user_id" in contact:
                contact["user_id"] = msg["from_user_id"] = f"ID.{wa_id}"
    return payload


async def post(client: httpx.AsyncClient, payload: dict | bytes, signature: str | None = "sign",
               content_type: str = "application/json") -> httpx.Response:  # fmt: skip
    """POST a delivery to the webhook; signature "sign" signs it properly, None sends no header."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"content-type": content_type}
    if signature is not None:
        headers["x-hub-signature-256"] = sign(body) if signature == "sign" else signature
    return await client.post("/webhook/whatsapp", content=body, headers=headers)


class WaUser:
    """A WhatsApp user: writes text, taps buttons and list rows; reads what the bot sent back."""

    def __init__(self, client: httpx.AsyncClient, graph: FakeGraph, shape: str = "new", wa_id: str | None = None):
        self.client = client
        self.graph = graph
        self.shape = shape
        self.wa_id = wa_id  # None: the fixtures' own sender
        self.last: list[dict] = []
        self.last_delivery_kind = ""  # "text", "button_reply" or "list_reply"

    async def _deliver(self, payload: dict) -> list[dict]:
        before = len(self.graph.sent())
        r = await post(self.client, payload)
        assert r.status_code == 200, r.text
        self.last = self.graph.sent()[before:]
        return self.last

    async def send(self, text: str) -> list[dict]:
        self.last_delivery_kind = "text"
        return await self._deliver(fresh(f"text_{self.shape}", text=text, wa_id=self.wa_id))

    async def tap(self, title_part: str) -> list[dict]:
        """Tap the button or list row (of the latest interactive message) whose title contains this."""
        for body in reversed(self.last):
            for row in choice_rows(body):
                if title_part in row["title"] or title_part in row.get("description", ""):
                    kind = "button_reply" if body["interactive"]["type"] == "button" else "list_reply"
                    self.last_delivery_kind = kind
                    return await self._deliver(fresh(f"{kind}_{self.shape}", reply_id=row["id"], wa_id=self.wa_id))
        raise AssertionError(f"no choice {title_part!r} in {self.rows}")

    @property
    def text(self) -> str:
        return "\n".join(message_text(b) for b in self.last)

    @property
    def rows(self) -> list[dict]:
        return [row for b in self.last for row in choice_rows(b)]


class SettledTransport(httpx.ASGITransport):
    """An in-process transport whose requests return only when the app has handled and sent everything."""

    def __init__(self, web, app):
        super().__init__(app=web)
        self.bot_app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        await self.bot_app.pipeline.idle()
        return response


def add_whatsapp(app, graph_url: str):
    """Give an app the WhatsApp channel with the test settings, talking to the fake Graph API at graph_url."""
    from bot.settings import WhatsAppSettings
    from bot.whatsapp import WhatsAppChannel

    channel = WhatsAppChannel(app, WhatsAppSettings(TOKEN, PHONE_ID, APP_SECRET, VERIFY_TOKEN, graph_url))
    app.channels["whatsapp"] = channel
    return channel


@contextlib.asynccontextmanager
async def serving(app, base_url: str = "http://testserver"):
    """The app's web app started (channels and pipeline) and an in-process client for it."""
    from bot.web import build_web_app

    web = build_web_app(app)
    async with web.router.lifespan_context(web):
        async with httpx.AsyncClient(transport=SettledTransport(web, app), base_url=base_url) as client:
            yield client
