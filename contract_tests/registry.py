"""Checks: small named functions, each quoting the sentence of the docs it enforces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .transport import Exchange

# What a check is handed: `probe` checks send their own requests; the others are run on
# every exchange, poll, finished task or callback delivery the drivers observe.
Kind = Literal["probe", "exchange", "poll", "finished", "callback"]
# no-task: probes that create no task (run first); task: probes that create tasks (callback-mode
# ones too), beside the drivers that follow tasks (the Quick Start's, the state machine's, the
# scenarios').
Phase = Literal["no-task", "task"]
PHASES: tuple[Phase, ...] = ("no-task", "task")


class CheckFailed(AssertionError):
    """The target broke the statement; says what was expected and what came back."""

    def __init__(self, message: str, *exchanges: Exchange) -> None:
        super().__init__(message)
        self.message = message
        self.exchanges = [e for e in exchanges if e is not None]

    def details(self) -> str:
        return "\n".join([self.message, *(e.describe() for e in self.exchanges)])


class CheckSkipped(Exception):
    """The statement could not be exercised against this target; the message says why."""


@dataclass(frozen=True)
class Check:
    """One documented statement and the function that enforces it."""

    name: str
    quote: str
    section: str
    kind: Kind
    fn: Callable[..., None]
    phase: Phase = "no-task"
    needs: str | None = None
    plan: Callable[[Any], list[Any]] | None = None  # payloads a probe will submit (estimate)
    also_on: tuple[Kind, ...] = ()  # further subjects the same judgement is made on
    reading: str | None = None  # the option that chooses how the docs are read, if any

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return (self.kind, *self.also_on)


CHECKS: dict[str, Check] = {}


def check(*, quote: str, section: str, on: Kind = "probe", phase: Phase = "no-task",
          needs: str | None = None, plan: Callable[[Any], list[Any]] | None = None,
          also_on: tuple[Kind, ...] = (), reading: str | None = None,
          ) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a check under its function's name."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        CHECKS[fn.__name__] = Check(fn.__name__, quote, section, on, fn, phase, needs, plan,
                                    also_on, reading)
        return fn

    return register


@dataclass
class Outcome:
    """What happened to one check over the run."""

    check: Check
    passed: int = 0
    failures: list[CheckFailed] = field(default_factory=list)
    skip_reason: str | None = None

    @property
    def status(self) -> str:
        if self.failures:
            return "failed"
        return "passed" if self.passed else "skipped"

    def reason(self, unavailable: dict[str, str]) -> str:
        if self.failures:
            first = self.failures[0].message
            more = f" (and {len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
            return first + more
        if self.passed and self.check.kind == "probe":
            return "answered as documented"
        if self.passed:
            return f"held in {self.passed} observation{'s' if self.passed > 1 else ''}"
        if self.skip_reason:
            return self.skip_reason
        if self.check.needs and self.check.needs in unavailable:
            return unavailable[self.check.needs]
        return "not exercised by this run"
