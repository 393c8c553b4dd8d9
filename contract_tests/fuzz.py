"""Hypothesis: generated valid requests must be accepted, generated invalid ones rejected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, seed, settings

from .budget import BudgetExhausted
from .context import Context
from .registry import CheckFailed, CheckSkipped, check
from .strategies import invalid_requests, valid_requests
from .verdicts import expect_accepted, expect_rejected

for _name in ("dev", "ci", "live"):
    # Requests go over the network: no deadline; no example database shared across targets.
    settings.register_profile(f"flux2-contract-{_name}", deadline=None, database=None,
                              derandomize=False, print_blob=False,
                              suppress_health_check=list(HealthCheck))


@dataclass(frozen=True)
class Sizes:
    """How many examples each Hypothesis test runs under a profile."""

    valid: int
    invalid: int
    stateful: int
    steps: int
    tasks_per_run: int


SIZES = {
    "dev": Sizes(valid=15, invalid=60, stateful=5, steps=10, tasks_per_run=3),
    "ci": Sizes(valid=50, invalid=200, stateful=20, steps=20, tasks_per_run=4),
    "live": Sizes(valid=2, invalid=25, stateful=1, steps=8, tasks_per_run=2),
}


def profile_settings(ctx: Context, max_examples: int, **extra: Any) -> settings:
    """Return the run's Hypothesis profile with `max_examples`."""
    base = settings.get_profile(f"flux2-contract-{ctx.options.profile}")
    return settings(base, max_examples=max(1, max_examples), **extra)


def run_hypothesis(ctx: Context, test: Callable[[], None]) -> None:
    """Run a Hypothesis test; an exhausted budget skips instead of failing."""
    try:
        seed(ctx.options.seed)(test)()
    except BudgetExhausted as exc:
        raise CheckSkipped(str(exc)) from None
    except BaseExceptionGroup as group:
        exhausted = group.subgroup((BudgetExhausted, CheckSkipped))
        if exhausted is not None:
            raise CheckSkipped(str(exhausted.exceptions[0])) from None
        failed = group.subgroup(CheckFailed)
        if failed is not None:
            raise failed.exceptions[0] from None
        raise


def _plan_valid(options: Any) -> list[Any]:
    # Priced at the highest rate: the modes and resolutions are drawn during the run.
    return [None] * SIZES[options.profile].valid


@check(phase="task", section="Request Parameters", plan=_plan_valid,
       quote="Input Parameters: mode, prompt (3 to 5,000 characters), image_urls (up to 8), "
             "aspect_ratio, resolution (Hypothesis-generated valid requests)")
def valid_requests_accepted(ctx: Context, _: None) -> None:
    """Every generated request that follows the documented rules is accepted."""
    strategy = valid_requests(image_url=ctx.options.image_url,
                              allow_omitted=ctx.options.omitted_fields == "default")

    @profile_settings(ctx, SIZES[ctx.options.profile].valid)
    @given(strategy)
    def accepted(payload: dict[str, Any]) -> None:
        expect_accepted(ctx.submit(payload), "a valid generated request")

    run_hypothesis(ctx, accepted)


@check(section="Request Parameters",
       quote="Request Parameters: each rule of the tables (Hypothesis-generated requests "
             "breaking exactly one rule)")
def invalid_requests_rejected(ctx: Context, _: None) -> None:
    """Every generated request that breaks one documented rule is rejected."""
    strategy = invalid_requests(image_url=ctx.options.image_url,
                                omitted_rejected=ctx.options.omitted_fields == "reject",
                                i2i_urls_required=ctx.options.i2i_image_urls == "required")

    @profile_settings(ctx, SIZES[ctx.options.profile].invalid)
    @given(strategy)
    def rejected(case: tuple[str, Any]) -> None:
        rule, payload = case
        expect_rejected(ctx.submit(payload), f"a request breaking one rule ({rule})")

    run_hypothesis(ctx, rejected)
