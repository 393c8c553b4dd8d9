"""`make bench` stays runnable: its sections load, and its load generator only hits loopback."""

from __future__ import annotations

import importlib

import pytest

from benchmarks import SECTIONS
from benchmarks.__main__ import main
from benchmarks.load import Request, run_load


@pytest.mark.parametrize("name", SECTIONS)
def test_every_section_has_a_run_function(name: str) -> None:
    assert callable(importlib.import_module(name).run)


@pytest.mark.parametrize("url", ["http://10.0.0.1/ping", "http://192.168.1.2:80/",
                                 "http://example.com/"])
def test_load_generator_refuses_other_addresses(url: str) -> None:
    with pytest.raises(ValueError, match="only load loopback"):
        run_load(Request(url), seconds=0.1)


def test_unknown_section_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["no_such_section"])
    assert stopped.value.code == 2
    assert "unknown section(s) no_such_section" in capsys.readouterr().err
