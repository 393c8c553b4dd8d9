"""Callbacks through the proxy: with --public-url the callback_url is rewritten to the proxy,
the upstream's callback is judged, forwarded unchanged to the client's URL, journaled, and
retried on the schedule; without it, callback URLs pass through untouched."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import requests

from flux2_spec.validation import schema_set
from tests.support.receiver import receiving

from .support import proxy_in_process, request_body, submit, upstream_findings

pytestmark = pytest.mark.e2e  # starts flux2-mock serve (and proxy) processes

RETRY_S = (0.3, 0.6)  # the proxy's schedule here (the real one: 30 s, 2 min, 10 min)


def _callback_body(url: str) -> dict[str, Any]:
    return request_body(request_type="callback", callback_url=url)


def _upstream_request(upstream: str, task_id: str) -> dict[str, Any]:
    task: dict[str, Any] = requests.get(f"{upstream}/_mock/tasks/{task_id}", timeout=10).json()
    return task["request"]


def test_callback_is_judged_forwarded_and_retried(mock_upstream: str, tmp_path: Path) -> None:
    settings = {"callback_retry_s": ",".join(map(str, RETRY_S))}
    with receiving(script=[500, 503]) as receiver, proxy_in_process(
            mock_upstream, tmp_path / "p.sqlite3", public_url=True, settings=settings) as proxy:

        task_id = submit(proxy, _callback_body(receiver.url)).json()["data"]["taskId"]
        got = receiver.wait_for(3)
        sent_to = _upstream_request(mock_upstream, task_id)["callback_url"]
        report = requests.get(proxy + "/_mock/conformance", timeout=30).json()
        upstream = upstream_findings(proxy)
    # The upstream was told the proxy's relay, never the client's own URL.
    assert sent_to.startswith(proxy + "/_mock/relay/") and receiver.url not in sent_to
    # Every attempt carried the upstream's callback unchanged: the documented success body.
    bodies = [r.body for r in got]
    assert bodies[0] == bodies[1] == bodies[2]
    payload = got[0].json()
    assert schema_set().errors("callback-success.json", payload) == []
    assert payload["data"]["taskId"] == task_id
    # Retried on the schedule: never sooner than its waits.
    gaps = [b.time_ms - a.time_ms for a, b in itertools.pairwise(got)]
    assert gaps[0] >= RETRY_S[0] * 1000 - 20 and gaps[1] >= RETRY_S[1] * 1000 - 20, gaps
    # Journaled: the client's receiver is judged as the mock judges it.
    found = {f["rule"]: f for f in report["findings"]}
    assert found["callback-receiver-failed"]["count"] == 2
    assert {e["status"] for e in found["callback-receiver-failed"]["evidence"]} == {500, 503}
    # And the upstream's callback passed every callback rule.
    results = {r["rule"]: r["result"] for r in upstream["rules"]}
    for rule in ("callback_is_post_json", "callback_success_envelope", "callback_task_id",
                 "callback_terminal_state"):
        assert results[rule] == "pass", upstream["rules"]
    assert upstream["callbacks"] == 1


def test_without_public_url_callbacks_pass_untouched(mock_upstream: str,
                                                     tmp_path: Path) -> None:
    with receiving() as receiver, proxy_in_process(mock_upstream,
                                                   tmp_path / "p.sqlite3") as proxy:
        task_id = submit(proxy, _callback_body(receiver.url)).json()["data"]["taskId"]
        got = receiver.wait_for(1)
        upstream = upstream_findings(proxy)
    assert _upstream_request(mock_upstream, task_id)["callback_url"] == receiver.url
    assert got[0].json()["data"]["taskId"] == task_id
    assert upstream["callbacks"] == 0


def test_unknown_relay_token_is_a_404_envelope(mock_upstream: str, tmp_path: Path) -> None:
    with proxy_in_process(mock_upstream, tmp_path / "p.sqlite3", public_url=True) as proxy:
        answer = requests.post(proxy + "/_mock/relay/not-a-token", json={"code": 200},
                               timeout=10)
    assert answer.status_code == 404
    assert answer.json()["code"] == 404 and "token" in answer.json()["data"]["error"]
