"""Recordings as data: the format a recording folder declares, and what its task files say
about timing and outcomes (for `--profile recorded:DIR`). Reads files, knows no HTTP.

The folder layout and every field are in docs/proxy-and-replay.md; the proxy writes it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mock_server.domain.scenarios import FAIL_CODE

FORMAT = "flux2-mock-recording"
VERSION = 1


class RecordingError(ValueError):
    """A folder that holds no recording, or one of a format this version cannot read."""


def read_format(folder: Path) -> dict[str, Any]:
    """Return DIR/format.json, checked; raise RecordingError saying what is wrong."""
    path = folder / "format.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise RecordingError(f"{folder} holds no recording ({path.name} is missing)") from None
    except ValueError as exc:
        raise RecordingError(f"{path} is not JSON: {exc}") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise RecordingError(f"{path} is format {meta.get('format')!r} version "
                             f"{meta.get('version')!r}; this flux2-mock reads {FORMAT} "
                             f"version {VERSION}")
    return meta


@dataclass(frozen=True)
class Samples:
    """What a recording says about timing and outcomes."""

    tasks: int
    pending: tuple[int, ...]
    processing: tuple[int, ...]
    outcomes: Counter[str]
    fail_codes: Counter[str]


@cache
def samples_of(folder: str) -> Samples:
    """Read every task file's derived timeline; raise RecordingError without finished tasks."""
    path = Path(folder)
    read_format(path)
    pending, processing = [], []
    outcomes: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    files = sorted((path / "tasks").glob("*.json"))
    for task_file in files:
        life = json.loads(task_file.read_text("utf-8")).get("lifecycle", {})
        outcome = life.get("outcome")
        outcomes[outcome or "unfinished"] += 1
        if outcome not in ("success", "failed") or life.get("processingMs") is None:
            continue
        pending.append(int(life["pendingMs"]))
        processing.append(int(life["processingMs"]))
        if outcome == "failed" and life.get("failCode"):
            codes[str(life["failCode"])] += 1
    if not pending:
        raise RecordingError(f"{folder} holds no finished task to calibrate from "
                             f"({len(files)} task file(s))")
    return Samples(len(files), tuple(pending), tuple(processing), outcomes, codes)


def recorded_outcomes(folder: str) -> tuple[float, tuple[str, ...]]:
    """The recorded failure rate and failCodes (repeated by frequency, so a draw weighs them)."""
    found = samples_of(folder)
    finished = found.outcomes["success"] + found.outcomes["failed"]
    codes = tuple(code for code, n in sorted(found.fail_codes.items()) for _ in range(n)
                  if FAIL_CODE.match(code))
    return (found.outcomes["failed"] / finished if finished else 0.0), codes
