"""Fixtures for end-to-end tests against real `flux2-mock serve` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.serve import ServeProcess


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh SQLite file for one server."""
    return tmp_path / "state" / "tasks.sqlite3"


@pytest.fixture(autouse=True)
def reap_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Kill every server a test started and close its output pipe (else: ResourceWarning)."""
    started: list[ServeProcess] = []
    original = ServeProcess.start

    def start(self: ServeProcess, *args: Any, **kwargs: Any) -> ServeProcess:
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ServeProcess, "start", start)
    yield
    for server in started:
        server.kill()
        if server.proc is not None and server.proc.stdout is not None:
            # The reader thread stops at EOF, which the dead process group has produced.
            server.proc.stdout.close()
