"""The monitor's checkpoint: one SQLite file in the state folder, changed in transactions.

A window is opened (its files listed) in one transaction and closed in another together with
everything it changed (files done, requests waiting for labels, returns, rule states), so a
monitor killed mid-window redoes exactly that window on the next start and counts nothing twice.
An exclusive ``flock`` on the folder keeps a second monitor out while one runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

from pipelinekit.monitor.errors import MonitorBusyError

__all__ = ["MonitorState", "open_state"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, kind TEXT, records INTEGER, status TEXT, window INTEGER);
CREATE TABLE IF NOT EXISTS windows (id INTEGER PRIMARY KEY, opened REAL, files TEXT, closed INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS pending (request_id TEXT PRIMARY KEY, version TEXT, ts INTEGER, example BLOB,
                                    prediction TEXT, labeled INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS returns (version TEXT PRIMARY KEY, total REAL, answers INTEGER);
CREATE TABLE IF NOT EXISTS rules (rule TEXT, subject TEXT, state TEXT, PRIMARY KEY (rule, subject));
CREATE TABLE IF NOT EXISTS spans (span INTEGER PRIMARY KEY, window INTEGER, path TEXT);
CREATE TABLE IF NOT EXISTS versions (version TEXT PRIMARY KEY, statistics TEXT);
CREATE TABLE IF NOT EXISTS orphans (request_id TEXT PRIMARY KEY, label TEXT, since REAL);
CREATE TABLE IF NOT EXISTS identity (id TEXT NOT NULL);
"""


class MonitorState:
    """The checkpoint in ``<state_dir>/monitor.sqlite``; use :func:`open_state`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.db:  # commits on success, rolls back on an exception
            yield self.db

    def identity(self) -> str:
        """This state folder's id, made once: window keys in a shared metadata store carry it, so
        two monitors of one model with their own folders do not take each other's windows as done."""
        row = self.db.execute("SELECT id FROM identity").fetchone()
        if row is None:
            with self.transaction() as db:
                db.execute("INSERT INTO identity (id) VALUES (?)", (uuid.uuid4().hex[:12],))
            row = self.db.execute("SELECT id FROM identity").fetchone()
        return str(row[0])

    def done_files(self, kind: str) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT path FROM files WHERE kind = ?", (kind,))}

    def open_window(self, files: list[str]) -> int:
        """The unfinished window left by a killed monitor (same files, same id), else a new one."""
        row = self.db.execute("SELECT id FROM windows WHERE closed = 0 ORDER BY id LIMIT 1").fetchone()
        if row is not None:
            return int(row[0])
        with self.transaction() as db:
            cursor = db.execute("INSERT INTO windows (opened, files) VALUES (strftime('%s','now'), ?)", (json.dumps(files),))
        return int(cursor.lastrowid or 0)

    def window_files(self, window: int) -> list[str]:
        row = self.db.execute("SELECT files FROM windows WHERE id = ?", (window,)).fetchone()
        return list(json.loads(row[0])) if row else []

    def rule_state(self, rule: str, subject: str) -> dict[str, Any]:
        row = self.db.execute("SELECT state FROM rules WHERE rule = ? AND subject = ?", (rule, subject)).fetchone()
        return dict(json.loads(row[0])) if row else {}

    def last_statistics(self, version: str) -> str | None:
        """The served statistics file of ``version``'s last window (what drift compares with)."""
        row = self.db.execute("SELECT statistics FROM versions WHERE version = ?", (version,)).fetchone()
        return str(row[0]) if row else None

    def span_of_window(self, window: int) -> int | None:
        row = self.db.execute("SELECT span FROM spans WHERE window = ?", (window,)).fetchone()
        return int(row[0]) if row else None

    def returns(self) -> dict[str, tuple[float, int]]:
        return {v: (t, n) for v, t, n in self.db.execute("SELECT version, total, answers FROM returns")}


def open_state(state_dir: str) -> contextlib.AbstractContextManager[MonitorState]:
    """The checkpoint in ``state_dir``, held exclusively until the ``with`` block ends."""
    return _held(state_dir)


@contextlib.contextmanager
def _held(state_dir: str) -> Iterator[MonitorState]:
    os.makedirs(state_dir, exist_ok=True)
    lock = os.open(os.path.join(state_dir, "monitor.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MonitorBusyError(
                f"another monitor is using the state folder {state_dir}; wait for it to finish or give this one "
                "another --state_dir (two monitors on one folder would count requests twice)"
            ) from None
        connection = sqlite3.connect(os.path.join(state_dir, "monitor.sqlite"))
        try:
            connection.executescript(_SCHEMA)
            yield MonitorState(connection)
        finally:
            connection.close()
    finally:
        os.close(lock)
