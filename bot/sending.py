"""Sending the outbox: each chat's messages in order, retried with backoff, given up with a reason.

A row is marked "sending" (committed) before the platform is called and deleted once the platform accepted
it. A crash between the two leaves a row whose outcome is unknown: it is sent again after the restart, so that
one message can arrive twice (at most one per chat per crash, as a chat's messages go one at a time), unless
the channel confirms it first (WhatsApp's status webhooks name the message: see bot/whatsapp.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
from typing import TYPE_CHECKING

from bot.channel import Delivery, Outgoing, SendError
from bot.keyed import KeyedQueues
from handlers import texts
from handlers.messages import Outbound, Reply

if TYPE_CHECKING:  # pragma: no cover
    from bot.app import App

log = logging.getLogger(__name__)


def backoff(attempt: int, first: float, cap: float) -> float:
    """Seconds before retry number `attempt` (1, 2, …): doubling from `first` up to `cap`, ±20 % jitter."""
    return min(cap, first * 2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)


class OutboxSender:
    """Sends open outbox rows through their channels."""

    def __init__(self, app: "App"):
        self.app = app
        self.storage = app.storage
        self.cfg = app.config.delivery
        self.queues = KeyedQueues(self._send, self.cfg.senders)
        self._uncertain_until = 0.0  # rows left "sending" by a crash wait for a confirmation until then

    def recover(self) -> None:
        """Queue every open row (at start-up); rows a crash left "sending" may wait for a confirmation."""
        self._uncertain_until = time.time() + self.cfg.confirm_wait_s
        for row_id, chat_key in self.storage.outbox.open_rows():
            self.queues.put(chat_key, row_id)

    def put(self, rows: list[tuple[str, int]]) -> None:
        """Queue rows just committed, as (chat_key, row id)."""
        for chat_key, row_id in rows:
            self.queues.put(chat_key, row_id)

    async def _locked(self, fn, *args):
        async with self.storage.writing():
            return fn(*args)

    def _claim(self, row_id: int):
        """(row, wait): the row to send now, marked "sending" in the same transaction; or a wait in seconds.

        Called under the writer lock. (None, None): nothing to do (sent, confirmed or given up meanwhile).
        """
        row = self.storage.outbox.get(row_id)
        if row is None:
            return None, None
        now = time.time()
        channel = self.app.channels.get(row.channel)
        if row.next_at > now:
            return None, row.next_at - now
        if channel is None:
            return None, self.cfg.retry_max_s  # its channel is not running in this process; keep the row
        if row.state == "sending" and getattr(channel, "confirms_sends", False) and now < self._uncertain_until:
            return None, self._uncertain_until - now  # a crash interrupted it: give the platform's status a chance
        self.storage.outbox.sending(row_id)
        return row, None

    async def _send(self, chat_key: object, row_id: int) -> float | None:
        try:
            row, wait = await self._locked(self._claim, row_id)
        except sqlite3.OperationalError as exc:
            log.error("outbox: cannot record a send (%s); retrying", exc)
            return self.cfg.retry_first_s
        if row is None:
            return wait
        channel = self.app.channels[row.channel]
        try:
            await channel.send(Outgoing(row.body["msg"], row.blob), row.send_key)
        except SendError as exc:
            return await self._failed(row, channel, exc)
        except Exception as exc:  # an unexpected error: retried like a network error
            log.warning("%s: send failed unexpectedly (%s); retrying", row.channel, type(exc).__name__)
            return await self._failed(row, channel, SendError(type(exc).__name__))
        await self._settle(self.storage.outbox.sent, row_id)
        return None

    async def _settle(self, fn, *args) -> None:
        """Record an outcome; the platform has it, so never give up (a lost record would send it again)."""
        delay = self.cfg.retry_first_s
        while True:
            try:
                await self._locked(fn, *args)
                return
            except sqlite3.OperationalError as exc:
                log.error("outbox: cannot record a sent message (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.cfg.retry_max_s)

    async def _failed(self, row, channel, exc: SendError) -> float | None:
        age = time.time() - row.created_at
        if not exc.permanent and age < self.cfg.give_up_after_s:
            delay = exc.retry_after if exc.retry_after is not None else backoff(row.attempts + 1, self.cfg.retry_first_s,
                                                                                 self.cfg.retry_max_s)  # fmt: skip
            log.warning("%s: send failed (%s); retry %d in %.1f s", row.channel, exc.reason, row.attempts + 1, delay)
            await self._settle(self.storage.outbox.retry, row.id, time.time() + delay, exc.reason)
            return delay
        reason = exc.reason if exc.permanent else f"gave up after {age:.0f} s: {exc.reason}"
        log.error("%s: message given up: %s", row.channel, reason)

        def give_up() -> list[tuple[str, int]]:
            self.storage.outbox.fail(row.id, reason)
            if exc.blocked:
                self.storage.set_chat_active(row.chat_key, False)
                return []
            if row.body.get("apology") or not exc.permanent:
                return []
            return self._queue_apology(row, channel)

        queued = []
        delay = self.cfg.retry_first_s
        while True:
            try:
                async with self.storage.writing():
                    queued = give_up()
                break
            except sqlite3.OperationalError as exc2:
                log.error("outbox: cannot record a failure (%s); retrying", exc2)
                await asyncio.sleep(delay)
        self.put(queued)
        return None

    def _queue_apology(self, row, channel) -> list[tuple[str, int]]:
        """The short apology in place of a message the platform refused for good (caller holds the lock)."""
        delivery = Delivery("", _inbound_of(row.chat_key), row.body.get("to") or {})
        queued = []
        for i, out in enumerate(channel.render([Outbound(Reply(texts.ERROR))], delivery)):
            body = {"to": delivery.reply_to, "msg": out.body, "apology": True}
            new = self.storage.outbox.add(f"{row.send_key}.sorry{i}", row.channel, row.chat_key, body, out.blob)
            if new is not None:
                queued.append((row.chat_key, new))
        return queued


def _inbound_of(chat_key: str):
    from handlers.messages import Inbound

    channel, _, chat_id = chat_key.partition(":")
    return Inbound(channel, chat_id)
