"""The callback dispatcher: fires each due callback off the request path, and retries.

Each process runs at most one thread per app: an asyncio loop that polls the
outbox every 10 ms, claims what is due and runs each attempt as a task of its
own, so a receiver that hangs delays nobody else. The thread starts when a callback-mode
task is submitted (or at once when the store holds callbacks left to deliver)
and ends when nothing is left waiting. Tests on a virtual clock drive it by
hand with `deliver_due()`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from itertools import count
from typing import Any
from urllib.parse import urlsplit

from mock_server.callbacks.sender import HostPolicy, Result, Sender, callback_payload, encode
from mock_server.domain.clock import Clock, VirtualClock
from mock_server.domain.deliveries import (
    ABANDONED,
    DELIVERED,
    WAITING,
    Attempt,
    Delivery,
    Finished,
    Job,
)
from mock_server.domain.profiles import TimingProfile
from mock_server.domain.tasks import TaskRecord, task_data
from mock_server.settings import Settings
from mock_server.storage.protocols import Outbox, TaskStore

log = logging.getLogger(__name__)
_HOST = socket.gethostname()
_PROCESS: dict[int, str] = {}
_SERIAL = count(1)


def process_id() -> str:
    """Name this process uniquely (a pid can be reused; a random token cannot)."""
    pid = os.getpid()
    if pid not in _PROCESS:
        _PROCESS[pid] = f"{_HOST}:{pid}:{os.urandom(4).hex()}"
    return _PROCESS[pid]


def owner_alive(owner: str) -> bool:
    """Whether the process that holds a lease may still be running."""
    host, pid_text, token = [*owner.split(":"), "", "", ""][:3]
    if host != _HOST or not pid_text.isdigit():
        return True  # another machine's process: only its lease's expiry tells
    if int(pid_text) == os.getpid():
        return process_id().split(":")[2] == token
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again: the waits between attempts, the attempt time-out, the retry count."""

    delays_ms: tuple[int, ...]
    timeout_ms: int
    max_retries: int

    @classmethod
    def from_settings(cls, settings: Settings, profile: TimingProfile) -> RetryPolicy:
        delays = tuple(round(float(s) * 1000) for s in settings.callback_retry_s or ()) \
            or profile.callback_retry_ms
        timeout = profile.callback_timeout_ms if settings.callback_timeout_s is None \
            else round(settings.callback_timeout_s * 1000)
        return cls(tuple(delays), timeout, settings.callback_max_retries)

    def wait_after(self, attempts_made: int) -> int | None:
        """Return the wait before the next attempt after `attempts_made` failures; None: give up."""
        if attempts_made > self.max_retries:
            return None
        return self.delays_ms[min(attempts_made, len(self.delays_ms)) - 1] \
            if self.delays_ms else 0

    @property
    def lease_ms(self) -> int:
        # Longer than any attempt can take, so a live holder is never overtaken.
        return 2 * self.timeout_ms + 5_000


