"""The virtual-clock offset in PostgreSQL: an advance through one instance moves them all."""

from __future__ import annotations

import time

from .db import PgDatabase


class PgOffsetClock:
    """The wall clock plus an offset, kept in one row every instance reads.

    Each request reads it once (then it stands still while the request is answered);
    no copy lives longer: it could lag behind an advance made through another host,
    and "seen by the other instance at once" is the point of sharing it.
    """

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def offset_ms(self) -> int:
        """How far this clock runs ahead of the wall clock."""
        cache = self.db.scope_cache()
        if cache is not None and "clock_offset_ms" in cache:
            return int(cache["clock_offset_ms"])
        with self.db.connection() as conn:
            row = conn.execute("SELECT offset_ms FROM mock_clock WHERE id = 1").fetchone()
        offset = int(row[0]) if row else 0
        if cache is not None:
            cache["clock_offset_ms"] = offset
        return offset

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms()

    def advance(self, seconds: float) -> int:
        """Move the clock forward for every instance and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward, got {seconds} s")
        with self.db.connection() as conn:
            row = conn.execute("UPDATE mock_clock SET offset_ms = offset_ms + %s WHERE id = 1 "
                               "RETURNING offset_ms", (round(seconds * 1000),)).fetchone()
        offset = int(row[0]) if row else 0
        cache = self.db.scope_cache()
        if cache is not None:
            cache["clock_offset_ms"] = offset
        return time.time_ns() // 1_000_000 + offset

    def reset(self) -> None:
        """Return the clock to real time for every instance."""
        with self.db.connection() as conn:
            conn.execute("UPDATE mock_clock SET offset_ms = 0 WHERE id = 1")
        cache = self.db.scope_cache()
        if cache is not None:
            cache["clock_offset_ms"] = 0
