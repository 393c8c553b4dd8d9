"""Request windows and task slots: how long until one more fits (pure arithmetic)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def retry_after_s(wait_ms: int) -> int:
    """Return whole seconds to wait (at least 1), rounding up so a retry then succeeds."""
    return max(1, math.ceil(wait_ms / 1000))

def window_wait_ms(hits: Sequence[int], now_ms: int, limit: int, window: int) -> int | None:
    """Return None when one more request fits the sliding window, else ms until one does."""
    recent = sorted(h for h in hits if h > now_ms - window)
    if len(recent) < limit:
        return None
    # The request fits once enough of the recent hits have left the window.
    return recent[len(recent) - limit] + window - now_ms

def slot_wait_ms(completions: Sequence[int | None], now_ms: int, limit: int,
                 fallback_ms: int) -> int | None:
    """Return None when another task fits beside the active ones, else ms until a slot frees.

    `completions` are the active tasks' completion times; None is a task that never ends
    (a `stuck` one), which holds its slot for good, so only `fallback_ms` can be promised.
    """
    if len(completions) < limit:
        return None
    ending = sorted(c for c in completions if c is not None)
    needed = len(completions) - limit + 1
    if len(ending) < needed:
        return fallback_ms
    return max(1, ending[needed - 1] - now_ms)
