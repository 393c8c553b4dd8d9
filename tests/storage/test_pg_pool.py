"""The pool: one per process (never across a fork), and connection loss answered, then healed."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from mock_server.storage.postgres import StoreUnavailable, migrate, open_postgres_storage
from tests.storage.test_store_contract import builder
from tests.support.postgres import postgres


def test_a_forked_child_opens_its_own_pool_and_leaves_the_parents_alone(pg_dsn: str) -> None:
    migrate(pg_dsn)
    stores = open_postgres_storage(pg_dsn)
    parent_pool = stores.tasks.db.pool()
    stores.tasks.create_task(builder())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave at once (no pytest clean-up here)
        code = 1
        try:
            own_pool = stores.tasks.db.pool() is not parent_pool
            ok = own_pool and stores.tasks.create_task(builder()).seq
            os.write(write, str(ok).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    answer = os.read(read, 100).decode()
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0 and answer == "2"
    # The parent's connections still work: the child neither used nor closed them.
    assert stores.tasks.db.pool() is parent_pool
    assert [r.seq for r in stores.tasks.list_tasks()] == [1, 2]
    stores.tasks.db.close()


@pytest.mark.slow
def test_restarted_database_fails_in_flight_calls_clearly_then_heals() -> None:
    with postgres() as server:
        dsn = server.create_database("lossy")
        migrate(dsn)
        stores = open_postgres_storage(dsn, pool_size=2)
        stores.tasks.db.timeout_s = 2.0
        first = stores.tasks.create_task(builder())
        server.stop()
        with pytest.raises(StoreUnavailable) as caught:
            stores.tasks.get_task(first.task_id)
        message = str(caught.value)
        assert message.startswith(f"store {dsn} is unavailable") and "\n" not in message
        server.start()
        # Broken connections are checked out and replaced: the first call after works.
        assert stores.tasks.get_task(first.task_id) == first
        assert stores.tasks.create_task(builder()).seq == 2
        stores.tasks.db.close()



def test_a_request_scope_reads_the_clock_once(pg_dsn: str) -> None:
    migrate(pg_dsn)
    mine, other = open_postgres_storage(pg_dsn), open_postgres_storage(pg_dsn)
    record = mine.tasks.create_task(builder())
    with mine.tasks.db.request_scope():
        first = mine.clock.offset_ms()
        other.clock.advance(60)  # another instance, during this request
        assert mine.tasks.get_task(record.task_id) == record
        assert mine.clock.offset_ms() == first  # the request's time stands still
    assert mine.clock.offset_ms() == first + 60_000  # the next request sees the advance
    mine.tasks.db.close()
    other.tasks.db.close()


def test_a_store_call_inside_a_transaction_needs_no_second_connection(pg_dsn: str) -> None:
    # create_task's `build` reads the run-time settings while the task counter's row is
    # locked: with every pooled connection held by threads waiting for that lock, a second
    # checkout would wait for the pool's time-out. It runs on the transaction's connection.
    migrate(pg_dsn)
    stores = open_postgres_storage(pg_dsn, pool_size=2)
    stores.tasks.db.timeout_s = 3.0
    build = builder()
    seqs: list[int] = []
    failures: list[BaseException] = []

    def reading_build(seq: int) -> Any:
        stores.runtime.overrides()
        return build(seq)

    def submit_some() -> None:
        try:
            for _ in range(5):
                seqs.append(stores.tasks.create_task(reading_build).seq)
        except BaseException as exc:  # collected: a thread's error must fail the test
            failures.append(exc)

    threads = [threading.Thread(target=submit_some) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(seqs) == list(range(1, 31))
    stores.tasks.db.close()
