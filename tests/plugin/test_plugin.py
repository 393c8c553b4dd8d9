"""The pytest plugin, as users meet it: inner pytest runs (pytester) that use `flux2_mock`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.serve import serving

pytest_plugins = ["pytester"]

HELPERS = '''
import requests

def submit(mock, prompt="a red fox", **extra):
    response = requests.post(mock.url("/api/v1/generateTask/flux-2"),
                             headers={"Authorization": f"Bearer {mock.api_key}"},
                             json={"request_type": "async", "input": {"prompt": prompt}, **extra})
    return response

def poll(mock, task_id):
    return requests.get(mock.url("/api/v1/statusTask/flux-2"), params={"taskId": task_id},
                        headers={"Authorization": f"Bearer {mock.api_key}"}).json()
'''


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(helpers=HELPERS, test_client=source)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_fixture_serves_the_api_on_loopback_with_a_virtual_clock(
        pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
from helpers import poll, submit

def test_it(flux2_mock):
    assert flux2_mock.base_url.startswith("http://127.0.0.1:")
    task_id = submit(flux2_mock).json()["data"]["taskId"]
    before = flux2_mock.now()
    flux2_mock.advance(40)
    assert flux2_mock.now() == before + 40
    assert poll(flux2_mock, task_id)["data"]["state"] == "success"
    assert [t["taskId"] for t in flux2_mock.tasks()] == [task_id]
    assert flux2_mock.tasks()[0]["state"] == "success"
''')
    result.assert_outcomes(passed=1)


def test_one_server_per_session_and_a_clean_mock_per_test(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
from helpers import submit
urls = []

def test_first(flux2_mock):
    submit(flux2_mock)
    assert len(flux2_mock.tasks()) == 1
    assert flux2_mock.conformance()["requests"] == 1
    urls.append(flux2_mock.base_url)

def test_second(flux2_mock):
    assert flux2_mock.tasks() == []
    assert flux2_mock.conformance()["requests"] == 0
    assert flux2_mock.base_url == urls[0]
''')
    result.assert_outcomes(passed=2)


def test_assert_conformant_fails_with_the_rule_the_docs_and_the_evidence(
        pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
from helpers import poll, submit

def test_impatient_client(flux2_mock):
    task_id = submit(flux2_mock).json()["data"]["taskId"]
    poll(flux2_mock, task_id)
    flux2_mock.assert_conformant(warnings=False)  # a warning alone passes this one
    flux2_mock.assert_conformant()
''')
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*the client does not use the API as documented*",
        "*WARNING first-poll-too-early: 1 task(s) polled first before 15 s*",
        '*"Async Mode: Wait 15 seconds before first poll, then poll every 5 seconds"*',
        "*GET /api/v1/statusTask/flux-2?taskId=task_* -> 200: first poll 0 s after submission*",
    ])


@pytest.mark.slow
def test_a_session_that_does_not_use_the_fixture_starts_nothing(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain='''
import sys
import threading

def test_plain():
    assert "mock_server.pytest_plugin" in sys.modules  # loaded through the entry point
    assert "mock_server.testing.fixture" not in sys.modules
    assert not [t for t in threading.enumerate() if t.name == "flux2-mock-fixture"]
''')
    # A fresh interpreter: this process has imported everything already.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_settings_fixture_changes_the_in_process_mock(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('''
import pytest

@pytest.fixture(scope="session")
def flux2_mock_settings():
    return {"key_plans": ["flux2-mock-key=free"]}
''')
    result = run(pytester, '''
from helpers import submit

def test_burst(flux2_mock):
    codes = [submit(flux2_mock).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]  # the free plan: 3 concurrent tasks
    report = flux2_mock.conformance()
    found = {f["rule"]: f for f in report["findings"]}
    assert "3 concurrent tasks" in found["too-many-in-flight"]["evidence"][0]["what"]
    assert not report["conformant"]
''')
    result.assert_outcomes(passed=1)


def test_the_options_are_listed_and_do_not_clash(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    result.stdout.fnmatch_lines(["*flux2-mock fixture*", "*--flux2-mock-url=URL*",
                                 "*--flux2-mock-api-key=KEY*", "*--flux2-mock-admin-token=TOKEN*"])


@pytest.mark.e2e
def test_the_fixture_drives_an_already_running_mock(pytester: pytest.Pytester,
                                                    tmp_path: Path) -> None:
    with serving("--profile", "realistic", store=tmp_path / "t.db") as server:
        result = run(pytester, '''
from helpers import poll, submit

def test_remote(flux2_mock):
    assert flux2_mock.base_url == "BASE_URL"
    task_id = submit(flux2_mock).json()["data"]["taskId"]
    flux2_mock.advance(40)  # through the control plane: the server's clock moves
    assert poll(flux2_mock, task_id)["data"]["state"] == "success"
    assert [t["taskId"] for t in flux2_mock.tasks()] == [task_id]
    assert flux2_mock.callbacks() == []
    report = flux2_mock.conformance()
    assert report["apiKey"] == "flu…key" and report["requests"] == 2
    flux2_mock.assert_conformant()

def test_reset_between_tests(flux2_mock):
    assert flux2_mock.tasks() == []
'''.replace("BASE_URL", server.base_url), "--flux2-mock-url", server.base_url)
    result.assert_outcomes(passed=2)


def test_the_entry_point_names_this_plugin() -> None:
    from importlib.metadata import entry_points

    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "flux2_mock"]
    assert plugin.value == "mock_server.pytest_plugin"
    assert sys.modules.get("mock_server.pytest_plugin") is not None  # loaded in this very run
