"""Timing profiles: how long tasks wait and run, drawn with a seeded random source."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from mock_server.domain.recorded import RecordingError, samples_of
from mock_server.domain.tables import load_table

RECORDED = "recorded:"  # `--profile recorded:DIR` (docs/proxy-and-replay.md)


@dataclass(frozen=True)
class Span:
    """A duration drawn uniformly from mean +/- jitter, in milliseconds."""

    mean_ms: int
    jitter_ms: int = 0

    def draw(self, rng: random.Random) -> int:
        # Always consume one draw so that later draws do not depend on the jitter.
        offset = rng.uniform(-self.jitter_ms, self.jitter_ms)
        return max(0, round(self.mean_ms + offset))


@dataclass(frozen=True)
class TimingProfile:
    """A named pair of spans plus its speed relative to the real API."""

    name: str
    pending: Span
    processing: Span
    time_scale: float
    # Callback retries (docs/callbacks.md): waits between attempts and the attempt time-out.
    callback_retry_ms: tuple[int, ...] = (30_000, 120_000, 600_000)
    callback_timeout_ms: int = 30_000

    def with_overrides(self, pending_ms: int | None, processing_ms: int | None) -> TimingProfile:
        """Return this profile with fixed durations where given (a custom profile)."""
        if pending_ms is None and processing_ms is None:
            return self
        pending = self.pending if pending_ms is None else Span(pending_ms)
        processing = self.processing if processing_ms is None else Span(processing_ms)
        real_total = 25_000
        scale = (pending.mean_ms + processing.mean_ms) / real_total
        return TimingProfile("custom", pending, processing, scale, self.callback_retry_ms,
                             self.callback_timeout_ms)


@dataclass(frozen=True)
class EmpiricalSpan(Span):
    """A duration drawn from recorded values: one uniform draw picks one of them."""

    samples: tuple[int, ...] = ()

    def draw(self, rng: random.Random) -> int:
        # One draw per call, as Span.draw, so later draws keep their place in the sequence.
        return self.samples[min(int(rng.random() * len(self.samples)), len(self.samples) - 1)]


def recorded_profile(folder: str) -> TimingProfile:
    """The profile `recorded:<folder>`: the recording's durations, in real time."""
    try:
        found = samples_of(folder)
    except (RecordingError, OSError) as exc:
        raise ValueError(f"profile {RECORDED}{folder}: {exc}") from None
    realistic = get_profile("realistic")

    def span(values: tuple[int, ...]) -> EmpiricalSpan:
        return EmpiricalSpan(round(sum(values) / len(values)), 0, tuple(sorted(values)))

    return TimingProfile(RECORDED + folder, span(found.pending), span(found.processing), 1.0,
                         realistic.callback_retry_ms, realistic.callback_timeout_ms)


def profile_names() -> list[str]:
    return sorted(load_table("profiles")["profiles"])


@cache  # every submit asks; a profile is immutable data
def get_profile(name: str) -> TimingProfile:
    """Return the profile called `name`; raise ValueError naming the choices otherwise."""
    if name.startswith(RECORDED):
        return recorded_profile(name.removeprefix(RECORDED))
    table = load_table("profiles")["profiles"]
    if name not in table:
        raise ValueError(f"profile must be one of {', '.join(sorted(table))} or "
                         f"recorded:DIR, got {name!r}")
    entry = table[name]
    return TimingProfile(
        name=name,
        pending=Span(*entry["pending"]),
        processing=Span(*entry["processing"]),
        time_scale=float(entry["time_scale"]),
        callback_retry_ms=tuple(int(ms) for ms in entry.get("callback_retry_ms",
                                                             (30_000, 120_000, 600_000))),
        callback_timeout_ms=int(entry.get("callback_timeout_ms", 30_000)),
    )
