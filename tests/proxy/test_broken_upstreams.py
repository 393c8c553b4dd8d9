"""Each deliberately broken upstream is reported under the rule it breaks, with evidence;
the well-behaved one (a real `flux2-mock serve`) under none."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mock_server.proxy.rules import BY_NAME
from tests.support.receiver import receiving

from .support import (
    poll,
    proxy_in_process,
    request_body,
    served,
    submit,
    upstream_findings,
)
from .upstreams import BREAKAGES, Breakage, FakeUpstream

pytestmark = pytest.mark.e2e  # starts flux2-mock serve (and proxy) processes


def _drive(proxy: str, breakage: Breakage, callback_url: str | None) -> None:
    """Submit one task through the proxy and poll it as often as the script has answers."""
    body = request_body(**({"request_type": "callback", "callback_url": callback_url}
                           if callback_url else {}))
    answer = submit(proxy, body)
    task_id = ((answer.json().get("data") or {}).get("taskId")
               or (answer.json().get("data") or {}).get("id"))
    assert task_id, answer.text
    for _ in range(len(breakage.polls) + 1):
        poll(proxy, task_id)


@pytest.mark.parametrize("breakage", BREAKAGES, ids=str)
def test_breach_is_reported_with_its_rule(breakage: Breakage, tmp_path: Path) -> None:
    fake = FakeUpstream(breakage)
    with served(fake) as upstream, receiving() as receiver, \
            proxy_in_process(upstream, tmp_path / "proxy.sqlite3", public_url=True) as proxy:
        _drive(proxy, breakage, receiver.url if breakage.callback else None)
        if breakage.callback:
            # The proxy judged the callback, answered the fake, and forwarded it unchanged.
            forwarded = receiver.wait_for(1)
            assert fake.called_back.wait(10)
            assert fake.callbacks_sent == [200]
            assert forwarded[0].json() == fake.callback_payloads[0]
        report = upstream_findings(proxy)
    found = {f["rule"]: f for f in report["findings"]}
    assert breakage.rule in found, report["findings"]
    assert set(found) <= {breakage.rule} | breakage.also, sorted(found)
    assert report["conformant"] is False
    finding = found[breakage.rule]
    assert finding["doc"] == BY_NAME[breakage.rule].doc
    assert finding["count"] >= 1
    assert finding["firstSeen"].endswith("Z") and finding["lastSeen"] >= finding["firstSeen"]
    shown = finding["evidence"][0]
    assert shown["what"] and shown["exchanges"], finding
    assert all("answer" in exchange for exchange in shown["exchanges"])
    result = {r["rule"]: r for r in report["rules"]}[breakage.rule]
    assert result["result"] == "fail" and result["breaches"] == finding["count"]


def test_state_moving_back_shows_both_answers(tmp_path: Path) -> None:
    breakage = next(b for b in BREAKAGES if b.rule == "state_only_forward")
    with served(FakeUpstream(breakage)) as upstream, \
            proxy_in_process(upstream, tmp_path / "proxy.sqlite3") as proxy:
        _drive(proxy, breakage, None)
        finding = upstream_findings(proxy)["findings"][0]
    earlier, later = finding["evidence"][0]["exchanges"]
    assert earlier["answer"]["data"]["state"] == "success"
    assert later["answer"]["data"]["state"] == "processing"
    assert "went back from 'success' to 'processing'" in finding["message"]
    assert earlier["apiKey"] == "flu…key"  # masked: never the key itself


def test_well_behaved_upstream_breaks_nothing(mock_upstream: str, tmp_path: Path) -> None:
    with proxy_in_process(mock_upstream, tmp_path / "proxy.sqlite3") as proxy:
        for scenario in (None, "fail:CONTENT_VIOLATION"):
            task_id = submit(proxy, request_body(), scenario=scenario).json()["data"]["taskId"]
            deadline = time.monotonic() + 30
            while poll(proxy, task_id).json()["data"]["state"] not in ("success", "failed"):
                assert time.monotonic() < deadline, "the upstream's task never finished"
                time.sleep(0.1)
            poll(proxy, task_id)
        report = upstream_findings(proxy)
    assert report["findings"] == []
    assert report["conformant"] is True
    results = {r["rule"]: r["result"] for r in report["rules"]}
    for rule in ("submit_answer", "state_only_forward", "terminal_state_final",
                 "success_result_json", "failed_has_code_and_message", "create_time_stable"):
        assert results[rule] == "pass", (rule, report["rules"])
