"""The layout's rules hold: layers, a pure domain, no import cycles (pyproject's contracts)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Each test runs `lint-imports` as a process (a few seconds); `make lint` runs it too.
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout and "5 kept" in done.stdout, done.stdout


def test_a_new_cycle_would_be_caught(tmp_path: Path) -> None:
    """The contracts are live: a copy of the tree whose domain imports upwards breaks them."""
    for name in ("mock_server", "flux2_spec", "contract_tests"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "static", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "mock_server" / "domain" / "_cycle_probe.py").write_text(
        "from mock_server.api import service  # noqa: F401\n")
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode != 0
    assert "mock_server.domain is not allowed to import mock_server.api" in done.stdout
