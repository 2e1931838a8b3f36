"""Crashes: kill -9 the real console process mid-conversation, start it again on the same file."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0  # seconds any one expected reply may take (start-up loads the knowledge base)


class ConsoleProcess:
    """`python -m bot console --db FILE` fed through a pipe; output is read by a thread."""

    def __init__(self, db: Path, chat: str = "desa-1"):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "console", "--db", str(db), "--chat", chat],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.out = ""
        self._q: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self._q.put(line)
        self._q.put(None)

    def send(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]

    def expect(self, needle: str, start: int = 0) -> int:
        """Wait until `needle` appears in the output after position `start`; return where it ends."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            at = self.out.find(needle, start)
            if at >= 0:
                return at + len(needle)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {needle!r} within {TIMEOUT}s; output: {self.out[-500:]!r}")
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"process ended before {needle!r}; stderr: {self.proc.stderr.read()}")
            self.out += line

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.close()
        assert self.proc.returncode == -signal.SIGKILL

    def finish(self) -> str:
        """Close standard input (end of conversation) and wait for a clean exit."""
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(TIMEOUT)
        err = self.proc.stderr.read()  # type: ignore[union-attr]
        self.close()
        assert self.proc.returncode == 0, err
        return err

    def close(self) -> None:
        """Kill the process if it still runs and close every pipe."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass


@pytest.fixture
def console():
    """Start console processes; any still running when the test ends is killed."""
    started: list[ConsoleProcess] = []

    def start(db: Path, chat: str = "desa-1") -> ConsoleProcess:
        started.append(ConsoleProcess(db, chat))
        return started[-1]

    yield start
    for c in started:
        c.close()


def _db_rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_kill9_mid_conversation_then_resume(tmp_path, console):
    db = tmp_path / "pandu.db"
    bot = console(db)
    bot.send("/mulai")
    pos = bot.expect("3. Bantuan")
    bot.send("apa itu bkad")
    pos = bot.expect("PP 43/2014 Pasal 144", pos)
    bot.expect("1. Bunyi pasal", pos)
    bot.kill9()

    assert _db_rows(db, "SELECT question FROM question_log") == [("apa itu bkad",)]
    again = console(db)
    again.send("1")  # the number of a button from before the crash: the menu survived
    again.expect("== Bunyi pasal")
    again.send("resep rendang")
    again.expect("di luar cakupan")
    again.finish()
    assert _db_rows(db, "SELECT question FROM question_log ORDER BY id") == [("apa itu bkad",), ("resep rendang",)]


def test_kill9_during_a_burst_loses_no_acknowledged_write(tmp_path, console):
    db = tmp_path / "pandu.db"
    bot = console(db)
    questions = [f"resep nomor {i} tolong" for i in range(400)]
    bot.send("\n".join(questions))
    pos = 0
    seen = 0
    while seen < 60:  # wait for sixty replies, then pull the plug while it is still writing
        pos = bot.expect("di luar cakupan", pos)
        seen += 1
    bot.kill9()
    logged = [r[0] for r in _db_rows(db, "SELECT question FROM question_log ORDER BY id")]
    assert len(logged) >= seen  # every reply the user saw was stored first
    assert logged == questions[: len(logged)]  # in order, no gap, nothing twice
    assert len(logged) < len(questions)  # the kill really happened mid-burst
    again = console(db)
    again.send("apa itu bkad")
    again.expect("PP 43/2014 Pasal 144")
    again.finish()


def _answers(db: Path) -> dict[str, tuple[str, str]]:
    return {r[0]: (r[1], r[2]) for r in _db_rows(db, "SELECT step, status, value FROM proposal_answers")}


def test_kill9_mid_checklist_then_resume_at_the_same_step(tmp_path, console):
    from tests.reliability import CHECKLIST_TO_CONFIRM_STEP

    db = tmp_path / "pandu.db"
    bot = console(db)
    pos = 0
    for text in CHECKLIST_TO_CONFIRM_STEP:
        bot.send(text)
    pos = bot.expect("== Persiapan 1/7 ==", pos)
    bot.send("1")  # Sudah
    pos = bot.expect("== Persiapan 2/7 ==", pos)
    bot.expect("4. Kenapa?", pos)  # the whole prompt was printed, so everything before it was stored
    bot.kill9()

    answers = _answers(db)
    assert len(answers) == 5 and ("sudah", "") in answers.values()
    assert ("value", "Sukajaya") in answers.values()
    again = console(db)
    again.send("2")  # a typed answer goes to the step that was waiting: Persiapan 2/7 → "Belum"
    pos = again.expect("== Persiapan 6/7 ==")  # the steps that need the priority list wait (flow `requires`)
    again.send("/status")
    pos = again.expect("• Persiapan 1/7", pos)  # "Belum" still counts as missing
    again.expect("• Para pihak 4/4", 0)
    again.send("/usulan")  # resuming names the proposal and shows the waiting step again
    again.expect("Jalan tani", pos)
    again.expect("== Persiapan 6/7 ==", pos)
    again.finish()
    after = _answers(db)
    assert {k: v for k, v in after.items() if k in answers} == answers  # nothing lost or changed
    assert len(after) == 6 and ("belum", "") in after.values()
