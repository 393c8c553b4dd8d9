"""Connections to PostgreSQL: one pool per process, opened lazily, never used across a fork.

gunicorn's master forks its workers: a pool (with its sockets and threads) made
before the fork must not be used after it, so the pool is keyed by the pid that
opened it and a forked process opens its own. A lost connection fails the
request in flight with StoreUnavailable (a 503 envelope); the pool checks each
connection it hands out and replaces broken ones, so service resumes by itself.
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from mock_server.storage import StorageUnavailable

# Per worker process. Its request threads hold a connection only for a query or a
# transaction (a few of them at once: the GIL runs one), its callback dispatcher 1-2,
# the journal and metrics flushers 1 each.
DEFAULT_POOL_SIZE = 8
CONNECT_TIMEOUT_S = 5


class StoreUnavailable(StorageUnavailable):
    """The database cannot be reached (or was lost mid-request); answered as a 503 envelope."""


def redact(dsn: str) -> str:
    """Return the DSN with any password replaced, fit for logs and error messages."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def is_postgres_dsn(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://"))


def check_alive(conn: psycopg.Connection[Any]) -> None:
    """Raise when the connection is dead, without a round trip in the usual case.

    An idle connection has nothing to read. A server that went away left an EOF (or a
    last message, such as its shutdown notice) on the socket: a peek finds it.
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    sock = socket.socket(fileno=conn.fileno())
    try:
        waiting = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return  # nothing unasked on the line: alive, as far as anyone can tell
    finally:
        sock.detach()  # the socket stays psycopg's
    if not waiting:
        raise psycopg.OperationalError("the server closed the connection")
    conn.execute("")  # something unasked (a notice, a shutdown message): ask the server


def unavailable(dsn: str, exc: BaseException) -> StoreUnavailable:
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return StoreUnavailable(f"store {redact(dsn)} is unavailable: {first_line}")


@dataclass
class _Scope:
    """Values fixed for the length of one request."""

    cache: dict[str, Any] = field(default_factory=dict)


class PgDatabase:
    """This process's pool for one database, and the connection a block of work is bound to."""

    def __init__(self, dsn: str, *, pool_size: int | None = None,
                 timeout_s: float = 5.0) -> None:
        self.dsn = dsn
        self.pool_size = pool_size or DEFAULT_POOL_SIZE
        self.timeout_s = timeout_s
        self._pool: ConnectionPool | None = None
        self._pid = 0
        self._lock = threading.Lock()
        # Set while a block runs in one transaction (admission): every store call inside
        # it uses that connection, so the block commits or rolls back as one.
        self._bound: contextvars.ContextVar[psycopg.Connection[Any] | None] = \
            contextvars.ContextVar(f"flux2_pg_bound_{id(self)}", default=None)
        self._scope: contextvars.ContextVar[_Scope | None] = \
            contextvars.ContextVar(f"flux2_pg_scope_{id(self)}", default=None)

    def pool(self) -> ConnectionPool:
        """This process's pool, opened on first use (again in a forked child)."""
        pid = os.getpid()
        if self._pool is None or self._pid != pid:
            with self._lock:
                if self._pool is None or self._pid != pid:
                    # An inherited pool is dropped, not closed: closing would end sessions
                    # that belong to the parent process.
                    self._pool = ConnectionPool(
                        self.dsn, min_size=1, max_size=self.pool_size, open=True,
                        timeout=self.timeout_s, name=f"flux2-mock-{pid}",
                        kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S,
                                "application_name": "flux2-mock"},
                        check=check_alive)
                    self._pid = pid
        return self._pool

    @contextmanager
    def request_scope(self) -> Iterator[None]:
        """Keep values that stand still while one request is answered (the clock's offset).

        The scope holds no connection: a threaded worker may have a request sleep (a
        latency fault) after its first query, and a held connection would starve the
        pool for the others. Each query checks one out (a lock and a socket peek).
        """
        token = self._scope.set(_Scope())
        try:
            yield
        finally:
            self._scope.reset(token)

    def scope_cache(self) -> dict[str, Any] | None:
        """Values kept for the rest of the current request; None outside a request."""
        scope = self._scope.get()
        return None if scope is None else scope.cache

    @contextmanager
    def _checkout(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self.pool().connection() as conn:
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._after_failure(exc)
            raise unavailable(self.dsn, exc) from exc

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection in autocommit mode (or the bound one), for a statement or a few."""
        bound = self._bound.get()
        if bound is not None:
            yield bound
            return
        with self._checkout() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """Run the block in one transaction (within the bound one, if any).

        The connection is bound to this thread for the block: a store call made inside
        it (a callback such as create_task's `build` reading the run-time settings) uses
        the same connection. A second checkout there could wait forever on a pool whose
        every connection waits for a row lock this transaction holds.
        """
        bound = self._bound.get()
        if bound is not None:
            yield bound  # already inside the bound block's transaction
            return
        with self._checkout() as conn:
            try:
                with conn.transaction():
                    token = self._bound.set(conn)
                    try:
                        yield conn
                    finally:
                        self._bound.reset(token)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self._after_failure(exc)
                raise unavailable(self.dsn, exc) from exc

    @contextmanager
    def bound(self, lock_key: int | None = None) -> Iterator[psycopg.Connection[Any]]:
        """Run the block as one transaction bound to this thread, under an advisory lock.

        Every store call inside it uses that transaction, so the block commits or rolls
        back as one. The lock is transaction-level: it is released at COMMIT or ROLLBACK,
        and by the server when the connection is lost, so a crashed holder never blocks
        the others.
        """
        if self._bound.get() is not None:
            raise RuntimeError("a bound transaction is already open on this thread")
        with self.transaction() as conn:
            if lock_key is not None:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
            yield conn

    def _after_failure(self, exc: BaseException) -> None:
        """Drop a pool that found no connection: its reconnection backs off for longer and
        longer while the server is away; a new pool connects at the next request."""
        if not isinstance(exc, PoolTimeout):
            return
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            threading.Thread(target=pool.close, kwargs={"timeout": 0}, daemon=True).start()

    def close(self) -> None:
        """Close this process's pool, if this process opened it."""
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None
