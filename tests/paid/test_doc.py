"""docs/paid-and-faults.md stays true: its examples run, its tables match the data files."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from flux2_spec.resources import load
from mock_server.cli import serve
from mock_server.config import load_settings
from mock_server.paid.limits import plan_table
from tests.support.serve import serving

pytestmark = pytest.mark.e2e

DOC = (Path(__file__).resolve().parents[2] / "docs" / "paid-and-faults.md").read_text("utf-8")
FENCES = re.findall(r"```(\w+)\n(.*?)```", DOC, re.DOTALL)


def serve_args(block: str) -> list[str]:
    words = shlex.split(block.replace("\\\n", " "))
    assert words[:2] == ["flux2-mock", "serve"], block
    return words[2:]


def test_the_python_examples_run_against_the_first_serve_command() -> None:
    commands = [body for lang, body in FENCES if lang == "sh"]
    examples = [body for lang, body in FENCES if lang == "python"]
    assert len(examples) >= 3
    # The documented command, on a throwaway store so the run starts from nothing.
    with serving(*serve_args(commands[0]), "--store", "memory") as server:
        namespace: dict[str, object] = {"base_url": server.base_url}
        for example in examples:
            exec(compile(example, "docs/paid-and-faults.md", "exec"), namespace)


def test_the_fault_rate_command_and_the_config_file_load(tmp_path: Path) -> None:
    command = next(body for lang, body in FENCES if lang == "sh" and "--fault-rate" in body)
    context = serve.make_context("serve", serve_args(command))
    options = {k: v for k, v in context.params.items() if k != "config_file" and v != ()}
    settings = load_settings(env={}, overrides=options)
    assert (settings.fault_rate, settings.seed, settings.store) == (0.1, 42, "memory")
    toml = next(body for lang, body in FENCES if lang == "toml")
    (tmp_path / "mock.toml").write_text(toml, "utf-8")
    settings = load_settings(config_file=str(tmp_path / "mock.toml"), env={})
    assert settings.key_plans == ("ci-key=free",)
    assert settings.key_balances == ("ci-key=0.50",)
    assert (settings.insufficient_credits_form, settings.fault_rate) == ("task", 0.05)
    assert settings.fault_kinds == ("http=503", "close", "latency=2000")


def test_the_tables_match_the_data_files() -> None:
    for plan in plan_table().values():
        if plan.unlimited:
            continue
        assert f"| `{plan.name}` | {plan.requests_per_minute} | {plan.concurrent_tasks} |" in DOC
    for mode, prices in load("prices")["per_image"].items():
        assert f"| `{mode}` | {prices['1K']:.2f} | {prices['2K']:.2f} |" in DOC
