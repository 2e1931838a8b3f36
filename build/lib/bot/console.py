"""The console channel: interactive on a terminal, scriptable through standard input."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import IO

from bot.app import App
from handlers.messages import Inbound, Outbound


def render(out: Outbound, out_dir: Path) -> str:
    """A reply as console text: heading, text, numbered choices, the path of a written document."""
    lines = []
    if out.reply.heading:
        lines.append(f"== {out.reply.heading} ==")
    lines.append(out.reply.text)
    for i, choice in enumerate(out.reply.choices, 1):
        lines.append(f"{i}. {choice.label}")
    doc = out.reply.document
    if doc is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / Path(doc.filename).name
        path.write_bytes(doc.data)
        lines.append(f"[dokumen disimpan: {path}]")
    return "\n".join(lines)


async def run_console(
    app: App, chat_id: str, out_dir: Path, stdin: IO[str] | None = None, stdout: IO[str] | None = None
) -> int:
    """Read one message per line until end of input; print every reply."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        print("Pandu Kerja Sama Desa — ketik pertanyaan, /mulai untuk menu, Ctrl-D untuk keluar.", file=stdout)
    while True:
        if interactive:
            stdout.write("\n> ")
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.rstrip("\n")
        for out in await app.handle(Inbound("console", chat_id, text)):
            print(render(out, out_dir), file=stdout)
            if not interactive:
                print(file=stdout)
        stdout.flush()
    return 0
