"""docs/proxy-and-replay.md stays true: its example runs, its tables name every rule and
flag, its command lines use real options, its JSON examples have the documented shapes."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from pathlib import Path

import click
import pytest

from mock_server.cli import main
from mock_server.proxy.rules import RULES

from .support import proxy_in_process

pytestmark = pytest.mark.e2e  # starts flux2-mock serve (and proxy) processes

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "proxy-and-replay.md").read_text("utf-8")
DOC_PROXY = "http://127.0.0.1:8000"


def _blocks(lang: str) -> list[str]:
    return [str(b) for b in re.findall(rf"```{lang}\n(.*?)```", DOC, re.DOTALL)]


def test_the_python_example_works(mock_upstream: str, tmp_path: Path) -> None:
    (code,) = _blocks("python")
    with proxy_in_process(mock_upstream, tmp_path / "p.sqlite3") as proxy:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code.replace(DOC_PROXY, proxy), {})
    state, conformant, exchanges = out.getvalue().split()
    assert state in ("pending", "processing", "success")
    assert conformant == "True" and exchanges == "2"


def test_every_rule_is_documented_with_its_promise() -> None:
    for rule in RULES:
        assert re.search(rf"^\| `{rule.name}` \| .+ \|$", DOC, re.MULTILINE), rule.name


def test_every_command_line_uses_real_options() -> None:
    lines = [line for block in _blocks("sh") for line in block.splitlines()]
    lines += re.findall(r"`(flux2-mock [^`]+)`", DOC)
    assert len(lines) >= 8
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "flux2-mock"
        command = main.commands[words[1]]
        known = {o for p in command.params for o in p.opts if isinstance(p, click.Option)}
        for word in words[2:]:
            if word.startswith("--"):
                assert word.split("=")[0] in known, (line, word)


def test_every_proxy_flag_is_documented() -> None:
    for param in main.commands["proxy"].params:
        for opt in param.opts:
            assert f"`{opt}" in DOC, opt
    for flag in ("--replay", "--replay-fallback"):
        assert f"`{flag}" in DOC or f"{flag} " in DOC


def test_the_json_examples_have_the_documented_shape() -> None:
    finding, refused = (json.loads(b) for b in _blocks("json"))
    assert set(finding) == {"rule", "section", "doc", "message", "count", "firstSeen",
                            "lastSeen", "evidence"}
    assert finding["doc"] == next(r.doc for r in RULES if r.name == finding["rule"])
    assert refused["code"] == 402 and refused["message"] == "Spending limit reached"


def test_the_calibration_table_has_the_printed_layout() -> None:
    (table,) = _blocks("text")
    header = [line for line in table.splitlines() if line.strip().startswith("min")]
    assert header and header[0].split() == ["min", "p10", "p50", "p90", "max", "mean"]
    for label in ("recorded", "drawn", "realistic", "pendingMs", "processingMs"):
        assert label in table
