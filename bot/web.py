"""The project's ASGI app: one Starlette app that mounts each configured channel's webhook routes."""

from __future__ import annotations

import contextlib
import logging
from typing import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

log = logging.getLogger(__name__)


class WebChannel:
    """What a webhook channel (Telegram, WhatsApp) contributes to the ASGI app."""

    name: str = "channel"

    def routes(self) -> Sequence[BaseRoute]:  # pragma: no cover - interface
        raise NotImplementedError

    async def startup(self) -> None:
        """Called once when the web app starts (e.g. register a webhook, open HTTP clients)."""

    async def shutdown(self) -> None:
        """Called once when the web app stops."""


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


def json_content(request: Request) -> bool:
    """Whether the request's Content-Type is application/json (parameters such as charset aside)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def _health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def build_web_app(channels: Sequence[WebChannel]) -> Starlette:
    """One ASGI app serving every given channel's routes, plus GET /healthz."""
    routes: list[BaseRoute] = [Route("/healthz", _health, methods=["GET"])]
    for ch in channels:
        routes.extend(ch.routes())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started: list[WebChannel] = []
        try:
            for ch in channels:
                try:
                    await ch.startup()
                except Exception as exc:
                    # One line (channels keep secrets out of their messages); serve_web_app keeps uvicorn
                    # from printing the traceback again.
                    log.error("channel %s failed to start: %s", ch.name, exc)
                    raise
                started.append(ch)
                log.info("channel %s started", ch.name)
            yield
        finally:
            for ch in reversed(started):
                try:
                    await ch.shutdown()
                except Exception:  # keep shutting the others down
                    log.exception("channel %s failed to shut down", ch.name)

    return Starlette(routes=routes, lifespan=lifespan)


# Modules that may contribute a webhook channel to `python -m bot serve`. Each exposes
# `web_channel(app) -> WebChannel | None`, returning None when its environment is not configured.
WEB_CHANNEL_MODULES = ("bot.whatsapp", "bot.telegram")


def configured_channels(app) -> list[WebChannel]:
    """The webhook channels whose environment is configured, in WEB_CHANNEL_MODULES order."""
    import importlib

    channels = []
    for name in WEB_CHANNEL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        channel = module.web_channel(app)
        if channel is not None:
            channels.append(channel)
    return channels


class _NoTraceback(logging.Filter):
    """Drops log records that are a bare traceback (uvicorn logs Starlette's lifespan failure text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Traceback")


def serve_web_app(web_app: Starlette, host: str, port: int) -> int:
    """Serve an ASGI app with uvicorn until SIGINT or SIGTERM; shut down cleanly and return 0."""
    import asyncio
    import signal

    import uvicorn

    config = uvicorn.Config(
        web_app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    # A channel that fails to start has already said why in one line (see build_web_app); uvicorn would add
    # the whole traceback Starlette hands it with lifespan.startup.failed.
    uvicorn_errors = logging.getLogger("uvicorn.error")
    quiet = _NoTraceback()
    uvicorn_errors.addFilter(quiet)
    # uvicorn handles the signals while it runs and re-raises them when it has stopped; a no-op handler
    # in place then lets the caller close the database instead of the process dying by SIGTERM.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(server.serve())
    finally:
        uvicorn_errors.removeFilter(quiet)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1
