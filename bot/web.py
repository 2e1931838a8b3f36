"""The project's ASGI app: one Starlette app that mounts each configured channel's webhook routes."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from bot.channel import Channel
from bot.guard import BACKLOG, Limits, QuietRepeats, fit_to_file_limit, guarded_protocol

if TYPE_CHECKING:  # pragma: no cover
    from bot.app import App

log = logging.getLogger(__name__)


async def read_body(request: Request, limit: int) -> bytes | None:
    """A webhook's body; None when it is (or claims to be) larger than `limit` bytes, b"" if the client left."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ClientDisconnect:  # nobody is left to answer; b"" is refused like any malformed body
        return b""
    return b"".join(chunks)


def plain(body: str, status: int) -> PlainTextResponse:
    """A short plain-text response."""
    return PlainTextResponse(body, status_code=status, headers={"X-Content-Type-Options": "nosniff"})


STORAGE_DOWN = "Service Unavailable"  # the delivery could not be stored: the platform will resend it


def json_content(request: Request) -> bool:
    """Whether the request's Content-Type is application/json (parameters such as charset aside)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def _health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def build_web_app(app: "App", channels: Sequence[Channel] | None = None) -> Starlette:
    """One ASGI app serving the given channels' routes (default: all of the app's), plus GET /healthz.

    Start-up: each channel starts, then the pipeline (which resumes what a previous run left). Shut-down:
    the pipeline finishes the message in hand and gives sends in flight a few seconds, then channels stop.
    """
    channels = list(app.channels.values()) if channels is None else list(channels)
    routes: list[BaseRoute] = [Route("/healthz", _health, methods=["GET"])]
    for ch in channels:
        routes.extend(ch.routes())

    @contextlib.asynccontextmanager
    async def lifespan(web: Starlette) -> AsyncIterator[None]:
        started: list[Channel] = []
        try:
            for ch in channels:
                try:
                    await ch.start()
                except Exception as exc:
                    # One line (channels keep secrets out of their messages); serve_web_app keeps uvicorn
                    # from printing the traceback again.
                    log.error("channel %s failed to start: %s", ch.name, exc)
                    raise
                started.append(ch)
                log.info("channel %s started", ch.name)
            await app.pipeline.start()
            yield
        finally:
            await app.pipeline.stop()
            for ch in reversed(started):
                try:
                    await ch.stop()
                except Exception:  # keep shutting the others down
                    log.exception("channel %s failed to shut down", ch.name)

    return Starlette(routes=routes, lifespan=lifespan)


class _NoTraceback(logging.Filter):
    """Drops log records that are a bare traceback (uvicorn logs Starlette's lifespan failure text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Traceback")


def serve_web_app(web_app: Starlette, host: str, port: int, limits: Limits | None = None) -> int:
    """Serve an ASGI app with uvicorn until SIGINT or SIGTERM; shut down cleanly and return 0.

    `limits` (config.toml [server]): request deadlines and a connection cap against slow clients (bot/guard.py).
    """
    import asyncio
    import signal

    import uvicorn

    protocol = guarded_protocol(fit_to_file_limit(limits or Limits()))
    config = uvicorn.Config(
        web_app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=5,
        http=protocol, timeout_keep_alive=5, backlog=BACKLOG,
    )  # fmt: skip
    server = uvicorn.Server(config)
    # A channel that fails to start has already said why in one line (see build_web_app); uvicorn would add
    # the whole traceback Starlette hands it with lifespan.startup.failed. A flood of clients must not fill
    # the log either: the same asyncio or uvicorn warning is logged a few times a minute at most.
    quiet = QuietRepeats()
    filters: list[tuple[logging.Filterer, logging.Filter]] = [(logging.getLogger("uvicorn.error"), _NoTraceback())]
    filters += [(handler, quiet) for handler in logging.getLogger().handlers]
    for target, f in filters:
        target.addFilter(f)
    # uvicorn handles the signals while it runs and re-raises them when it has stopped; a no-op handler
    # in place then lets the caller close the database instead of the process dying by SIGTERM.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(server.serve())
    finally:
        protocol.tally.report()  # type: ignore[attr-defined]  # connections cut off since the last report
        for target, f in filters:
            target.removeFilter(f)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1
