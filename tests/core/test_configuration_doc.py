"""docs/configuration.md stays true: every setting and flag documented, its examples work."""

from __future__ import annotations

import re
import shlex
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from mock_server.cli import serve
from mock_server.config import load_settings
from mock_server.settings import Settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text("utf-8")
ROWS = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", DOC, re.MULTILINE)}
FENCES = re.findall(r"```(\w+)\n(.*?)```", DOC, re.DOTALL)


@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_has_a_row_with_its_env_var_and_default(name: str) -> None:
    assert name in ROWS, f"docs/configuration.md has no row for setting {name!r}"
    row = ROWS[name]
    assert f"`FLUX2_MOCK_{name.upper()}`" in row
    field = next(f for f in fields(Settings) if f.name == name)
    default = field.default if field.default is not MISSING else None
    if isinstance(default, bool):
        assert f"`{str(default).lower()}`" in row
    elif isinstance(default, int | float | str) and default != "":
        assert f"`{default}`" in row


def test_no_row_documents_a_setting_that_does_not_exist() -> None:
    assert set(ROWS) <= {f.name for f in fields(Settings)}


@pytest.mark.parametrize("flag", [opt for p in serve.params for opt in p.opts + p.secondary_opts])
def test_every_serve_flag_is_documented(flag: str) -> None:
    assert f"`{flag}" in DOC


def test_toml_example_loads(tmp_path: Path) -> None:
    toml = next(body for lang, body in FENCES if lang == "toml")
    path = tmp_path / "mock.toml"
    path.write_text(toml, "utf-8")
    settings = load_settings(config_file=str(path), env={})
    assert (settings.profile, settings.seed, settings.failure_rate) == ("realistic", 42, 0.1)
    assert settings.api_keys == ("team-key", "ci-key")
    assert settings.result_url_ttl_s == 3600


def test_environment_example_loads() -> None:
    example = next(body for lang, body in FENCES if lang == "sh" and "FLUX2_MOCK_" in body)
    words = shlex.split(example.replace("\\\n", " "))
    env = dict(w.split("=", 1) for w in words if w.startswith("FLUX2_MOCK_"))
    settings = load_settings(env=env, overrides={"failure_rate": 0.1})
    assert (settings.profile, settings.seed, settings.api_keys) == ("realistic", 42,
                                                                    ("team-key", "ci-key"))
    assert words[words.index("--failure-rate") + 1] == "0.1"
