"""Progress on stderr: a line per phase and per finished check, or a live bar on a terminal."""

from __future__ import annotations

import sys
import threading
from typing import Any, Protocol

from .registry import Outcome

MARK = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


class TextSink(Protocol):
    """Where plain progress lines go (a stream, or pytest's terminal)."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class Progress(Protocol):
    """What the runner tells whoever is watching the run."""

    def start(self, total: int) -> None: ...

    def phase_started(self, phase: str, index: int, count: int, checks: int) -> None: ...

    def check_done(self, outcome: Outcome, seconds: float, reason: str) -> None: ...

    def phase_done(self, phase: str, seconds: float) -> None: ...

    def stop(self) -> None: ...


class Silent:
    """Say nothing (library use)."""

    def start(self, total: int) -> None:
        pass

    def phase_started(self, phase: str, index: int, count: int, checks: int) -> None:
        pass

    def check_done(self, outcome: Outcome, seconds: float, reason: str) -> None:
        pass

    def phase_done(self, phase: str, seconds: float) -> None:
        pass

    def stop(self) -> None:
        pass


def check_line(outcome: Outcome, seconds: float, reason: str, done: int, total: int) -> str:
    return (f"[{done}/{total}] {MARK[outcome.status]} {outcome.check.name} "
            f"({seconds:.2f} s) {reason.splitlines()[0][:100] if reason else ''}").rstrip()


class Lines:
    """Plain lines, for logs and pipes."""

    def __init__(self, stream: TextSink | None = None) -> None:
        self.stream: TextSink = stream or sys.stderr
        self.total = 0
        self.done = 0
        self._lock = threading.Lock()  # probes finish in several threads

    def _say(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def start(self, total: int) -> None:
        self.total = total

    def phase_started(self, phase: str, index: int, count: int, checks: int) -> None:
        self._say(f"phase {index}/{count} {phase}: started ({checks} checks finish here)")

    def check_done(self, outcome: Outcome, seconds: float, reason: str) -> None:
        with self._lock:
            self.done += 1
            done = self.done
        self._say(check_line(outcome, seconds, reason, done, self.total))

    def phase_done(self, phase: str, seconds: float) -> None:
        self._say(f"phase {phase}: done in {seconds:.1f} s")

    def stop(self) -> None:
        pass


class Bar:
    """A live rich progress bar on stderr, with the same lines printed above it."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = Console(stderr=True)
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=self.console, transient=True)
        self.task: Any = None
        self.done = 0
        self.total = 0
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        self.total = total
        self.progress.start()
        self.task = self.progress.add_task("starting", total=total)

    def phase_started(self, phase: str, index: int, count: int, checks: int) -> None:
        self.progress.update(self.task, description=f"phase {index}/{count} {phase}")
        self.console.print(f"phase {index}/{count} {phase}: started ({checks} checks finish "
                           f"here)", markup=False, highlight=False)

    def check_done(self, outcome: Outcome, seconds: float, reason: str) -> None:
        with self._lock:
            self.done += 1
            self.progress.advance(self.task)
            self.console.print(check_line(outcome, seconds, reason, self.done, self.total),
                               markup=False, highlight=False)

    def phase_done(self, phase: str, seconds: float) -> None:
        self.console.print(f"phase {phase}: done in {seconds:.1f} s", markup=False,
                           highlight=False)

    def stop(self) -> None:
        self.progress.stop()


def for_stderr() -> Progress:
    """Return a live bar when stderr is a terminal, plain lines otherwise."""
    return Bar() if sys.stderr.isatty() else Lines()
