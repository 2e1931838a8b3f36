"""The delivery core: store each delivery before acknowledging it, handle it once, send its replies.

1. `accept` writes deliveries to the inbox (dedupe key + message, one transaction) before the channel
   answers the platform; a storage failure raises, so the channel answers 5xx and nothing is marked seen.
2. One worker handles inbox rows in their order (so each chat's messages in order). A message's effects
   (proposal state, chat mode, menus, question log), its outbox rows and its inbox "done" mark are one
   transaction, taken under the writer lock: no other task writes while it is open, even when the handler
   awaits a worker thread. A storage failure rolls it back whole and the row is tried again later.
3. The sender (bot/sending.py) sends the outbox, each chat in order, with retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sqlite3
import time
from collections import deque
from typing import TYPE_CHECKING, Callable, Sequence

from bot.channel import Delivery
from bot.sending import OutboxSender, backoff
from handlers import texts
from handlers.messages import Outbound, Reply

if TYPE_CHECKING:  # pragma: no cover
    from bot.app import App

log = logging.getLogger(__name__)

POISON_AFTER = 3  # restarts during one message's handling before it is given up (it may be what kills us)
PRUNE_EVERY = 500  # new deliveries between two prunings of old inbox rows


class Pipeline:
    """Inbox → handler → outbox → sender, for every channel of one app."""

    def __init__(self, app: "App"):
        self.app = app
        self.storage = app.storage
        self.sender = OutboxSender(app)
        self._queue: deque[int] = deque()
        self._recovered: set[int] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task | None = None
        self._in_hand: asyncio.Task | None = None  # the message being handled (a stop waits for it)
        self._accepted = 0

    # -- receiving ----------------------------------------------------------------------------
    async def accept(self, deliveries: Sequence[Delivery], also: Callable[[], None] | None = None,
                     seen: Sequence[Delivery] = ()) -> int:  # fmt: skip
        """Store deliveries (redeliveries are skipped) and `also()`'s writes in one transaction; return how many were new.

        `seen`: deliveries to remember (so a redelivery is skipped) but not to answer, e.g. the rest of an album.
        Raises sqlite3.Error when the database cannot store them: the channel must then answer 5xx.
        """
        new: list[int] = []
        async with self.storage.writing():
            for d in deliveries:
                row_id = self.storage.inbox.add(d.inbound.channel, d.platform_id, d.inbound.chat_key, d.to_json())
                if row_id is None:
                    log.debug("%s: redelivery skipped", d.inbound.channel)
                else:
                    new.append(row_id)
            for d in seen:
                self.storage.inbox.add(d.inbound.channel, d.platform_id, None, None, done=True)
            if also is not None:
                also()
        self._accepted += len(new)
        if new and self._accepted % PRUNE_EVERY < len(new):
            await self.prune()
        self._queue.extend(new)
        if new:
            self._idle.clear()
            self._wake.set()
        return len(new)

    async def prune(self) -> None:
        """Forget handled deliveries and failed replies older than the configured days."""
        older = time.time() - self.app.config.delivery.seen_kept_days * 86400
        try:
            async with self.storage.writing():
                self.storage.inbox.prune(older)
                self.storage.outbox.prune(older)
        except sqlite3.OperationalError as exc:
            log.warning("pruning old inbox rows failed: %s", exc)

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Queue what a previous run left unfinished (inbox and outbox) and start working."""
        if self._task is not None:
            return
        await self.prune()
        self.sender.queues.reopen()
        async with self.storage.writing():
            pending = self.storage.inbox.pending()
            self.sender.recover()
        if pending:
            log.info("resuming %d unhandled deliveries", len(pending))
        self._recovered = {row_id for row_id, _ in pending}
        self._queue.extend(row_id for row_id, _ in pending)  # rows of a channel not running here wait (see _handle)
        if self._queue:
            self._idle.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the message being handled, give sends in flight `grace` seconds, then stop."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._in_hand is not None and not self._in_hand.done():
            await asyncio.wait({self._in_hand}, timeout=grace)
        await self.sender.queues.close(grace)

    async def idle(self) -> None:
        """Wait until every accepted delivery is handled and every reply sent (or given up)."""
        while True:
            await self._idle.wait()
            await self.sender.queues.idle()
            if self._idle.is_set() and not self._queue:
                return

    # -- handling -----------------------------------------------------------------------------
    async def _run(self) -> None:
        failures = 0
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            row_id = self._queue[0]
            self._in_hand = asyncio.ensure_future(self._handle(row_id))
            try:
                await asyncio.shield(self._in_hand)  # a stop waits for the message in hand (see stop)
            except sqlite3.OperationalError as exc:  # the database cannot store the outcome: try again later
                failures += 1
                delay = backoff(failures, self.app.config.delivery.retry_first_s, 30.0)
                log.error("handling a delivery failed to store (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                continue
            except Exception:  # a bug outside the handlers (e.g. a renderer): never stop the queue for it
                log.exception("a delivery could not be handled; it is set aside")
                await self._set_aside(row_id)
            failures = 0
            self._queue.popleft()

    async def _set_aside(self, row_id: int) -> None:
        """Mark a delivery done without replies (after an unexpected error, logged), so the others go on."""
        try:
            async with self.storage.writing():
                self.storage.inbox.finish(row_id)
        except sqlite3.Error as exc:
            log.error("could not set a delivery aside (%s)", exc)

    async def _handle(self, row_id: int) -> None:
        storage = self.storage
        queued: list[tuple[str, int]] = []
        async with storage.database.lock:
            row = storage.inbox.get(row_id)
            if row is None:
                return
            channel = self.app.channels.get(row.channel)
            if channel is None:  # its channel does not run in this process: it waits for a process that has it
                log.warning("a %s delivery waits: that channel is not running here", row.channel)
                return
            if row_id in self._recovered:  # handled when a previous run died: count it, once per run
                self._recovered.discard(row_id)
                with storage.transaction():
                    attempts = storage.inbox.attempt(row_id)
                poisoned = attempts > POISON_AFTER
            else:
                poisoned = False
            delivery = Delivery.from_json("", row.payload)
            chat_key = storage.chats.resolve(delivery.inbound.chat_key)
            if chat_key != delivery.inbound.chat_key:  # the chat moved (e.g. a supergroup) after this was stored
                inbound = dataclasses.replace(delivery.inbound, chat_id=chat_key.partition(":")[2])
                delivery = Delivery(delivery.platform_id, inbound, delivery.reply_to)

            def then(outs: list[Outbound]) -> None:
                queued.clear()
                for i, out in enumerate(channel.render(outs, delivery)):
                    body = {"to": delivery.reply_to, "msg": out.body}
                    new = storage.outbox.add(f"{row_id}.{i}", channel.name, delivery.inbound.chat_key, body, out.blob)
                    if new is not None:
                        queued.append((delivery.inbound.chat_key, new))
                storage.inbox.finish(row_id)

            if poisoned:
                log.error("a delivery was in hand at %d crashes; it gets the apology instead", attempts - 1)
                with storage.transaction():
                    then([Outbound(Reply(texts.ERROR))])
            else:
                working = getattr(channel, "working", None)  # e.g. Telegram's "typing…" while it takes long
                async with working(delivery) if working is not None else contextlib.nullcontext():
                    await self.app.handle_locked(delivery.inbound, then)
        self.sender.put(queued)
