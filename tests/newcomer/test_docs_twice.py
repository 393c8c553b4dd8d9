"""Every docs example works run twice in a row and in any order, on a store that persists.

Each run starts the server as the docs say, on one store file (the default store is a file
too), runs the examples, and stops it; the next run starts it again on the same file.
"""

from __future__ import annotations

import random
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.serve import mock_env, serving

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "http://127.0.0.1:8000"


def fences(page: str) -> list[tuple[str, str]]:
    text = (ROOT / page).read_text("utf-8")
    return [(lang, body) for lang, body in re.findall(r"```(\w+)\n(.*?)```", text, re.DOTALL)]


def shell_examples() -> list[str]:
    """The README's curl example and the control plane's, minus those that start a server."""
    readme = [b for lang, b in fences("README.md") if lang == "sh" and "TASK=$(curl" in b]
    control = [b for lang, b in fences("docs/control-plane.md")
               if lang == "sh" and "flux2-mock serve" not in b]
    assert len(readme) == 1 and len(control) >= 6
    return readme + control


def run_shell(block: str, base_url: str) -> None:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c",
                           block.replace(DEFAULT_URL, base_url)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{block}\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"


def test_the_control_plane_examples_twice_in_shuffled_orders_then_the_contract_suite(
        tmp_path: Path) -> None:
    store = tmp_path / "tasks.sqlite3"
    examples = shell_examples()
    for order_seed in (1, 2):
        shuffled = random.Random(order_seed).sample(examples, len(examples))
        with serving(store=store) as server:  # `make run`: the default profile, a store file
            for block in shuffled:
                run_shell(block, server.base_url)
    # What those runs left is said at start, with the way out; taken, nothing bites.
    with serving(store=store) as server:
        banner = "".join(server.output)
        assert "the store holds" in banner and "ahead of real time" in banner
        assert "POST /_mock/reset" in banner
        run_shell(f"curl -sf -X POST {DEFAULT_URL}/_mock/reset", server.base_url)
        suite = subprocess.run([sys.executable, "-m", "contract_tests", "--base-url",
                                server.base_url, "--api-key", "flux2-mock-key", "--seed", "1"],
                               capture_output=True, text=True, timeout=600, env=mock_env(),
                               check=False)
    assert suite.returncode == 0, suite.stdout[-3000:] + suite.stderr[-2000:]
    assert " 0 failed" in suite.stdout


def test_the_paid_first_look_twice_in_a_row(tmp_path: Path) -> None:
    commands = [body for lang, body in fences("docs/paid-and-faults.md") if lang == "sh"]
    examples = [body for lang, body in fences("docs/paid-and-faults.md") if lang == "python"]
    words = shlex.split(commands[0].replace("\\\n", " "))
    assert words[:2] == ["flux2-mock", "serve"]
    for _ in range(2):
        with serving(*words[2:], store=tmp_path / "tasks.sqlite3") as server:
            namespace: dict[str, object] = {"base_url": server.base_url}
            for example in examples:
                exec(compile(example, "docs/paid-and-faults.md", "exec"), namespace)
