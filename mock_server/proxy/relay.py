"""Callbacks through the proxy: with --public-url, a task's callback_url points at the
proxy; the upstream's callback is judged, then forwarded to the client's own URL by the
mock's callback sender, retried on the documented schedule, every attempt journaled.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass

from mock_server.callbacks.dispatcher import RetryPolicy, process_id
from mock_server.callbacks.sender import Result, Sender
from mock_server.domain.clock import Clock
from mock_server.domain.deliveries import ABANDONED, DELIVERED, WAITING, Attempt, Delivery
from mock_server.proxy.exchange import parse_json
from mock_server.storage.sqlite.db import SQLiteConnections

log = logging.getLogger(__name__)
RELAY_PATH = "/_mock/relay/"

SCHEMA = """
CREATE TABLE IF NOT EXISTS proxy_relay_out (
    id          INTEGER PRIMARY KEY,
    task_id     TEXT NOT NULL,
    url         TEXT NOT NULL,
    body        BLOB NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_ms     INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER
);
CREATE TABLE IF NOT EXISTS proxy_relay_attempts (
    id         INTEGER PRIMARY KEY,
    out_id     INTEGER NOT NULL,
    task_id    TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    time_ms    INTEGER NOT NULL,
    url        TEXT NOT NULL,
    status     INTEGER,
    error      TEXT,
    latency_ms INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Target:
    """Where a relayed callback goes: the client's own callback_url."""

    url: str
    key_id: str
    task_id: str | None


class Relay:
    """Tokens for rewritten callback URLs, and the deliveries of what came back."""

    def __init__(self, path: str | os.PathLike[str], clock: Clock, sender: Sender,
                 policy: RetryPolicy, public_url: str) -> None:
        self.db = SQLiteConnections(path, SCHEMA)  # beside the proxy's tables (db.py)
        self.clock = clock
        self.sender = sender
        self.policy = policy
        self.public_url = public_url.rstrip("/")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- submit side ----------------------------------------------------------------------------

    def rewrite(self, url: str, key_id: str) -> str:
        """Remember the client's URL under a fresh token; return the proxy's URL to send."""
        token = secrets.token_urlsafe(18)
        self.db.conn.execute("INSERT INTO proxy_relay (token, url, key_id) VALUES (?, ?, ?)",
                             (token, url, key_id))
        return f"{self.public_url}{RELAY_PATH}{token}"

    def bind(self, relay_url: str, task_id: str | None) -> None:
        """Tie the token of `relay_url` to the task the upstream accepted (or drop it)."""
        token = relay_url.rsplit("/", 1)[-1]
        if task_id is None:
            self.db.conn.execute("DELETE FROM proxy_relay WHERE token = ?", (token,))
        else:
            self.db.conn.execute("UPDATE proxy_relay SET task_id = ? WHERE token = ?",
                                 (task_id, token))

    def target(self, token: str) -> Target | None:
        row = self.db.conn.execute("SELECT url, key_id, task_id FROM proxy_relay "
                                   "WHERE token = ?", (token,)).fetchone()
        return None if row is None else Target(row[0], row[1], row[2])

    # -- callback side --------------------------------------------------------------------------

    def enqueue(self, task_id: str, url: str, body: bytes, due_ms: int | None = None) -> None:
        """Queue a callback body, unchanged, for the client's URL, due now (or at `due_ms`)."""
        self.db.conn.execute("INSERT INTO proxy_relay_out (task_id, url, body, state, next_ms) "
                             "VALUES (?, ?, ?, ?, ?)", (task_id, url, body, WAITING,
                                                        due_ms or self.clock.now_ms()))
        self.notify()

    def notify(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, daemon=True,
                                                name="flux2-mock-relay")
                self._thread.start()

    def _serve(self) -> None:
        """Deliver what is due until nothing waits."""
        while True:
            try:
                jobs = self._claim()
                if jobs:
                    results = asyncio.run(self._post_all(jobs))
                    for job, (started, result) in zip(jobs, results, strict=True):
                        self._finish(job, started, result)
                    continue
                due = self.db.conn.execute(
                    "SELECT MIN(next_ms) FROM proxy_relay_out WHERE state = ?", (WAITING,)
                ).fetchone()[0]
            except Exception:  # a locked store: try again on the next tick
                log.exception("callback relay tick failed")
                due = self.clock.now_ms()
            if due is None:
                with self._lock:  # enqueue() notifies under this lock: look once more
                    if self._waiting():
                        continue
                    self._thread = None
                return
            # Until the next retry is due (a wait of minutes need not poll 50 times a second),
            # but never long: another worker may queue an earlier one.
            time.sleep(min(0.5, max(0.02, (due - self.clock.now_ms()) / 1000)))

    def _waiting(self) -> bool:
        return self.db.conn.execute("SELECT 1 FROM proxy_relay_out WHERE state = ? LIMIT 1",
                                    (WAITING,)).fetchone() is not None

    def _claim(self) -> list[tuple[int, str, str, bytes, int]]:
        now, owner = self.clock.now_ms(), f"{process_id()}:relay"
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, task_id, url, body, attempts FROM proxy_relay_out WHERE state = ? "
                "AND next_ms <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_ms "
                "LIMIT 32", (WAITING, now, now)).fetchall()
            conn.executemany("UPDATE proxy_relay_out SET lease_owner = ?, lease_until = ? "
                             "WHERE id = ?",
                             [(owner, now + self.policy.lease_ms, r[0]) for r in rows])
        return [(int(r[0]), str(r[1]), str(r[2]), bytes(r[3]), int(r[4])) for r in rows]

    async def _post_all(self, jobs: list[tuple[int, str, str, bytes, int]]
                        ) -> list[tuple[int, Result]]:
        async def one(url: str, body: bytes) -> tuple[int, Result]:
            started = self.clock.now_ms()
            return started, await self.sender.post(url, body, self.policy.timeout_ms / 1000)
        return list(await asyncio.gather(*(one(job[2], job[3]) for job in jobs)))

    def _finish(self, job: tuple[int, str, str, bytes, int], started: int,
                result: Result) -> None:
        out_id, task_id, url, _body, attempts = job
        made = attempts + 1
        wait = None if result.final else self.policy.wait_after(made)
        state = DELIVERED if result.delivered else (ABANDONED if wait is None else WAITING)
        next_ms = self.clock.now_ms() + (wait or 0)
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO proxy_relay_attempts (out_id, task_id, attempt, time_ms, "
                         "url, status, error, latency_ms) VALUES (?,?,?,?,?,?,?,?)",
                         (out_id, task_id, made, started, url, result.status, result.error,
                          result.latency_ms))
            conn.execute("UPDATE proxy_relay_out SET state = ?, attempts = ?, next_ms = ?, "
                         "lease_owner = NULL, lease_until = NULL WHERE id = ?",
                         (state, made, next_ms, out_id))

    # -- what the control plane and the conformance report read -----------------------------

    def journal(self, task_id: str) -> list[Delivery]:
        """Each relayed callback of a task and its delivery attempts (the mock's shape)."""
        deliveries = []
        outs = self.db.conn.execute("SELECT id, url, state, next_ms, body FROM proxy_relay_out "
                                    "WHERE task_id = ? ORDER BY id", (task_id,)).fetchall()
        for number, (out_id, url, state, next_ms, body) in enumerate(outs, 1):
            delivery = Delivery(number, "relay", url, state, next_ms)
            payload = parse_json(bytes(body))
            for row in self.db.conn.execute(
                    "SELECT attempt, time_ms, url, status, error, latency_ms FROM "
                    "proxy_relay_attempts WHERE out_id = ? ORDER BY id", (out_id,)):
                delivery.attempts.append(Attempt(number, row[0], row[1], row[2], row[3],
                                                 row[4], row[5], payload
                                                 if isinstance(payload, dict) else {}))
            deliveries.append(delivery)
        return deliveries

    def reset(self, *, api_key: str | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM proxy_relay_out")
            conn.execute("DELETE FROM proxy_relay_attempts")
