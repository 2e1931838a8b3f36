"""Helpers for tests that run the real bot process."""

from __future__ import annotations

import subprocess


def reap(proc: subprocess.Popen) -> None:
    """Kill a process that is still running and close its pipes (a test's `finally`)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
