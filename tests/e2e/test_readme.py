"""The README's first-screen example works as printed, against a real `flux2-mock serve`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.serve import serving

README = Path(__file__).resolve().parents[2] / "README.md"
pytestmark = pytest.mark.e2e


def _first_sh_block_with(word: str) -> str:
    for block in re.findall(r"```sh\n(.*?)```", README.read_text("utf-8"), re.DOTALL):
        if word in block:
            return str(block)
    raise AssertionError(f"README has no sh block with {word!r}")


def _commands(block: str) -> list[str]:
    """Split a block into shell commands (continuation lines joined, comments dropped)."""
    joined = block.replace("\\\n", " ")
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_curl_example_submits_and_reads_a_task(tmp_path: Path) -> None:
    block = _first_sh_block_with("curl")
    assert "http://127.0.0.1:8000" in block and "flux2-mock-key" in block
    assert "task_..." not in block.split("# {")[0]  # a real taskId flow, no placeholder
    with serving("--profile", "instant", store=tmp_path / "tasks.sqlite3") as server:
        script = block.replace("http://127.0.0.1:8000", server.base_url)
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                              text=True, timeout=60, check=True)
        tasks = [t["taskId"] for t in
                 json.loads(subprocess.run(["curl", "-s", server.url("/_mock/tasks")],
                                           capture_output=True, text=True, timeout=30,
                                           check=True).stdout)["tasks"]]
    status = json.loads(done.stdout)
    assert status["code"] == 200 and status["data"]["state"] == "success"
    assert [status["data"]["taskId"]] == tasks


def test_readme_names_the_default_key_and_both_setup_commands() -> None:
    first_screen = "\n".join(README.read_text("utf-8").splitlines()[:30])
    assert "make run" in first_screen and "make test" in first_screen
    assert "flux2-mock-key" in first_screen
