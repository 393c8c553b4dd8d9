"""Every command in docs/contract-suite.md, run as written (the local port substituted)."""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from contract_tests.cli import main

pytestmark = pytest.mark.e2e  # runs the documented commands as processes

DOC = Path(__file__).resolve().parents[2] / "docs" / "contract-suite.md"
LOCAL = "http://127.0.0.1:8000"


def commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text("utf-8"), re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_the_doc_has_examples() -> None:
    assert len(commands()) == 4


@pytest.mark.parametrize("command", [c for c in commands() if LOCAL in c])
def test_local_examples_pass(command: str, in_process_mock: str, tmp_path: Path) -> None:
    argv = shlex.split(command.replace(LOCAL, in_process_mock))
    runner = [sys.executable, "-m", "contract_tests"] if argv[0] == "python" else \
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    rest = argv[3:] if argv[0] == "python" else argv[1:]
    done = subprocess.run(runner + rest, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    if "--junitxml" in command:
        assert (tmp_path / "contract.xml").is_file()


@pytest.mark.parametrize("command", [c for c in commands() if "api.apixo.ai" in c])
def test_live_example_refuses_without_touching_the_network(
        command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"the suite tried to reach {address!r}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    result = CliRunner().invoke(main, shlex.split(command)[3:])
    assert result.exit_code == 2, result.output
    assert "estimate: up to 26 tasks, $1.90 on a paid API" in result.output
    assert "refusing to start" in result.output and "above --max-spend $0.50" in result.output
