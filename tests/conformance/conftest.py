"""Set-up for the conformance tests: the examples folder on the path, and a naive client."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import requests

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

SUBMIT = "/api/v1/generateTask/flux-2"
STATUS = "/api/v1/statusTask/flux-2"


class Raw:
    """A deliberately naive client: one HTTP call per method, no waiting of its own."""

    def __init__(self, mock: Any) -> None:
        self.mock = mock
        self.http = requests.Session()

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mock.api_key}"}

    def submit(self, prompt: str = "a lighthouse at dusk", *, scenario: str | None = None,
               callback_url: str | None = None, **params: Any) -> str:
        body: dict[str, Any] = {"request_type": "callback" if callback_url else "async",
                                "input": {"prompt": prompt, **params}}
        if callback_url:
            body["callback_url"] = callback_url
        headers = {**self.auth(), **({"X-Mock-Scenario": scenario} if scenario else {})}
        response = self.http.post(self.mock.url(SUBMIT), json=body, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["taskId"])

    def poll(self, task_id: str) -> dict[str, Any]:
        response = self.http.get(self.mock.url(STATUS), params={"taskId": task_id},
                                 headers=self.auth(), timeout=10)
        return dict(response.json())


@pytest.fixture
def raw(flux2_mock: Any) -> Raw:
    return Raw(flux2_mock)


def rule_ids(report: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in report["findings"]}


def finding(report: dict[str, Any], rule: str) -> dict[str, Any]:
    found = [f for f in report["findings"] if f["rule"] == rule]
    assert found, f"{rule} not flagged; findings: {sorted(rule_ids(report))}"
    return found[0]