class Dispatcher:
    """Delivers what the outbox says is due: by a background thread, or `deliver_due()`."""

    def __init__(self, outbox: Outbox, store: TaskStore, clock: Clock, sender: Sender,
                 policy: RetryPolicy, *, failure_envelope: str = "flux-2",
                 background: bool = True, concurrency: int = 64, per_receiver: int = 16,
                 poll_s: float = 0.01) -> None:
        self.outbox = outbox
        self.store = store
        self.clock = clock
        self.sender = sender
        self.policy = policy
        self.failure_envelope = failure_envelope
        self.background = background
        self.concurrency = concurrency
        self.per_receiver = per_receiver
        self.poll_s = poll_s
        self._serial = next(_SERIAL)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._in_flight: set[asyncio.Task[Finished | None]] = set()
        self._done: list[Finished] = []  # attempts made, to journal at the next tick
        # Semaphores belong to one event loop: deliver_due runs each call on a loop of its own.
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                               dict[str, asyncio.Semaphore]] = \
            weakref.WeakKeyDictionary()

    @property
    def owner(self) -> str:
        return f"{process_id()}:{self._serial}"

    # -- what the app calls ---------------------------------------------------------------

    def task_submitted(self, record: TaskRecord) -> None:
        """Start the thread for a new callback-mode task if it sleeps; never waits on anything."""
        if record.request.get("request_type") == "callback":
            self.notify()

    def notify(self) -> None:
        if not self.background:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),),
                                                name="flux2-mock-callbacks", daemon=True)
                self._thread.start()

    def deliver_due(self, now_ms: int | None = None) -> int:
        """Make every attempt due at `now_ms` (default: the clock's now); return how many."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        made: list[int] = []
        # A thread of its own: the caller may itself be running an event loop.
        worker = threading.Thread(target=lambda: made.append(asyncio.run(self._due_now(now))))
        worker.start()
        worker.join()
        if not made:
            raise RuntimeError("deliver_due failed; see the log")
        return made[0]

    def redeliver(self, record: TaskRecord) -> int:
        """Queue one more delivery of a finished task's callback, due now; return its number."""
        number = self.outbox.add_delivery(record, "redeliver", self.clock.now_ms())
        self.notify()
        return number

    def journal(self, task_id: str) -> list[Delivery]:
        return self.outbox.journal(task_id)

    # -- attempts -------------------------------------------------------------------------

    async def _due_now(self, now: int) -> int:
        self.outbox.register_new()
        self.outbox.reap(owner_alive)
        made = 0
        # Bounded: only a zero wait between retries makes a second round due at `now`.
        for _round in range(self.policy.max_retries + 2):
            jobs = self.outbox.claim_due(now, self.owner, self.policy.lease_ms, 256)
            if not jobs:
                break
            done = await asyncio.gather(*(self._attempt(job, now) for job in jobs))
            self._journal([d for d in done if d is not None])
            made += len(jobs)
        return made

    async def _attempt(self, job: Job, fixed_now: int | None = None) -> Finished | None:
        """Make one attempt; return what to journal (None: the job was handed back)."""
        owner = self.owner
        started = self.clock.now_ms() if fixed_now is None else fixed_now
        payload: dict[str, Any] = {}
        try:
            record = self.store.get_task(job.task_id)
            complete = None if record is None else record.plan.complete_ms
            if record is None or complete is None:
                self.outbox.release(job, owner)  # reset or forced stuck: no longer claimable
                return None
            payload = callback_payload(task_data(record, complete),
                                       failure_envelope=self.failure_envelope)
            async with self._slot(job.url):
                started = self.clock.now_ms() if fixed_now is None else fixed_now
                result = await self.sender.post(job.url, encode(payload),
                                                self.policy.timeout_ms / 1000)
        except Exception as exc:
            # Journal it as a failed attempt: retried on the schedule, never in a hot loop.
            log.exception("callback attempt for %s failed unexpectedly", job.task_id)
            result = Result(None, f"internal error: {type(exc).__name__}: {exc}", 0, False)
        made = job.attempts + 1
        wait = None if result.final else self.policy.wait_after(made)
        if result.delivered:
            state, next_ms = DELIVERED, None
        elif wait is None:
            state, next_ms = ABANDONED, None
        else:
            ended = self.clock.now_ms() if fixed_now is None else fixed_now
            state, next_ms = WAITING, ended + wait
        attempt = Attempt(job.delivery, made, started, job.url, result.status, result.error,
                          result.latency_ms, payload)
        return Finished(job, owner, attempt, state, next_ms)

    def _journal(self, done: list[Finished]) -> None:
        try:
            self.outbox.finish_many(done)
        except Exception:  # the store failed: the leases lapse and the attempts come again
            log.exception("could not journal %d callback attempts", len(done))

    def _slot(self, url: str) -> asyncio.Semaphore:
        """A few attempts at a time per receiver: a burst must not swamp its listen queue."""
        origin = urlsplit(url).netloc.lower()
        slots = self._slots.setdefault(asyncio.get_running_loop(), {})
        if origin not in slots:
            slots[origin] = asyncio.Semaphore(self.per_receiver)
        return slots[origin]

    # -- the thread -----------------------------------------------------------------------

    async def _serve(self) -> None:
        """Poll, claim and start attempts until nothing is left waiting."""
        next_reap = 0.0
        while True:
            try:
                done, self._done = self._done, []
                reap = time.monotonic() >= next_reap
                next_reap = time.monotonic() + 1.0 if reap else next_reap
                free = self.concurrency - len(self._in_flight)
                # SQLite may wait for another process's write lock: never on the event loop,
                # where it would stall every attempt in flight.
                for job in await asyncio.to_thread(self._store_work, done, free, reap):
                    task = asyncio.create_task(self._attempt(job))
                    self._in_flight.add(task)
                    task.add_done_callback(self._finished)
            except Exception:  # a locked or vanished store: keep trying, never die silently
                log.exception("callback dispatcher tick failed")
            with self._lock:
                if not self._in_flight and not self._done and self._idle_safely():
                    self._thread = None
                    return
            await asyncio.sleep(self.poll_s)

    def _finished(self, task: asyncio.Task[Finished | None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is None and task.result() is not None:
            self._done.append(task.result())  # type: ignore[arg-type]

    def _store_work(self, done: list[Finished], free: int, reap: bool) -> list[Job]:
        """One tick's store work, in a worker thread: journal, find, reap, claim."""
        if done:
            self._journal(done)  # batched: one transaction a tick, not one an attempt
        self.outbox.register_new()
        if reap:
            self.outbox.reap(owner_alive)
        if free <= 0:
            return []
        return self.outbox.claim_due(self.clock.now_ms(), self.owner, self.policy.lease_ms, free)

    def _idle_safely(self) -> bool:
        try:
            return self.outbox.idle()
        except Exception:
            return False


def build_dispatcher(settings: Settings, store: TaskStore, outbox: Outbox, clock: Clock,
                     profile: TimingProfile) -> Dispatcher:
    """Return the app's dispatcher over `outbox`; start it if work is left from before."""
    mode = settings.callback_dispatch
    background = mode == "thread" or (mode == "auto" and not isinstance(clock, VirtualClock))
    dispatcher = Dispatcher(outbox, store, clock,
                            Sender(HostPolicy.parse(
                                settings.callback_allowed_hosts,
                                reject_private=settings.callback_reject_private)),
                            RetryPolicy.from_settings(settings, profile),
                            failure_envelope=settings.failure_callback_envelope,
                            background=background)
    if background and outbox.shared and not outbox.idle():
        dispatcher.notify()  # callbacks accepted before a restart (or a crash) still go out
    return dispatcher
