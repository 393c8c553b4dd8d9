"""The spending guard: the price table meters forwarded submits; past --max-spend a submit
is refused with a clear envelope before anything reaches the upstream."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from .support import proxy_in_process, request_body, submit

pytestmark = pytest.mark.e2e  # starts flux2-mock serve (and proxy) processes


def _body(mode: str, resolution: str = "1K") -> dict[str, Any]:
    body = request_body()
    body["input"].update(mode=mode, resolution=resolution)
    return body


def _upstream_tasks(upstream: str) -> int:
    return len(requests.get(upstream + "/_mock/tasks", params={"limit": 500},
                            timeout=10).json()["tasks"])


def test_guard_stops_at_the_submit_that_would_pass_the_cap(mock_upstream: str,
                                                           tmp_path: Path) -> None:
    with proxy_in_process(mock_upstream, tmp_path / "p.sqlite3", max_spend_usd=0.17) as proxy:
        # $0.05 + $0.05 + $0.07 = $0.17: exactly the cap.
        for mode in ("pro-text-to-image", "pro-text-to-image", "flex-text-to-image"):
            assert submit(proxy, _body(mode)).status_code == 200
        refused = submit(proxy, _body("pro-text-to-image"))
        meter = requests.get(proxy + "/_mock/spend", timeout=10).json()
        # An invalid request is refused before the guard: it costs nothing.
        invalid = submit(proxy, {"request_type": "async", "input": {"prompt": "x"}})
    assert refused.status_code == 402
    envelope = refused.json()
    assert envelope["code"] == 402 and envelope["message"] == "Spending limit reached"
    assert envelope["data"]["errors"][0]["field"] == "max_spend"
    assert "nothing was sent to the upstream" in envelope["data"]["error"]
    assert envelope["data"]["priceUsd"] == 0.05 and envelope["data"]["maxSpendUsd"] == 0.17
    assert _upstream_tasks(mock_upstream) == 3
    assert meter["totalUsd"] == 0.17 and meter["taskCount"] == 3
    assert meter["guard"] == {"maxSpendUsd": 0.17, "chargedUsd": 0.17, "reservedUsd": 0.0,
                              "remainingUsd": 0.0}
    assert invalid.status_code == 400


def test_a_submit_the_upstream_refuses_costs_nothing(mock_upstream: str, tmp_path: Path) -> None:
    with proxy_in_process(mock_upstream, tmp_path / "p.sqlite3", max_spend_usd=0.05) as proxy:
        assert submit(proxy, request_body(), key="not-a-key").status_code == 401
        assert submit(proxy, request_body()).status_code == 200
        assert submit(proxy, request_body()).status_code == 402
        meter = requests.get(proxy + "/_mock/spend", timeout=10).json()["guard"]
    assert meter["chargedUsd"] == 0.05 and meter["reservedUsd"] == 0.0


def test_concurrent_submits_never_pass_the_cap(mock_upstream: str, tmp_path: Path) -> None:
    with proxy_in_process(mock_upstream, tmp_path / "p.sqlite3", max_spend_usd=0.25) as proxy, \
            ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda n: submit(proxy, request_body(f"A cat number {n}"))
                                   .status_code, range(12)))
    assert statuses == [200] * 5 + [402] * 7
    assert _upstream_tasks(mock_upstream) == 5
