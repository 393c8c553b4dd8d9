"""Retention: finished tasks and journal rows leave the store once old, off the request path.

Each worker process runs one trimming thread. Every `TRIM_EVERY_S` (or a quarter
of `retention_s`, when that is shorter) it deletes, in
small batches (each a short write transaction), finished tasks that completed
more than `retention_s` ago or lie beyond the newest `retention_max_tasks`,
their callback outbox rows and attempts, and journal rows older than
`retention_s`. Tasks still pending or processing (or forced stuck) are kept.
SQLite reuses the freed pages, so under steady load the file stops growing.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from mock_server.storage.sqlite.tasks import SQLiteStore

log = logging.getLogger(__name__)

TRIM_EVERY_S = 30.0
BATCH = 2000  # rows per transaction: other writers wait at most a few milliseconds
_END = "(create_ms + pending_ms + processing_ms)"  # a task's completeTime


@dataclass(frozen=True)
class Trimmed:
    """What one trim removed."""

    tasks: int = 0
    journal: int = 0


def trim(store: SQLiteStore, now_ms: int, retention_s: int, max_tasks: int) -> Trimmed:
    """Delete what retention lets go as of `now_ms`; 0 in a setting means keep forever."""
    tasks = journal = 0
    cutoff = now_ms - retention_s * 1000
    tables = _tables(store.conn)
    while True:
        with store.transaction() as conn:
            ids = _expired_tasks(conn, now_ms, cutoff if retention_s else None,
                                 max_tasks if max_tasks else None)
            if ids:
                marks = ",".join("?" * len(ids))
                conn.execute(f"DELETE FROM tasks WHERE task_id IN ({marks})", ids)
                for table in ("callback_outbox", "callback_attempts"):
                    if table in tables:
                        conn.execute(f"DELETE FROM {table} WHERE task_id IN ({marks})", ids)
        if ids:
            store.version.add(1)  # every process drops its cached copies
        tasks += len(ids)
        if len(ids) < BATCH:
            break
    while retention_s and "journal" in tables:
        with store.transaction() as conn:
            gone = conn.execute(
                "DELETE FROM journal WHERE seq IN (SELECT seq FROM journal WHERE time_ms < ? "
                "ORDER BY seq LIMIT ?)", (cutoff, BATCH)).rowcount
        journal += gone
        if gone < BATCH:
            break
    return Trimmed(tasks, journal)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _expired_tasks(conn: sqlite3.Connection, now_ms: int, cutoff: int | None,
                   max_tasks: int | None) -> list[str]:
    """Up to BATCH finished tasks, oldest first, that are too old or beyond the newest max."""
    rules: list[str] = []
    args: list[int] = [now_ms]
    if cutoff is not None:
        rules.append(f"{_END} < ?")
        args.append(cutoff)
    if max_tasks is not None:
        rules.append("seq <= (SELECT MAX(seq) FROM tasks) - ?")
        args.append(max_tasks)
    if not rules:
        return []
    sql = (f"SELECT task_id FROM tasks WHERE outcome != 'stuck' AND {_END} <= ? "
           f"AND ({' OR '.join(rules)}) ORDER BY seq LIMIT {BATCH}")
    return [task_id for (task_id,) in conn.execute(sql, args)]


def start(state: Any) -> threading.Thread | None:
    """Start this process's trimming thread for the app state `state` (SQLite stores only)."""
    store, settings = state.store, state.settings
    if not isinstance(store, SQLiteStore) or not (settings.retention_s
                                                  or settings.retention_max_tasks):
        return None
    thread = threading.Thread(target=_loop, args=(weakref.ref(state),),
                              name="flux2-mock-retention", daemon=True)
    thread.start()
    return thread


def _loop(ref: weakref.ref[Any]) -> None:
    stop = threading.Event()
    state = ref()
    every = TRIM_EVERY_S if state is None or not state.settings.retention_s \
        else min(TRIM_EVERY_S, max(0.2, state.settings.retention_s / 4))
    del state
    while not stop.wait(every):
        state = ref()
        if state is None:
            return
        settings = state.settings
        try:
            trim(state.store, state.clock.now_ms(), settings.retention_s,
                 settings.retention_max_tasks)
        except sqlite3.Error:  # a busy or vanishing store: try again next time
            log.warning("retention trim failed", exc_info=True)
        del state  # hold no reference while waiting
