"""Concurrent creations share transactions, and each is committed before it returns."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from mock_server.storage.sqlite.batch import GroupCommit
from mock_server.storage.sqlite.db import SQLiteConnections

SCHEMA = "CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, who TEXT NOT NULL);"


@pytest.fixture
def db(tmp_path: Path) -> SQLiteConnections:
    return SQLiteConnections(tmp_path / "t.sqlite3", SCHEMA)


def test_every_creation_of_many_threads_is_stored_once_and_visible_on_return(
        db: SQLiteConnections) -> None:
    transactions: list[int] = []

    def counted() -> AbstractContextManager[sqlite3.Connection]:
        transactions.append(1)
        return db.transaction()

    group: GroupCommit[int] = GroupCommit(counted)
    seen: list[int] = []
    # Another connection sees only committed rows.
    other = sqlite3.connect(db.path, check_same_thread=False)

    def insert(conn: sqlite3.Connection, who: str) -> int:
        return int(conn.execute("INSERT INTO t (who) VALUES (?) RETURNING n",
                                (who,)).fetchone()[0])

    def creator(number: int) -> None:
        for i in range(40):
            n = group.run(lambda conn, w=f"{number}-{i}": insert(conn, w))
            assert other_sees(n)
            seen.append(n)

    lock = threading.Lock()

    def other_sees(n: int) -> bool:
        with lock:
            return other.execute("SELECT COUNT(*) FROM t WHERE n = ?", (n,)).fetchone()[0] == 1

    threads = [threading.Thread(target=creator, args=(k,)) for k in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    other.close()
    assert sorted(seen) == list(range(1, 12 * 40 + 1))
    count = db.conn.execute("SELECT COUNT(DISTINCT who) FROM t").fetchone()[0]
    assert count == 12 * 40
    assert len(transactions) < 12 * 40  # some transactions held several creations


def test_a_failing_creation_fails_alone(db: SQLiteConnections) -> None:
    group: GroupCommit[int] = GroupCommit(db.transaction)

    def bad(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t (who) VALUES ('half')")
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        group.run(bad)
    assert group.run(lambda conn: conn.execute(
        "INSERT INTO t (who) VALUES ('ok') RETURNING n").fetchone()[0]) == 1
    assert [w for (w,) in db.conn.execute("SELECT who FROM t")] == ["ok"]  # 'half' undone
