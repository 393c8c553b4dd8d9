"""The two entry points as users run them: `python -m contract_tests` and pytest --pyargs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .breakages import BREAKAGES, KEY
from .conftest import broken_target

pytestmark = pytest.mark.e2e  # runs the suite's CLI and pytest as processes

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", re.MULTILINE)


def counts(stdout: str) -> tuple[str, ...]:
    """Return (passed, failed, skipped) from the summary line, which stands alone."""
    found = SUMMARY.search(stdout)
    assert found is not None, stdout
    return found.groups()


def suite(*args: str, cwd: Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "contract_tests", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env={**os.environ, **(env or {})})


def test_passing_run_exits_0_with_table_summary_seed_and_junit(in_process_mock: str,
                                                              tmp_path: Path) -> None:
    report = tmp_path / "contract.xml"
    done = suite("--base-url", in_process_mock, "--api-key", KEY, "--select", "auth",
                 "--select", "prompt", "--seed", "7", "--junitxml", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("estimate: up to ")  # printed before anything is sent
    assert counts(done.stdout) == ("6", "0", "0")
    assert "PASS  prompt_length_bounds_rejected" in done.stdout
    assert "docs: prompt | string | Yes" in done.stdout
    assert "seed: 7" in done.stdout and "spend: $" in done.stdout
    suite_xml = ET.parse(report).getroot()
    assert suite_xml.get("tests") == "6" and suite_xml.get("failures") == "0"
    names = {case.get("name") for case in suite_xml.iter("testcase")}
    assert {"auth_missing_rejected", "prompt_length_bounds_accepted"} <= names


def test_failing_run_exits_1_and_shows_a_curl_that_reproduces(tmp_path: Path) -> None:
    with broken_target(BREAKAGES["prompt_length_bounds_rejected"]) as url:
        done = suite("--base-url", url, "--api-key", KEY, "--select", "prompt_length")
        assert done.returncode == 1, done.stdout + done.stderr
        assert counts(done.stdout) == ("1", "1", "0")
        curl = next(line.split("curl: ", 1)[1] for line in done.stdout.splitlines()
                    if "curl: " in line)
        assert "$FLUX2_API_KEY" in curl and KEY not in curl
        replay = subprocess.run(curl, shell=True, capture_output=True, text=True, timeout=30,
                                env={**os.environ, "FLUX2_API_KEY": KEY})
    assert '"code":200' in replay.stdout.replace(" ", "")  # the broken target accepts it again


@pytest.mark.parametrize("args", [
    [],
    ["--base-url", "ftp://example.invalid", "--api-key", "k"],
    ["--base-url", "http://127.0.0.1:9", "--api-key", "k", "--fail-codes", "mine"],
    ["--base-url", "http://127.0.0.1:9", "--api-key", "k", "--select", "no_such_check"],
])
def test_usage_errors_exit_2(args: list[str]) -> None:
    env = {"FLUX2_BASE_URL": "", "FLUX2_API_KEY": ""}
    done = suite(*args, env=env)
    assert done.returncode == 2, done.stdout + done.stderr


def test_refuses_to_start_above_the_cap_before_sending_anything(in_process_mock: str) -> None:
    done = suite("--base-url", in_process_mock, "--api-key", KEY, "--max-tasks", "3")
    assert done.returncode == 2
    assert "estimate: up to" in done.stdout
    assert "refusing to start" in done.stderr and "--max-tasks 3" in done.stderr
    assert "passed" not in done.stdout


def test_an_unreachable_target_is_refused() -> None:
    done = suite("--base-url", "http://127.0.0.1:9", "--api-key", KEY)
    assert done.returncode == 2
    assert "cannot reach http://127.0.0.1:9" in done.stderr


def test_env_vars_choose_the_target(in_process_mock: str) -> None:
    done = suite("--select", "auth_bogus", env={"FLUX2_BASE_URL": in_process_mock,
                                                "FLUX2_API_KEY": KEY})
    assert done.returncode == 0, done.stdout + done.stderr
    assert counts(done.stdout) == ("1", "0", "0")


def test_pytest_pyargs_entry_point(in_process_mock: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "contract_tests", "-p", "no:cacheprovider",
         "--flux2-base-url", in_process_mock, "--flux2-api-key", KEY, "--flux2-select", "auth",
         "--junitxml", str(tmp_path / "j.xml"), "--flux2-html", str(tmp_path / "c.html")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout or "5 passed" in done.stdout
    assert "auth_missing_rejected" in (tmp_path / "j.xml").read_text()
    assert "phase 1/2 no-task: started" in done.stdout  # progress through pytest's terminal
    assert "PASS auth_bogus_key_rejected (" in done.stdout
    assert 'id="auth_bogus_key_rejected"' in (tmp_path / "c.html").read_text("utf-8")


def test_pytest_pyargs_reads_env_and_fails_like_the_target(tmp_path: Path) -> None:
    with broken_target(BREAKAGES["auth_bogus_key_rejected"]) as url:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--pyargs", "contract_tests", "-q",
             "-p", "no:cacheprovider", "--flux2-select", "auth_bogus"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
            env={**os.environ, "FLUX2_BASE_URL": url, "FLUX2_API_KEY": KEY})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "auth_bogus_key_rejected" in done.stdout and "1 failed" in done.stdout


def test_pytest_pyargs_without_a_target_is_a_usage_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUX2_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "contract_tests",
                           "-p", "no:cacheprovider"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=env)
    assert done.returncode == 4
    assert "--flux2-base-url" in done.stderr
