"""Runs a person can follow: progress on stderr, time per phase, an HTML report."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from contract_tests import progress
from contract_tests.html_report import render_html

from .breakages import BREAKAGES, KEY
from .conftest import broken_target, run_suite


class Cells(HTMLParser):
    """Collect the rows of the report's table as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_cli_prints_phases_and_checks_on_stderr_and_writes_html(in_process_mock: str,
                                                                tmp_path: Path) -> None:
    page = tmp_path / "contract.html"
    done = subprocess.run(
        [sys.executable, "-m", "contract_tests", "--base-url", in_process_mock, "--api-key",
         KEY, "--select", "auth", "--select", "api_key", "--select", "unknown_task",
         "--html", str(page)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    err = done.stderr.splitlines()
    assert [line.split(":")[0] for line in err if line.startswith("phase ") and "started" in line] \
        == ["phase 1/2 no-task", "phase 2/2 task"]
    assert sum(1 for line in err if re.match(r"phase \S+: done in \d+\.\d s", line)) == 2
    assert re.search(r"^\[\d/6\] PASS auth_missing_rejected \(\d+\.\d\d s\)", done.stderr, re.M)
    assert sum(1 for line in err if re.match(r"\[\d/6\] PASS ", line)) == 6
    assert re.search(r"^phases: no-task \d+\.\d s, task \d+\.\d s", done.stdout, re.M)
    parser = Cells()
    parser.feed(page.read_text("utf-8"))
    rows = {row[1].split("Authentication")[0].split("Query Task")[0]: row
            for row in parser.rows if row}
    assert len(rows) == 6
    verdict, _, quote, evidence, replay = rows["auth_missing_rejected"]
    assert verdict == "PASSED" and "Bearer token" in quote and evidence
    assert replay.startswith("curl ") and "$FLUX2_API_KEY" not in replay  # no key sent
    assert "$FLUX2_API_KEY" in rows["api_key_accepted"][4]


def test_html_report_shows_the_failure_and_its_curl() -> None:
    with broken_target(BREAKAGES["unknown_task_not_reported"]) as url:
        result = run_suite(url, select=("unknown_task",))
    parser = Cells()
    parser.feed(render_html(result))
    verdict, name, quote, evidence, replay = next(r for r in parser.rows if r)
    assert verdict == "FAILED" and name.startswith("unknown_task_not_reported")
    assert "statusTask" in quote
    assert "answered as a task" in evidence and "statusTask" in replay


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_live_bar(monkeypatch: pytest.MonkeyPatch, in_process_mock: str) -> None:
    screen = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", screen)
    watcher = progress.for_stderr()
    assert isinstance(watcher, progress.Bar)
    result = run_suite(in_process_mock, select=("auth_bogus",), progress=watcher)
    assert result.ok
    assert "PASS auth_bogus_key_rejected" in screen.getvalue()
    assert "phase 2/2 task" in screen.getvalue()


def test_a_pipe_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(progress.for_stderr(), progress.Lines)
