"""Per-key queues: items of one key run strictly in order, keys run side by side up to a limit."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)

# handle(key, item) → None when the item is finished, or seconds to wait before trying the same item again
Handler = Callable[[Hashable, int], Awaitable[float | None]]


class KeyedQueues:
    """One worker per key at a time (items in the order they were put), at most `limit` keys at once."""

    def __init__(self, handle: Handler, limit: int):
        self._handle = handle
        self._limit = asyncio.Semaphore(limit)
        self._queues: dict[Hashable, deque[int]] = {}
        self._running: set[Hashable] = set()
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    def put(self, key: Hashable, item: int) -> None:
        """Queue an item after the key's earlier ones."""
        self._queues.setdefault(key, deque()).append(item)
        self._idle.clear()
        self._wake(key)

    def _wake(self, key: Hashable) -> None:
        if self._closed or key in self._running or key in self._timers or not self._queues.get(key):
            return
        self._running.add(key)
        task = asyncio.get_running_loop().create_task(self._drain(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            async with self._limit:
                while queue and not self._closed:
                    try:
                        wait = await self._handle(key, queue[0])
                    except Exception:  # a bug in the handler: log it, keep the item, try again later
                        log.exception("queue worker failed; trying again in 5 s")
                        wait = 5.0
                    if wait is not None:
                        self._timers[key] = asyncio.get_running_loop().call_later(wait, self._retry, key)
                        return
                    queue.popleft()
        finally:
            self._running.discard(key)
            if not queue and key not in self._timers:
                self._queues.pop(key, None)
            self._check_idle()

    def _retry(self, key: Hashable) -> None:
        self._timers.pop(key, None)
        self._wake(key)

    def _check_idle(self) -> None:
        if not self._queues:
            self._idle.set()

    def pending(self) -> int:
        """Items queued (including the ones being handled)."""
        return sum(len(q) for q in self._queues.values())

    async def idle(self) -> None:
        """Wait until every queue is empty."""
        await self._idle.wait()

    def reopen(self) -> None:
        """Take items again after close() (a pipeline started anew)."""
        self._closed = False

    async def close(self, grace: float = 5.0) -> None:
        """Stop taking items; let running handlers finish (up to `grace` seconds), then cancel them."""
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in late:
                task.cancel()
