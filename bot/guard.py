"""The app's own HTTP server against slow and excessive clients: request deadlines, a connection cap, quiet logs.

uvicorn has no timeout for a request whose headers or body never finish (slowloris): each such connection holds
a file descriptor until the process runs out of them, and asyncio then logs a traceback for every refused
accept(). `GuardedH11` (uvicorn's h11 protocol, with three additions) prevents that:

- a deadline for each request's headers (`header_timeout_s`, from its first byte, or from the connection's
  start) and another for its body (`body_timeout_s`, from the end of the headers); a request still unfinished
  then is cut off (the connection is closed);
- at most `max_connections` connections (lowered to what the open-file limit holds: fit_to_file_limit). At the
  cap, a new connection pushes out the oldest one that has been sending its request for more than EVICT_AFTER
  seconds (so slow clients cannot lock out the platforms, and a request just arriving is never pushed out by a
  burst behind it); when there is none, the new one is closed;
- the closings are counted and logged at most once a minute, and `QuietRepeats` keeps the same warning from
  asyncio or uvicorn from filling the log (the first few a minute pass, then one line says how many were left out).

This lives at the HTTP layer because the ASGI app only sees a request once its headers are complete. Behind a
reverse proxy, set the same limits there too (README: "Keandalan dan keamanan").
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import resource
import time
from dataclasses import dataclass

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

BACKLOG = 64  # the listen queue; asyncio also accepts up to this many connections at a time, before any is checked
# Descriptors kept apart from the capped connections: the database, API clients and logs, plus two batches of
# connections asyncio has accepted but the cap has not closed yet.
RESERVED_FILES = 64 + 2 * BACKLOG
REPORT_EVERY = 60.0  # seconds between two reports of connections cut off
EVICT_AFTER = 0.5  # seconds a request must have been arriving before a new connection may push it out


@dataclass(frozen=True)
class Limits:
    """What one server allows a client (from config.toml [server])."""

    max_connections: int = 256
    header_timeout_s: float = 10.0
    body_timeout_s: float = 20.0


def fit_to_file_limit(limits: Limits) -> Limits:
    """The limits, with a connection cap the process's open-file limit can hold (raising the soft limit towards
    the hard one first): connections must never exhaust the descriptors (asyncio then refuses every accept)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = limits.max_connections + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < need:
        cap = max(8, soft - RESERVED_FILES)
        log.warning("server.max_connections lowered from %d to %d: the process may open only %d files (ulimit -n)",
                    limits.max_connections, cap, soft)  # fmt: skip
        return dataclasses.replace(limits, max_connections=cap)
    return limits


