"""Timing profiles: data-driven spans, draws inside mean +/- jitter, reproducible under a seed."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.profiles import Span, get_profile, profile_names
from mock_server.domain.tables import load_table


def test_documented_profiles_exist() -> None:
    assert {"instant", "fast", "realistic"} <= set(profile_names())


def test_instant_is_zero_and_fast_is_well_under_a_second() -> None:
    instant, fast = get_profile("instant"), get_profile("fast")
    assert instant.pending == Span(0, 0) and instant.processing == Span(0, 0)
    worst = fast.pending.mean_ms + fast.pending.jitter_ms \
        + fast.processing.mean_ms + fast.processing.jitter_ms
    assert worst < 500


def test_realistic_averages_20_to_30_seconds_like_the_docs() -> None:
    realistic = get_profile("realistic")
    assert 20_000 <= realistic.pending.mean_ms + realistic.processing.mean_ms <= 30_000
    assert realistic.processing.jitter_ms > 0
    assert realistic.time_scale == 1.0


@pytest.mark.parametrize("name", ["instant", "fast", "realistic"])
def test_profiles_are_read_from_the_data_file(name: str) -> None:
    entry = load_table("profiles")["profiles"][name]
    profile = get_profile(name)
    assert [profile.pending.mean_ms, profile.pending.jitter_ms] == entry["pending"]
    assert [profile.processing.mean_ms, profile.processing.jitter_ms] == entry["processing"]


def test_unknown_profile_names_the_choices() -> None:
    with pytest.raises(ValueError, match=r"profile must be one of .*fast.*got 'slowish'"):
        get_profile("slowish")


@given(st.integers(0, 10**6), st.integers(0, 10**5), st.integers())
def test_draws_stay_within_mean_plus_minus_jitter(mean: int, jitter: int, seed: int) -> None:
    span = Span(mean, jitter)
    rng = random.Random(seed)
    for _ in range(20):
        value = span.draw(rng)
        assert max(0, mean - jitter) <= value <= mean + jitter


def test_draws_are_reproducible_under_a_seed_and_vary_without_one() -> None:
    span = get_profile("realistic").processing
    first = [span.draw(rng) for rng in [random.Random("s:1")] for _ in range(50)]
    again = [span.draw(rng) for rng in [random.Random("s:1")] for _ in range(50)]
    other = [span.draw(rng) for rng in [random.Random("s:2")] for _ in range(50)]
    assert first == again
    assert first != other
    assert len(set(first)) > 10


def test_custom_durations_make_a_custom_profile() -> None:
    custom = get_profile("realistic").with_overrides(100, None)
    assert custom.name == "custom"
    assert custom.pending == Span(100)
    assert custom.processing == get_profile("realistic").processing
    assert get_profile("fast").with_overrides(None, None).name == "fast"
    assert get_profile("fast").with_overrides(0, 250).time_scale == pytest.approx(250 / 25_000)
