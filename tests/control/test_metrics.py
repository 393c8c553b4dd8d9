"""/_mock/metrics: the Prometheus text format, with requests, latency, tasks and callbacks."""

from __future__ import annotations

import re

from mock_server.control.metrics import BUCKETS_S, RequestMetrics, exposition
from tests.support.mock_client import MockClient
from tests.support.spec import STATES

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
SAMPLE = re.compile(rf"^({NAME})(\{{(?:{LABEL},?)*\}})? (-?[0-9.e+]+|\+Inf)$")


def samples(text: str) -> dict[str, float]:
    """Parse the exposition; every line must be a comment or a well-formed sample."""
    found = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        found[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return found


def test_metrics_count_requests_by_route_and_status(mock: MockClient) -> None:
    task_id = mock.task()
    mock.state(task_id)
    mock.state(task_id)
    mock.get("/api/v1/statusTask/flux-2?taskId=nope",
                headers={"Authorization": "Bearer flux2-mock-key"})
    mock.get("/no/such/route")
    mock.client.open("/no/such/route", method="BREW")
    response = mock.get("/_mock/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = samples(response.get_data(as_text=True))
    status = '{route="/api/v1/statusTask/<model>",method="GET",status="%d"}'
    assert found["flux2_mock_requests_total" + status % 200] == 2
    assert found["flux2_mock_requests_total" + status % 404] == 1
    assert found['flux2_mock_requests_total{route="/api/v1/generateTask/<model>",method="POST",'
                 'status="200"}'] == 1
    assert found['flux2_mock_requests_total{route="unmatched",method="GET",status="404"}'] == 1
    assert found['flux2_mock_requests_total{route="unmatched",method="OTHER",status="404"}'] == 1
    route = '{route="/api/v1/statusTask/<model>",le="+Inf"}'
    assert found["flux2_mock_request_duration_seconds_bucket" + route] == 3
    assert found['flux2_mock_request_duration_seconds_count{route="/api/v1/statusTask/<model>"}'
                 ] == 3


def test_metrics_count_tasks_by_state_now(mock: MockClient) -> None:
    mock.task()
    mock.task(scenario="stuck")
    mock.task(scenario="fail; pending=0; processing=0")
    found = samples(mock.get("/_mock/metrics").get_data(as_text=True))
    assert [found[f'flux2_mock_tasks{{state="{s}"}}'] for s in STATES] == [2, 0, 0, 1]
    mock.clock.advance(5)
    found = samples(mock.get("/_mock/metrics").get_data(as_text=True))
    assert [found[f'flux2_mock_tasks{{state="{s}"}}'] for s in STATES] == [0, 1, 1, 1]


def test_histogram_buckets_are_cumulative_and_end_at_the_count() -> None:
    counts = RequestMetrics()
    for seconds in (0.0005, 0.003, 0.003, 0.2, 30.0):
        counts.observe("/r", "GET", 200, seconds)
    found = samples(exposition(counts, {}, None))
    buckets = [found[f'flux2_mock_request_duration_seconds_bucket{{route="/r",le="{b}"}}']
               for b in (*BUCKETS_S, "+Inf")]
    assert buckets == sorted(buckets) and buckets[-1] == 5
    assert found['flux2_mock_request_duration_seconds_bucket{route="/r",le="0.001"}'] == 1
    assert found['flux2_mock_request_duration_seconds_bucket{route="/r",le="0.005"}'] == 3
    assert found['flux2_mock_request_duration_seconds_bucket{route="/r",le="10.0"}'] == 4
    assert abs(found['flux2_mock_request_duration_seconds_sum{route="/r"}'] - 30.2065) < 1e-6


def test_snapshots_of_two_processes_add_up() -> None:
    first, second = RequestMetrics(), RequestMetrics()
    first.observe("/r", "GET", 200, 0.01)
    second.observe("/r", "GET", 200, 0.02)
    second.observe("/r", "GET", 500, 0.02)
    total = RequestMetrics()
    total.merge(first.snapshot())
    total.merge(second.snapshot())
    assert total.requests == {("/r", "GET", 200): 2, ("/r", "GET", 500): 1}
    assert total.latency["/r"][-1] == 0.05


def test_label_values_are_escaped() -> None:
    counts = RequestMetrics()
    counts.observe('/odd"route\\', "GET", 200, 0.001)
    text = exposition(counts, {}, None)
    assert 'route="/odd\\"route\\\\"' in text
    samples(text)
