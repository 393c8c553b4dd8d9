"""The scenario grammar of DESIGN.md: header and prompt marker, one parser."""

from __future__ import annotations

import pytest

from mock_server.domain.scenarios import (
    TOKENS,
    Scenario,
    ScenarioError,
    from_prompt,
    parse,
    resolve,
    strip_markers,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("", Scenario()),
    ("success", Scenario(outcome="success")),
    ("fail", Scenario(outcome="failed")),
    ("fail:CONTENT_VIOLATION", Scenario(outcome="failed", fail_code="CONTENT_VIOLATION")),
    ("fail:NSFW", Scenario(outcome="failed", fail_code="NSFW")),
    ("stuck", Scenario(outcome="stuck")),
    ("pending=0", Scenario(pending_ms=0)),
    ("pending=1500", Scenario(pending_ms=1500)),
    ("processing=200", Scenario(processing_ms=200)),
    ("fail:CONTENT_VIOLATION; processing=200",
     Scenario(outcome="failed", fail_code="CONTENT_VIOLATION", processing_ms=200)),
    (" SUCCESS ;; pending = 5 ;", Scenario(outcome="success", pending_ms=5)),
    ("callback-delay=300", Scenario(callback_delay_ms=300)),
    ("callback-duplicate", Scenario(callback_duplicate=True)),
    ("callback-drop", Scenario(callback_drop=True)),
    ("http=503", Scenario(http_status=503)),
    ("latency=40", Scenario(latency_ms=40)),
    ("close", Scenario(fault="close")),
    ("truncate", Scenario(fault="truncate")),
    ("malformed", Scenario(fault="malformed")),
])
def test_every_token_parses(text: str, expected: Scenario) -> None:
    assert parse(text) == expected


def test_the_documented_tokens_are_all_known() -> None:
    assert {"success", "fail", "stuck", "pending", "processing"} <= set(TOKENS)


@pytest.mark.parametrize("token", ["explode", "failure", "pendng=5", "succes"])
def test_unknown_token_is_named(token: str) -> None:
    with pytest.raises(ScenarioError, match=rf"unknown scenario token '{token}'") as info:
        parse(f"success; {token}")
    assert "X-Mock-Scenario" in str(info.value)
    assert "known:" in str(info.value)


@pytest.mark.parametrize(("text", "words"), [
    ("pending=soon", "whole number of milliseconds"),
    ("pending", "whole number of milliseconds"),
    ("processing=-5", "whole number of milliseconds"),
    ("processing=999999999999", "at most"),
    ("success=1", "takes no value"),
    ("stuck:yes", "takes no value"),
    ("fail:not a code", "letters, digits"),
    ("http=200", "from 400 to 599"),
])
def test_bad_values_say_what_the_token_needs(text: str, words: str) -> None:
    with pytest.raises(ScenarioError, match=words):
        parse(text)


@pytest.mark.parametrize("text", ["success; fail", "stuck;fail:NSFW", "fail; success",
                                  "close; truncate"])
def test_conflicting_outcome_tokens_are_rejected(text: str) -> None:
    with pytest.raises(ScenarioError, match="more than one"):
        parse(text)


def test_marker_in_prompt_uses_the_same_grammar() -> None:
    prompt = "A cat [mock:fail:NSFW_DETECTED; processing=10] on a mat"
    assert from_prompt(prompt) == Scenario(outcome="failed", fail_code="NSFW_DETECTED",
                                           processing_ms=10)
    assert strip_markers(prompt) == "A cat  on a mat"
    assert from_prompt("no marker here") == Scenario()


def test_marker_is_case_insensitive_and_later_markers_win() -> None:
    assert from_prompt("x [MOCK:stuck] y [mock:pending=3]") == Scenario(outcome="stuck",
                                                                        pending_ms=3)
    assert from_prompt("[mock:pending=1][mock:pending=2]").pending_ms == 2


def test_unknown_token_in_marker_names_the_marker() -> None:
    with pytest.raises(ScenarioError, match=r"\[mock:\] prompt marker: unknown scenario token "
                                            r"'bogus'"):
        from_prompt("hello [mock:bogus]")


def test_header_overrides_marker_field_by_field() -> None:
    scenario = resolve("success; processing=7", "x [mock:fail:NSFW; pending=3; processing=9]")
    assert scenario.outcome == "success"
    assert scenario.processing_ms == 7
    assert scenario.pending_ms == 3  # the header said nothing about pending: the marker stands
    assert resolve(None, "[mock:stuck]").outcome == "stuck"
    assert resolve("", "plain").outcome is None
