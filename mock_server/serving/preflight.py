"""Before serving: is the port free, and the store made ready for a new run.

A start on a store of its own (a SQLite file) renews what the configuration decides
(rate-limit windows, charges, run-time settings, the scenario queue) and keeps what clients
were told (tasks, their results, callback deliveries, the request journal, and the clock
offset those tasks' times rest on).
`--fresh` forgets everything. A PostgreSQL store, shared by several instances, is left as
it is: a reset through any instance is the way to renew it.
"""

from __future__ import annotations

import errno
import socket
import threading

from mock_server.serving.banner import StoreContents
from mock_server.settings import Settings
from mock_server.storage import Storage, open_storage

# Counting stops here: the banner needs "many", not an exact figure from a huge store.
COUNT_CAP = 100_000


class SharedStoreError(Exception):
    """A start-up request that would change what other instances share."""


def is_shared_database(store: str) -> bool:
    """Whether `store` names a database several servers share (PostgreSQL)."""
    return store.startswith(("postgresql://", "postgres://"))


def port_problem(host: str, port: int) -> str | None:
    """Return why `host:port` cannot be bound (in words a person can act on), or None."""
    if port == 0:
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As gunicorn binds: a port left in TIME_WAIT by a stopped server is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is already in use (another flux2-mock?). "
                        f"Stop that server, or pick another port: --port 8001 "
                        f"(--port 0 picks a free one).")
            return (f"cannot listen on {host}:{port}: {exc.strerror or exc}. "
                    f"Use --host 127.0.0.1 and a port above 1023.")
    return None


def count_tasks(storage: Storage) -> int:
    """Count the store's tasks, up to COUNT_CAP."""
    count, after = 0, 0
    while count < COUNT_CAP:
        page = storage.tasks.list_tasks(limit=1000, after_seq=after)
        count += len(page)
        if len(page) < 1000:
            break
        after = page[-1].seq
    return count


def forget_everything(storage: Storage) -> None:
    """Empty the store: tasks, deliveries, journal, usage, charges, settings, and the clock."""
    storage.outbox.reset()
    storage.tasks.reset()
    storage.usage.reset()
    storage.ledger.reset()
    storage.runtime.reset()
    storage.journal.reset()
    storage.clock.reset()


def renew_configured_state(storage: Storage) -> None:
    """Forget what the configuration decides afresh at each start: the rates, charges, overrides."""
    storage.usage.reset()  # rate-limit windows and request counters
    storage.ledger.reset()  # charges: every --balance starts full again
    storage.runtime.reset()  # PATCH /_mock/settings overrides and queued scenarios


def prepare_store(settings: Settings, *, fresh: bool = False) -> StoreContents:
    """Make the store ready for a new run and return what it still holds.

    Runs in a thread of its own: its SQLite connections are that thread's and go with
    it, so gunicorn's master forks its workers holding none.
    """
    if settings.store_path == "memory":
        return StoreContents(0, 0)
    if is_shared_database(settings.store_path):
        # Other instances share it: one instance's start renews nothing of theirs.
        if fresh:
            raise SharedStoreError("--fresh empties a store of this server's own; a PostgreSQL "
                                   "store is shared by every instance: POST /_mock/reset "
                                   "empties it for all of them")
        return StoreContents(0, 0)
    found: list[StoreContents] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            storage = open_storage(settings.store_path,
                                   journal_max_entries=settings.journal_max_entries)
            try:
                if fresh:
                    forget_everything(storage)
                else:
                    renew_configured_state(storage)
                found.append(StoreContents(count_tasks(storage), storage.clock.offset_ms()))
            finally:
                storage.close()
        except BaseException as exc:  # re-raised in the caller's thread
            failed.append(exc)

    worker = threading.Thread(target=work, name="flux2-mock-preflight")
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
    return found[0]
