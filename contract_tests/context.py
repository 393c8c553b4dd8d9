"""The state of one run: target, budget, outcomes, and how drivers report what they saw."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from .budget import Budget, PriceTable
from .options import Options
from .payloads import quickstart_text_to_image
from .receiver import Receiver
from .registry import CHECKS, Check, CheckFailed, CheckSkipped, Kind, Outcome
from .transport import Exchange, Transport
from .verdicts import accepted_task_id, is_rejected

MAX_FAILURES_KEPT = 5
CALLBACK_PROBE = "callback_mode_accepted"


def _exchange_of(subject: Any) -> Exchange | None:
    """Return the request behind what a check judged (an exchange, a poll, a task)."""
    if isinstance(subject, Exchange):
        return subject
    found = getattr(subject, "exchange", None)
    if isinstance(found, Exchange):
        return found
    task = getattr(subject, "task", None)
    last = getattr(task, "last", None)
    found = getattr(last, "exchange", None) or getattr(task, "submission", None)
    return found if isinstance(found, Exchange) else None


class NotApplicable(Exception):
    """The subject says nothing about this check (neither a pass nor a failure)."""


@dataclass
class Context:
    """Everything checks and drivers share during one run."""

    options: Options
    transport: Transport
    budget: Budget
    base_rng: random.Random
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    receiver: Receiver | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    deadlines: list[str] = field(default_factory=list)  # waits that ran to their limit
    # Set once the scenarios have shown whether failed tasks can be asked for.
    scenarios_done: threading.Event = field(default_factory=threading.Event)
    evidence: dict[str, Exchange] = field(default_factory=dict)  # last exchange per check
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reference_lock: threading.Lock = field(default_factory=threading.Lock)
    _probe: threading.local = field(default_factory=threading.local)

    @classmethod
    def create(cls, options: Options, prices: PriceTable | None = None) -> Context:
        budget = Budget(prices or PriceTable.default(), max_tasks=options.task_cap,
                        max_spend=options.spend_cap)
        transport = Transport(options.base_url, options.api_key,
                              timeout_s=options.request_timeout_s)
        ctx = cls(options, transport, budget, random.Random(options.seed))
        chosen = [spec for name, spec in CHECKS.items() if options.selected(name)]
        if any("callback" in spec.kinds for spec in chosen):
            chosen.append(CHECKS[CALLBACK_PROBE])  # the probe that makes callbacks happen
        for spec in sorted(set(chosen), key=list(CHECKS.values()).index):
            ctx.outcomes[spec.name] = Outcome(spec)
        return ctx

    def active(self, kind: Kind) -> list[Check]:
        return [o.check for o in self.outcomes.values() if kind in o.check.kinds]

    # -- recording -------------------------------------------------------------------

    def record_pass(self, name: str) -> None:
        with self._lock:
            self.outcomes[name].passed += 1

    def record_failure(self, name: str, failure: CheckFailed) -> None:
        with self._lock:
            outcome = self.outcomes[name]
            if len(outcome.failures) < MAX_FAILURES_KEPT:
                outcome.failures.append(failure)

    def record_skip(self, name: str, reason: str) -> None:
        with self._lock:
            outcome = self.outcomes[name]
            outcome.skip_reason = outcome.skip_reason or reason

    def mark_unavailable(self, need: str, reason: str) -> None:
        self.unavailable.setdefault(need, reason)

    def note_deadline(self, what: str) -> None:
        """Remember a wait that ran to its limit (a run that fails fast has none)."""
        with self._lock:
            self.deadlines.append(what)

    def note_evidence(self, name: str, exchange: Exchange | None) -> None:
        if exchange is not None:
            with self._lock:
                self.evidence[name] = exchange

    def emit(self, kind: Kind, subject: Any, *, strict: bool = False) -> bool:
        """Run every selected check of `kind` on `subject`; return whether one failed (in
        strict mode re-raise the failure)."""
        first: CheckFailed | None = None
        for spec in self.active(kind):
            try:
                spec.fn(self, subject)
            except NotApplicable:
                continue
            except CheckSkipped as exc:
                self.record_skip(spec.name, str(exc))
            except CheckFailed as exc:
                self.record_failure(spec.name, exc)
                first = first or exc
            else:
                self.record_pass(spec.name)
                self.note_evidence(spec.name, _exchange_of(subject))
        if strict and first is not None:
            raise first
        return first is not None

    # -- sending -----------------------------------------------------------------------

    def submit(self, payload: Any, *, scenario: str | None = None,
               headers: dict[str, str] | None = None, raw: bytes | None = None,
               strict: bool = False) -> Exchange:
        """Submit within the budget (refunded when rejected) and run the exchange checks."""
        price = self.budget.reserve(payload)
        exchange = self.transport.submit(payload, headers=headers, scenario=scenario, raw=raw)
        self._sent(exchange)
        if is_rejected(exchange):
            self.budget.refund(price)
        self.emit("exchange", exchange, strict=strict)
        return exchange

    def status(self, task_id: str, *, headers: dict[str, str] | None = None,
               strict: bool = False) -> Exchange:
        exchange = self.transport.status(task_id, headers=headers)
        self._sent(exchange)
        self.emit("exchange", exchange, strict=strict)
        return exchange

    def _sent(self, exchange: Exchange) -> None:
        """Keep the latest request of the probe running in this thread (to replay it)."""
        probe = getattr(self._probe, "name", None)
        if probe is not None:
            self.note_evidence(probe, exchange)

    def running_probe(self, name: str | None) -> None:
        """Note the probe this thread runs; it draws from its own seeded random source, so
        that probes run side by side replay alike under --seed."""
        self._probe.name = name
        self._probe.rng = None if name is None else \
            random.Random(f"{self.options.seed}/{name}")

    @property
    def rng(self) -> random.Random:
        own: random.Random | None = getattr(self._probe, "rng", None)
        return own if own is not None else self.base_rng

    def reference_task(self) -> tuple[Exchange, str | None]:
        """Return the submission of the docs' Quick Start request, made once per run."""
        with self._reference_lock:
            if "reference" not in self.shared:
                exchange = self.submit(quickstart_text_to_image())
                self.shared["reference"] = (exchange, accepted_task_id(exchange))
        result: tuple[Exchange, str | None] = self.shared["reference"]
        return result

    def reference_task_id(self) -> str:
        _exchange, task_id = self.reference_task()
        if task_id is None:
            raise CheckSkipped("the docs' Quick Start request was not accepted "
                               "(see submit_answer)")
        return task_id
