"""The shared clock: an advance in one process moves time for every process mapping the file."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from mock_server.domain.clock import SystemClock
from mock_server.storage.clock import SharedOffsetClock


def _advance_in_child(path: str, seconds: float) -> None:
    SharedOffsetClock(path).advance(seconds)


@pytest.mark.slow
def test_an_advance_in_another_process_shows_here_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "tasks.sqlite3.clock")
    here = SharedOffsetClock(path)
    assert here.offset_ms() == 0
    child = multiprocessing.get_context("spawn").Process(target=_advance_in_child,
                                                        args=(path, 90))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert here.offset_ms() == 90_000
    assert here.now_ms() - SystemClock().now_ms() >= 89_000


def test_advances_add_up_and_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.clock"
    clock = SharedOffsetClock(path)
    clock.advance(1.5)
    clock.advance(0.25)
    assert SharedOffsetClock(path).offset_ms() == 1750
    assert path.stat().st_size == 8


def test_a_private_clock_keeps_its_offset_to_itself() -> None:
    first, second = SharedOffsetClock(), SharedOffsetClock()
    first.advance(5)
    assert (first.offset_ms(), second.offset_ms()) == (5000, 0)


def test_the_clock_never_goes_back(tmp_path: Path) -> None:
    clock = SharedOffsetClock(tmp_path / "c.clock")
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    assert clock.offset_ms() == 0
