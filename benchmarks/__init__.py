"""`make bench`: reports, not tests. Each section is a module with `run() -> None`.

Add a section by adding its module name to SECTIONS.
"""

from __future__ import annotations

SECTIONS: list[str] = [
    "benchmarks.http_throughput",
    "benchmarks.stall",
    "benchmarks.callbacks",
    "benchmarks.postgres_store",
]
