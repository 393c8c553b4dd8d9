"""docs/conformance.md stays true: every rule documented, and its examples run."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mock_server.conformance.rules import rules
from tests.support.serve import serving

pytest_plugins = ["pytester"]

DOC = (Path(__file__).resolve().parents[2] / "docs" / "conformance.md").read_text("utf-8")
FENCES = re.findall(r"```(\w+)\n(.*?)```", DOC, re.DOTALL)
TABLE_IDS = re.findall(r"^\| `([a-z-]+)` \| (error|warning) \|", DOC, re.MULTILINE)


def fence(language: str) -> str:
    (text,) = [body for lang, body in FENCES if lang == language]
    return text


def test_every_rule_has_a_row_with_its_severity() -> None:
    assert [(r.id, r.severity) for r in rules()] == TABLE_IDS


def test_every_rule_rests_on_a_sentence_of_the_docs() -> None:
    shipped = (Path(__file__).resolve().parents[2] / "mock_server" / "data").glob("*.json")
    assert any(p.name == "conformance_rules.json" for p in shipped)
    for rule in rules():
        assert rule.doc and rule.source and rule.title, rule.id
        assert rule.severity in ("error", "warning")


def test_the_json_example_has_the_shape_of_a_real_report(flux2_mock: Any) -> None:
    example = json.loads(fence("json"))
    real = flux2_mock.conformance()
    assert set(example) == set(real)
    assert set(example["thresholds"]) == set(real["thresholds"])
    assert set(example["rules"][0]) <= {"id", "severity", "result", "reason"}
    evidence_keys = {"time", "what", "method", "path", "status", "taskId", "apiKey"}
    finding = example["findings"][0]
    assert set(finding) == {"rule", "severity", "title", "doc", "source", "message", "count",
                            "evidence"}
    assert set(finding["evidence"][0]) == evidence_keys
    assert finding["doc"] == next(r.doc for r in rules() if r.id == finding["rule"])


@pytest.mark.e2e
def test_the_report_command_runs_as_written(tmp_path: Path) -> None:
    (line,) = fence("sh").strip().splitlines()
    with serving("--profile", "instant", store=tmp_path / "t.db") as mock:
        args = shlex.split(line.replace("http://127.0.0.1:8000", mock.base_url))
        assert args[0] == "flux2-mock"
        result = subprocess.run([sys.executable, "-m", "mock_server", *args[1:]],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CONFORMANT: 0 error(s), 0 warning(s)" in result.stdout


def test_the_plugin_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=fence("python"))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
