"""The dashboard in a real headless Chromium: tasks appear, change state, and can be failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.receiver import receiving
from tests.support.serve import serving, status, submit, text_request

pytestmark = pytest.mark.e2e
WAIT_S = 30


def new_task(base_url: str, scenario: str | None = None) -> str:
    response = submit(base_url, text_request("A red fox in fresh snow"), scenario=scenario)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"]["taskId"]
    return task_id


def test_dashboard_follows_tasks_and_fails_a_running_one(browser: Any, artifacts: Path,
                                                          tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def wait(condition: Callable[[Any], Any], what: str) -> Any:
        return WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(condition, what)

    def row_state(task_id: str) -> str | None:
        rows = browser.find_elements(By.CSS_SELECTOR, f'tr[data-task-id="{task_id}"]')
        return rows[0].get_attribute("data-state") if rows else None

    with serving("--workers", "2", "--pending-ms", "400", "--processing-ms", "1200",
                     store=tmp_path / "tasks.sqlite3") as server:
        browser.get(server.url("/_mock/ui"))
        wait(lambda d: "profile custom" in d.find_element(By.ID, "health").text,
             "the page never showed the server's health")

        # A task submitted through the API appears, then changes state on its own.
        done = new_task(server.base_url)
        first = wait(lambda d: row_state(done), f"task {done} never appeared")
        assert first in ("pending", "processing", "success")
        wait(lambda d: row_state(done) == "success", f"task {done} never showed success")
        thumb = wait(lambda d: d.find_element(By.CSS_SELECTOR,
                                              f'tr[data-task-id="{done}"] img.thumb'),
                     "no thumbnail of the result image")
        wait(lambda d: d.execute_script("return arguments[0].naturalWidth", thumb) == 1024,
             "the thumbnail never loaded the 1024 px result image")

        # A running task fails when its "fail" button is clicked.
        stuck = new_task(server.base_url, scenario="stuck")
        wait(lambda d: row_state(stuck) == "processing", f"task {stuck} never showed processing")
        browser.find_element(By.CSS_SELECTOR,
                             f'tr[data-task-id="{stuck}"] button[data-action="failed"]').click()
        wait(lambda d: row_state(stuck) == "failed", f"task {stuck} never showed failed")
        outcome = browser.find_element(By.CSS_SELECTOR, f'tr[data-task-id="{stuck}"] td.outcome')
        assert outcome.text.startswith("CONTENT_VIOLATION")
        assert status(server.base_url, stuck).json()["data"]["state"] == "failed"

        # The detail panel shows the task's timeline and the requests it saw.
        browser.find_element(By.CSS_SELECTOR, f'tr[data-task-id="{stuck}"] td.id').click()
        wait(lambda d: "GET /api/v1/statusTask/flux-2"
             in d.find_element(By.ID, "detail-requests").text, "no requests in the detail")
        assert "failed:" in browser.find_element(By.ID, "timeline").text

        # A callback-mode task's delivery and its attempt show up.
        with receiving() as hook:
            hooked = submit(server.base_url, {"request_type": "callback",
                                              "callback_url": hook.url,
                                              "input": {"prompt": "A kite over dunes"}})
            assert hooked.status_code == 200, hooked.text
            wait(lambda d: "delivered" in d.find_element(By.ID, "callback-list").text,
                 "the callback delivery never showed as delivered")
        deliveries = browser.find_element(By.ID, "callback-list").text
        assert "delivery 1 (completion) delivered" in deliveries
        assert "attempt 1" in deliveries and "HTTP 200" in deliveries
        wait(lambda d: "conformant" in d.find_element(By.ID, "conformance-list").text,
             "no conformance report per key")

        browser.save_screenshot(str(artifacts / "dashboard.png"))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []

        # Reset asks first, then empties the table.
        browser.find_element(By.ID, "reset-all").click()
        browser.switch_to.alert.accept()
        wait(lambda d: not d.find_elements(By.CSS_SELECTOR, "tr[data-task-id]"),
             "the table kept its rows after reset")
    assert (artifacts / "dashboard.png").stat().st_size > 10_000


@pytest.mark.parametrize("error_status", ["http", "200"])
def test_dashboard_asks_for_the_admin_token_when_the_server_has_one(
        browser: Any, tmp_path: Path, error_status: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    token = "dashboard-admin-token"
    # With error_status=200 the refusal is HTTP 200 with code 401 in the envelope.
    with serving("--admin-token", token, "--workers", "1", store=tmp_path / "tasks.sqlite3",
                     env={"FLUX2_MOCK_ERROR_STATUS": error_status}) as server:
        task_id = new_task(server.base_url)
        browser.get(server.url("/_mock/ui"))
        form = browser.find_element(By.ID, "token-form")
        WebDriverWait(browser, WAIT_S).until(lambda d: form.is_displayed(),
                                             "the page never asked for the token")
        assert not browser.find_elements(By.CSS_SELECTOR, "tr[data-task-id]")
        browser.find_element(By.ID, "token").send_keys(token)
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        WebDriverWait(browser, WAIT_S).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-task-id="{task_id}"]'),
            "the tasks never showed with the token")
        assert not form.is_displayed()
