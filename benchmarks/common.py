"""Shared helpers for the benchmark scripts: timing, percentiles, tables, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEV_QUESTIONS = REPO / "tests" / "data" / "dev-questions.jsonl"
HELD_OUT_QUESTIONS = REPO / "tests" / "data" / "extra-questions.jsonl"


def machine() -> str:
    """One line: date, cores, memory, Python — to print above every table."""
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{now} · {os.cpu_count()} cores ({cpu or platform.machine()}) · {mem_kb / 1024 / 1024:.1f} GiB RAM · "
        f"Python {platform.python_version()}"
    )


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of samples, linear interpolation."""
    return float(np.percentile(np.asarray(samples, dtype=np.float64), q)) if len(samples) else float("nan")


def median(values: Iterable[float]) -> float:
    """The median of values."""
    return float(statistics.median(list(values)))


def time_each(fn: Callable[[str], object], items: Sequence[str], clock=time.perf_counter_ns) -> list[float]:
    """Call fn on each item; return each call's time in milliseconds (wall time, or `clock`'s: e.g. the thread's
    CPU time with time.thread_time_ns, what a call costs without waiting for a busy core)."""
    out = []
    for item in items:
        t0 = clock()
        fn(item)
        out.append((clock() - t0) / 1e6)
    return out


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """(milliseconds, result) of one call."""
    t0 = time.perf_counter_ns()
    result = fn()
    return (time.perf_counter_ns() - t0) / 1e6, result


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fmt(value: float, digits: int = 2) -> str:
    """A number for a table cell (— for NaN)."""
    if value != value:  # NaN
        return "—"
    return f"{value:,.{digits}f}"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table with right-aligned columns after the first."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
    ) + " |"
    sep = "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def heading(title: str) -> None:
    """Print a benchmark's title and the machine line."""
    print(f"## {title}\n\n{machine()}\n")
