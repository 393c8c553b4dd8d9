"""The dashboard draws each task's life as a bar and the API's traffic as a live chart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.receiver import receiving
from tests.support.serve import auth, serving, submit, text_request

pytestmark = pytest.mark.e2e
WAIT_S = 30
SUBMITS = "POST /api/v1/generateTask/<model> → 200"  # routes as patterns
UNKNOWN = "GET /api/v1/statusTask/<model> → 404"
BAR = """
const bar = document.querySelector(`tr[data-task-id="${arguments[0]}"] svg.lifebar`);
if (!bar) return null;
const rects = (selector) => [...bar.querySelectorAll(selector)];
return {segments: bar.dataset.segments, attempts: bar.dataset.attempts,
        classes: rects("rect.segment").map((r) => r.getAttribute("class")),
        widths: rects("rect.segment").map((r) => Number(r.getAttribute("width"))),
        ticks: rects("rect.attempt").map((r) => r.getAttribute("class"))};
"""


def test_bars_show_states_and_callback_attempts_and_the_chart_shows_rates(
        browser: Any, artifacts: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def wait(condition: Callable[[Any], Any], what: str) -> Any:
        return WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(condition, what)

    def bar(task_id: str) -> dict[str, Any]:
        """Read a task's bar in one go: the page redraws it every second."""
        found: dict[str, Any] = browser.execute_script(BAR, task_id) or {}
        return found

    with serving("--workers", "2", "--pending-ms", "300", "--processing-ms", "900",
                 store=tmp_path / "tasks.sqlite3") as server, receiving() as hook:
        browser.get(server.url("/_mock/ui"))
        wait(lambda d: "profile custom" in d.find_element(By.ID, "health").text,
             "the page never showed the server's health")
        ok = submit(server.base_url, text_request("A heron at dawn")).json()["data"]["taskId"]
        failed = submit(server.base_url, text_request("A storm at sea"),
                        scenario="fail:NSFW").json()["data"]["taskId"]
        hooked = submit(server.base_url, {"request_type": "callback", "callback_url": hook.url,
                                          "input": {"prompt": "A kite over dunes"}})
        hooked_id = hooked.json()["data"]["taskId"]

        wait(lambda d: bar(ok).get("segments") == "pending,processing,success",
             "the successful task never showed a pending, processing, success bar")
        drawn = bar(ok)
        assert [c.split()[1] for c in drawn["classes"]] == ["pending", "processing", "success"]
        assert all(width > 0 for width in drawn["widths"])
        wait(lambda d: bar(failed).get("segments") == "pending,processing,failed",
             "the failed task's bar never ended in failed")
        wait(lambda d: bar(hooked_id).get("attempts") == "1",
             "the callback attempt was never marked on its task's bar")
        assert bar(hooked_id)["ticks"] == ["attempt delivered"]

        for _ in range(6):  # traffic for the chart: polls of a task that does not exist
            requests.get(server.url("/api/v1/statusTask/flux-2"), params={"taskId": "task_no"},
                         headers=auth(), timeout=10)
        wait(lambda d: d.find_elements(By.CSS_SELECTOR,
                                       f'#rate-chart polyline[data-series="{UNKNOWN}"]'),
             "the chart never drew the 404 polls")
        legend = browser.find_element(By.ID, "rate-legend").text
        assert SUBMITS in legend and UNKNOWN in legend
        assert "/_mock/" not in legend  # the page's own polling is not the API's traffic

        browser.save_screenshot(str(artifacts / "dashboard-timeline.png"))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    assert (artifacts / "dashboard-timeline.png").stat().st_size > 10_000