class _Tally:
    """Connections cut off, reported in one line at most every REPORT_EVERY seconds (the first at once)."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.reported = -REPORT_EVERY
        self.flush: asyncio.TimerHandle | None = None

    def add(self, why: str) -> None:
        self.counts[why] += 1
        wait = self.reported + REPORT_EVERY - time.monotonic()
        if wait <= 0:
            self.report()
        elif self.flush is None:
            self.flush = asyncio.get_running_loop().call_later(wait, self.report)

    def report(self) -> None:
        self.flush = None
        if self.counts:
            summary = ", ".join(f"{n} {reason}" for reason, n in sorted(self.counts.items()))
            log.warning("HTTP connections closed by the server's limits: %s", summary)
            self.counts.clear()
            self.reported = time.monotonic()


def guarded_protocol(limits: Limits) -> type[H11Protocol]:
    """A uvicorn HTTP protocol class (uvicorn.Config(http=…)) enforcing `limits`; each call has its own state."""

    # connection → since when its request has been arriving (loop time), oldest first
    waiting: collections.OrderedDict[GuardedH11, float] = collections.OrderedDict()
    tally = _Tally()

    class GuardedH11(H11Protocol):
        """uvicorn's h11 protocol with request deadlines and a connection cap (see the module)."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            self._deadline: asyncio.TimerHandle | None = None
            self._phase = ""
            over = len(self.connections) >= limits.max_connections
            super().connection_made(transport)
            if over and not self._evict_oldest():
                tally.add("over the connection limit")
                transport.abort()
                return
            self._arm("headers")

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and not self.transport.is_closing():
                self._arm("headers")  # the next request of a kept-alive connection
            super().data_received(data)
            self._follow()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._follow()

        # -- deadlines ----------------------------------------------------------------------
        def _follow(self) -> None:
            """Move the deadline on as h11 reads the request: headers → body → complete."""
            state = self.conn.their_state
            if state is h11.SEND_BODY:
                if self._phase != "body":
                    self._arm("body")
            elif state is not h11.IDLE:  # the request is complete (or the connection is ending): no deadline
                self._disarm()
            # IDLE: waiting for headers, armed at the connection's start or at the first byte of a request

        def _arm(self, phase: str) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            seconds = limits.header_timeout_s if phase == "headers" else limits.body_timeout_s
            self._phase = phase
            self._deadline = self.loop.call_later(seconds, self._too_slow)
            waiting.setdefault(self, self.loop.time())  # since when its request has been arriving

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._phase = ""
            waiting.pop(self, None)

        def _too_slow(self) -> None:
            tally.add(f"too slow to send their {self._phase}")
            self._deadline = None
            self._cut()

        def _evict_oldest(self) -> bool:
            """Close the connection whose request has been arriving longest, if that is over EVICT_AFTER seconds."""
            now = self.loop.time()
            for old, since in waiting.items():
                if old is not self:
                    if now - since < EVICT_AFTER:
                        return False  # the oldest is young: so is every other
                    tally.add("pushed out by newer connections while sending slowly")
                    old._cut()
                    return True
            return False

        def _cut(self) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.abort()  # no response: a slow client gets nothing to wait for

    GuardedH11.__qualname__ = GuardedH11.__name__ = "GuardedH11"
    GuardedH11.tally = tally  # type: ignore[attr-defined]  # serve_web_app reports what is left at shut-down
    return GuardedH11


# Loggers whose lines a flood of clients can multiply: the event loop's "socket.accept() out of system resource"
# (with a traceback each time), uvicorn's "Invalid HTTP request received.", pywa's signature refusals, and the
# webhook routes' own refusals (wrong secret, bad signature, too large …).
NOISY = ("asyncio", "uvicorn", "pywa", "bot.whatsapp", "bot.telegram", "bot.web", "bot.guard")


class QuietRepeats(logging.Filter):
    """Lets the same message (by its format string) through at most `burst` times a minute; the next one that
    passes says how many were left out. Only records of the NOISY loggers are counted; others always pass.

    Attach it to the log handlers (a handler's filter sees the records of every logger below it).
    """

    def __init__(self, burst: int = 5, every: float = 60.0, names: tuple[str, ...] = NOISY):
        super().__init__()
        self.burst = burst
        self.every = every
        self.names = names
        self._seen: dict[str, list[float | int]] = {}  # message head → [window start, count in window]

    def filter(self, record: logging.LogRecord) -> bool:
        """True to log the record (possibly with a note of how many like it were left out)."""
        if not record.name.startswith(self.names):
            return True
        head = f"{record.name}:" + str(record.msg).split("\n", 1)[0][:120]
        now = time.monotonic()
        window = self._seen.get(head)
        if window is None or now - window[0] >= self.every:
            left_out = int(window[1]) - self.burst if window is not None and window[1] > self.burst else 0
            self._seen[head] = [now, 1]
            if len(self._seen) > 1000:
                self._seen = {head: self._seen[head]}
            if left_out:
                record.msg = f"{record.getMessage()} ({left_out} more like this were not logged in the last minute)"
                record.args = None
            return True
        window[1] += 1
        return window[1] <= self.burst
