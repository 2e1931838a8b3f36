"""SQLite under stress: pragmas, locks held by others, damaged files at start-up, backup while writing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.app import build_app
from bot.storage import Storage, StorageError

REPO = Path(__file__).resolve().parent.parent


def run_bot(*args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=REPO, input=stdin, capture_output=True, text=True, timeout=timeout
    )


def test_pragmas_of_a_running_app(config, knowledge):
    app = build_app(config, knowledge)
    try:
        conn = app.storage.db.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == config.storage.busy_timeout_ms
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        app.close()


def test_busy_timeout_waits_for_another_writer(tmp_path):
    path = str(tmp_path / "busy.db")
    storage = Storage(path, busy_timeout_ms=5000)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock …
    released = threading.Event()

    def release_later() -> None:
        time.sleep(0.3)
        other.execute("COMMIT")  # … for 0.3 s
        released.set()

    t = threading.Thread(target=release_later)
    t.start()
    storage.touch_chat("test:1", "test")  # waits instead of failing with "database is locked"
    assert released.is_set()
    t.join(5)
    assert storage.chat_active("test:1")
    other.close()
    storage.close()


def test_without_enough_busy_timeout_a_held_lock_is_an_error_not_a_hang(tmp_path):
    path = str(tmp_path / "busy2.db")
    storage = Storage(path, busy_timeout_ms=50)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        storage.touch_chat("test:1", "test")
    assert time.monotonic() - started < 5
    other.execute("ROLLBACK")
    other.close()
    storage.close()


def _make_db(path: Path) -> None:
    p = run_bot("console", "--db", str(path), stdin="/mulai\napa itu bkad\nresep rendang\n")
    assert p.returncode == 0, p.stderr


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    if how == "btree-page":  # scramble a b-tree page's cell pointers, keep its header
        for i in range(8, 16):
            data[4 * page + i] ^= 0x5A
    elif how == "whole-page":
        data[3 * page : 4 * page] = b"\xde\xad\xbe\xef" * (page // 4)
    elif how == "header":
        data[16:18] = b"\x00\x03"  # an impossible page size
    elif how == "truncated":
        data = data[:5000]
    elif how == "not-sqlite":
        data = bytearray(b"bukan basis data " * 600)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["btree-page", "whole-page", "header", "truncated", "not-sqlite"])
def test_damaged_database_stops_start_up_with_one_clear_line(tmp_path, how):
    db = tmp_path / "pandu.db"
    _make_db(db)
    _damage(db, how)
    before = db.read_bytes()
    p = run_bot("console", "--db", str(db), stdin="apa itu bkad\n")
    assert p.returncode == 2
    assert p.stdout == ""  # no conversation with a damaged database
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith(f"error: database {db}")
    assert "backup" in lines[0]
    assert db.read_bytes()[100:] == before[100:]  # the damaged file is left for recovery, not rewritten


def test_integrity_check_runs_at_start_up(tmp_path):
    db = tmp_path / "pandu.db"
    _make_db(db)
    _damage(db, "btree-page")
    with pytest.raises(StorageError, match="failed its integrity check"):
        Storage(str(db))


def test_backup_while_another_connection_writes(tmp_path):
    db = tmp_path / "live.db"
    _make_db(db)
    stop = threading.Event()
    written = [0]
    errors: list[BaseException] = []

    def writer() -> None:
        s = Storage(str(db), busy_timeout_ms=5000)
        try:
            while not stop.is_set() and written[0] < 100_000:
                s.log_question(f"test:{written[0]}", "test", f"pertanyaan {written[0]}", "none", None, 0)
                written[0] += 1
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            s.close()

    t = threading.Thread(target=writer)
    t.start()
    deadline = time.monotonic() + 10
    while written[0] < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    target = tmp_path / "backup" / "copy.db"
    p = run_bot("db", "backup", str(target), "--db", str(db))
    at_end_of_backup = written[0]
    time.sleep(0.1)
    stop.set()
    t.join(10)
    assert not errors, errors
    assert p.returncode == 0, p.stderr
    assert written[0] > at_end_of_backup  # the writer kept going during and after the backup
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n = copy.execute("SELECT count(*) FROM question_log WHERE channel = 'test'").fetchone()[0]
    copy.close()
    assert 200 <= n <= at_end_of_backup  # a consistent snapshot taken while writes went on
    # the backup is a working database for the bot
    p = run_bot("console", "--db", str(target), stdin="apa itu bkad\n")
    assert p.returncode == 0 and "PP 43/2014 Pasal 144" in p.stdout


def test_backup_refuses_to_overwrite(tmp_path):
    db = tmp_path / "live.db"
    _make_db(db)
    target = tmp_path / "exists.db"
    target.write_bytes(b"precious")
    p = run_bot("db", "backup", str(target), "--db", str(db))
    assert p.returncode == 2 and "already exists" in p.stderr
    assert target.read_bytes() == b"precious"
