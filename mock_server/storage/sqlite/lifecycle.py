"""The lifecycle of domain/lifecycle.py, restated once as SQL over the `tasks` columns.

Queries that select by state (due callbacks, active tasks) use these fragments and no
other arithmetic; tests/storage/test_sql_lifecycle.py holds them equal to `state_at`.
"""

from __future__ import annotations


def complete_ms(t: str = "") -> str:
    """SQL for a task's completeTime: NULL for a task that never finishes (`stuck`)."""
    return (f"CASE WHEN {t}outcome = 'stuck' THEN NULL "
            f"ELSE {t}create_ms + {t}pending_ms + {t}processing_ms END")


def active(t: str = "", now: str = "?") -> str:
    """SQL that holds while a task is pending or processing at time `now`."""
    return f"({t}outcome = 'stuck' OR {t}create_ms + {t}pending_ms + {t}processing_ms > {now})"


def finished(t: str = "", now: str = "?") -> str:
    """SQL that holds once a task is success or failed at time `now`."""
    return (f"({t}outcome != 'stuck' "
            f"AND {t}create_ms + {t}pending_ms + {t}processing_ms <= {now})")
