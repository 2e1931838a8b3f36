"""The one SQLite connection: pragmas, integrity check, migrations, and the writer lock with its transactions.

Every part of the app shares this connection, on one event loop. A transaction must never stay open while
another task could write into it, so all database work outside a message's own handling goes through
`writing()` (an asyncio lock held for a short synchronous transaction), and a message's handling holds the
same lock for its whole transaction: one writer at a time, as SQLite itself allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import sqlite_utils

from bot.storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)


class StorageError(Exception):
    """The database cannot be used (corrupt, unreadable, newer than this code)."""


# What to do about a damaged database file; part of the one-line start-up error.
DAMAGED_HINT = "restore it from a backup (python -m bot db backup PATH makes one) or move it away to start afresh"
# What to do when the file cannot be written (nothing is wrong with its contents).
READ_ONLY_HINT = ("the bot's user needs write access to the file and to its folder (SQLite keeps -wal and -shm files "
                  "beside it): check their owner and permissions, or the mount")  # fmt: skip
MISSING_HINT = "restore it from a backup (python -m bot db backup PATH makes one)"


def _hint(exc: sqlite3.Error) -> str:
    """The advice for an error met while opening the file: permissions, or a damaged file."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or "readonly" in str(exc):
        return READ_ONLY_HINT
    return DAMAGED_HINT


@functools.cache
def expected_schema() -> dict[str, frozenset[str]]:
    """Every table (and its columns) the newest schema has, from running the migrations on an empty database."""
    db = sqlite_utils.Database(memory=True)
    for migrate in MIGRATIONS:
        migrate(db)
    schema = {name: frozenset(c.name for c in db[name].columns) for name in db.table_names()}
    db.close()
    return schema


def first_line(text: object) -> str:
    """The first informative line of an SQLite message (integrity reports span several lines)."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip() and not ln.startswith("***")]
    return lines[0] if lines else "unknown problem"


class Database:
    """An open database file: sqlite-utils on one connection, migrated to the newest schema."""

    def __init__(self, path: str, busy_timeout_ms: int = 2000):
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self.db = sqlite_utils.Database(conn)
            if path != ":memory:":
                self.db.enable_wal()
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten, not just unlinked
            self.check_integrity()
            self._migrate()
            self._check_writable()
            self._check_schema()
        except (sqlite3.Error, StorageError) as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, StorageError):
                raise
            raise StorageError(f"database {path} cannot be used ({first_line(exc)}); {_hint(exc)}") from None
        self._lock: asyncio.Lock | None = None
        self._after_commit: list[Callable[[], None]] = []

    # -- schema -------------------------------------------------------------------------------
    def check_integrity(self) -> None:
        """Run SQLite's quick check; raise StorageError when the file is damaged."""
        rows = self.db.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            detail = first_line(rows[0][0])
            raise StorageError(f"database {self.path} failed its integrity check ({detail}); {DAMAGED_HINT}")

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the meta table (0 for an empty file); StorageError if it is not a number."""
        if "meta" not in self.db.table_names():
            return 0
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return 0
        value = str(row[0]).strip()
        if not value.isdigit() or not value.isascii():
            raise StorageError(f"database {self.path} records schema version {str(row[0])[:20]!r}, which is not a "
                               f"version number; {MISSING_HINT}")  # fmt: skip
        return int(value)

    def _check_writable(self) -> None:
        """Take the write lock once: a read-only file fails here, at start-up, rather than at the first message.
        (Another process holding the lock for longer than the busy timeout proves the file writable.)"""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY"):
                return
            raise
        self.db.execute("ROLLBACK")

    def _check_schema(self) -> None:
        """Every table and column of the newest schema is there (a table dropped by hand stops start-up)."""
        tables = set(self.db.table_names())
        for name, columns in expected_schema().items():
            if name not in tables:
                raise StorageError(f"database {self.path} has no table {name!r} although its schema version says it "
                                   f"should; {MISSING_HINT}")  # fmt: skip
            missing = sorted(columns - {c.name for c in self.db[name].columns})
            if missing:
                raise StorageError(f"database {self.path}: table {name!r} lacks column(s) {', '.join(missing)}; "
                                   f"{MISSING_HINT}")  # fmt: skip

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StorageError(
                f"database {self.path} has schema version {current}, newer than this code ({len(MIGRATIONS)})"
            )
        for version in range(current + 1, len(MIGRATIONS) + 1):
            with self.db.atomic():
                MIGRATIONS[version - 1](self.db)
                self.db["meta"].upsert({"key": "schema_version", "value": str(version)}, pk="key")
            log.info("database migrated to schema version %d", version)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- transactions -------------------------------------------------------------------------
    @property
    def lock(self) -> asyncio.Lock:
        """The writer lock: held by whoever has a transaction open (created on first use)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One IMMEDIATE transaction (or a savepoint inside an open one); rolled back on any exception."""
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
            self._after_commit.clear()
            raise
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            try:
                hook()
            except sqlite3.Error as exc:  # housekeeping only (e.g. a WAL checkpoint): never fails the work
                log.warning("after-commit step failed: %s", first_line(exc))

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """Exclusive use of the connection for one transaction; other tasks wait on the writer lock."""
        async with self.lock:
            with self.transaction():
                yield

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` after the open transaction commits (at once when none is open)."""
        if self.db.conn.in_transaction:
            self._after_commit.append(hook)
        else:
            hook()
