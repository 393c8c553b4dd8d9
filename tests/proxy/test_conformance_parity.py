"""A client talking through the proxy is judged exactly as the same client against the mock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.serve import DEFAULT_KEY

from .support import (
    STATUS,
    client_flows,
    poll,
    proxy_in_process,
    request_body,
    serving,
    submit,
)

pytestmark = pytest.mark.e2e  # starts flux2-mock serve (and proxy) processes

# Both sides scale the docs' thresholds alike: 15 s before the first poll and 5 s between
# polls become 3 s and 1 s. The flow's gaps are far from those (a busy machine may delay
# a request by a few hundred milliseconds without changing any verdict).
SCALE = 0.2
TIMINGS = {"pending_ms": 0, "processing_ms": 600, "conformance_time_scale": SCALE}
POLL_AT_S = [0.05, 0.1, 2.0, 4.0, 6.0]


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serving("--pending-ms", "0", "--processing-ms", "600", "--store", "memory",
                 env={"FLUX2_MOCK_CONFORMANCE_TIME_SCALE": str(SCALE)}) as server:
        yield server.base_url


def _flow(base: str) -> None:
    """A client with habits worth reporting: early and frequent polls, re-polls of a
    finished task, an invalid request, a request without a key, an unknown task."""
    client_flows(base, [request_body(), request_body("A red fox in snow")],
                 poll_at_s=POLL_AT_S)
    assert submit(base, request_body("ab")).status_code == 400  # prompt too short
    assert requests.get(base + STATUS, params={"taskId": "task_x"}, timeout=10).status_code \
        == 401
    assert poll(base, "task_never_issued").status_code == 404


def _report(base: str) -> dict[str, Any]:
    report: dict[str, Any] = requests.get(base + "/_mock/conformance",
                                          headers={"X-Flux2-Api-Key": DEFAULT_KEY},
                                          timeout=30).json()
    return report


def _verdicts(report: dict[str, Any]) -> dict[str, Any]:
    results = {r["id"]: r["result"] for r in report["rules"]}
    # The proxy cannot see downloads from the upstream's result host (docs): skipped there.
    results.pop("result-never-downloaded")
    counts = {f["rule"]: f["count"] for f in report["findings"]}
    return {"results": results, "counts": counts, "requests": report["requests"],
            "tasks": report["tasks"], "conformant": report["conformant"]}


def test_same_flow_same_report(upstream: str, tmp_path: Path) -> None:
    _flow(upstream)
    direct = _report(upstream)
    requests.post(upstream + "/_mock/reset", timeout=10).raise_for_status()
    with proxy_in_process(upstream, tmp_path / "proxy.sqlite3", settings=TIMINGS) as proxy:
        _flow(proxy)
        proxied = _report(proxy)
    assert _verdicts(proxied) == _verdicts(direct)
    assert proxied["thresholds"] == direct["thresholds"]
    broken = set(_verdicts(direct)["counts"])
    assert {"first-poll-too-early", "poll-too-frequent", "finished-task-repolled",
            "request-invalid", "unknown-task-polled"} <= broken
    assert direct["conformant"] is False
    skipped = {r["id"]: r for r in proxied["rules"]}["result-never-downloaded"]
    assert skipped["result"] == "skipped" and "upstream's host" in skipped["reason"]
