"""After `make`, the README's commands work as printed: its block of tools and targets runs
verbatim in the repository, against a mock served as `make run` serves it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.serve import mock_env, serving

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")
DEFAULT_URL = "http://127.0.0.1:8000"


def tools_block() -> list[str]:
    block = next(b for b in re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
                 if "flux2-mock report" in b)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def user_env() -> dict[str, str]:
    """A user's shell: no FLUX2_MOCK_* settings, and nothing of the `make test` running us.

    A command line's variables (`make test ARGS=...`) reach every make below it through
    MAKEFLAGS; a user typing the README's commands has none.
    """
    made = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "ARGS")
    return {k: v for k, v in mock_env().items() if k not in made}


def test_make_run_prints_how_to_use_the_tools_it_installed() -> None:
    shown = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True,
                           timeout=60, check=True, env=user_env()).stdout
    for command in tools_block():
        if command.startswith("make"):
            assert command.split()[1] in shown, f"make run does not mention {command}"
    assert ".venv/bin/flux2-mock" in shown and "activate" in shown


def test_the_readme_commands_work_verbatim_after_make(tmp_path: Path) -> None:
    assert (ROOT / ".venv" / "bin" / "flux2-mock").exists(), "run `make` first (make test does)"
    commands = tools_block()
    assert any(c.startswith(".venv/bin/flux2-mock report") for c in commands)
    assert any(c.startswith("make contract") for c in commands)
    with serving("--store", str(tmp_path / "tasks.sqlite3")) as server:
        for command in commands:
            # Tests bind a free port, not 8000: the one change, and make gets it as BASE_URL.
            line = command.replace(DEFAULT_URL, server.base_url)
            if line.startswith("make") and "BASE_URL=" not in line:
                line += f" BASE_URL={server.base_url}"
            done = subprocess.run(line, shell=True, cwd=ROOT, capture_output=True, text=True,
                                  timeout=300, env=user_env(), check=False)
            assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr}"
            assert "command not found" not in done.stderr and "No module named" not in done.stderr
