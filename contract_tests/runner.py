"""Running the suite: estimate, refuse above the cap, then the phases in order."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from . import checks, fuzz  # noqa: F401  (registers every check)
from .budget import BudgetExhausted, PriceTable
from .context import Context, NotApplicable
from .drivers import DRIVERS, Driver
from .options import Options, UsageError
from .payloads import quickstart_text_to_image
from .progress import Progress, Silent
from .receiver import Receiver
from .registry import PHASES, Check, CheckFailed, CheckSkipped, Outcome, Phase
from .transport import Exchange

PROBES_AT_ONCE = 2
REFERENCE_USERS = ("submit_answer", "quickstart_examples_accepted", "status_requires_auth",
                   "api_key_accepted")


@dataclass
class Estimate:
    """What a run is expected to create and cost, before it starts."""

    tasks: int
    spend: float

    def text(self) -> str:
        return f"estimate: up to {self.tasks} tasks, ${self.spend:.2f} on a paid API"


@dataclass
class RunResult:
    """Every check's outcome, plus what the run spent."""

    outcomes: list[Outcome]
    unavailable: dict[str, str]
    estimate: Estimate
    spend: float
    tasks: int
    seconds: float
    options: Options
    errors: list[str] = field(default_factory=list)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    deadlines: list[str] = field(default_factory=list)  # waits that ran to their limit
    evidence: dict[str, Exchange] = field(default_factory=dict)  # a request per check

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0 and not self.errors


def selected_drivers(ctx: Context) -> list[Driver]:
    kinds = {kind for o in ctx.outcomes.values() for kind in o.check.kinds}
    return [d for d in DRIVERS if kinds.intersection(d.feeds)]


def estimate(ctx: Context) -> Estimate:
    """Price every submission the selected checks and drivers plan (the reference once)."""
    payloads: list[object] = []
    uses_reference = any(n in ctx.outcomes for n in REFERENCE_USERS) or \
        any(d.name == "quickstart lifecycle" for d in selected_drivers(ctx))
    for outcome in ctx.outcomes.values():
        spec = outcome.check
        if spec.plan is not None:
            planned = spec.plan(ctx.options)
            if spec.name == "submit_answer":
                continue  # the reference task, counted below
            payloads.extend(planned)
    for driver in selected_drivers(ctx):
        payloads.extend(driver.plan(ctx.options))
    if uses_reference:
        payloads.append(quickstart_text_to_image())
    return Estimate(len(payloads), ctx.budget.prices.estimate(payloads))


def check_caps(ctx: Context, planned: Estimate) -> None:
    """Refuse to start when the estimate is above --max-tasks or --max-spend."""
    cap_tasks, cap_spend = ctx.budget.max_tasks, ctx.budget.max_spend
    if cap_tasks is not None and planned.tasks > cap_tasks:
        raise UsageError(f"{planned.text()}: above --max-tasks {cap_tasks}; raise the cap or "
                         f"narrow the run with --select")
    if cap_spend is not None and planned.spend > cap_spend + 1e-9:
        raise UsageError(f"{planned.text()}: above --max-spend ${cap_spend:.2f}; raise the cap "
                         f"or narrow the run with --select")


def preflight(ctx: Context) -> None:
    """Refuse to start when the base URL answers nothing at all (a typo, a server not up)."""
    exchange = ctx.transport.status("task_contract_preflight", headers={})
    if exchange.error:
        raise UsageError(f"cannot reach {ctx.options.base_url}: {exchange.error}")


def run_probe(ctx: Context, spec: Check) -> None:
    ctx.running_probe(spec.name)
    try:
        spec.fn(ctx, None)
    except CheckFailed as failure:
        ctx.record_failure(spec.name, failure)
    except (CheckSkipped, BudgetExhausted) as exc:
        ctx.record_skip(spec.name, str(exc))
    except NotApplicable:
        ctx.record_skip(spec.name, "not applicable to this target")
    except Exception as exc:  # a target can make anything happen; report, do not crash
        ctx.record_failure(spec.name, CheckFailed(
            f"unexpected error: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"))
    else:
        if ctx.outcomes[spec.name].passed == 0:
            ctx.record_pass(spec.name)
    finally:
        ctx.running_probe(None)


def run_driver(ctx: Context, driver: Driver, errors: list[str]) -> None:
    try:
        driver.fn(ctx)
    except BudgetExhausted as exc:
        ctx.mark_unavailable(driver.name, str(exc))
    except CheckFailed:
        pass  # recorded by the check that raised it
    except Exception as exc:
        errors.append(f"{driver.name}: {type(exc).__name__}: {exc}\n"
                      f"{traceback.format_exc(limit=6)}")


def finishing_phase(spec: Check) -> Phase:
    """Return the phase after which a check has seen all it will see."""
    return spec.phase if spec.kind == "probe" else PHASES[-1]


def run(options: Options, *, prices: PriceTable | None = None,
        log: Callable[[str], None] | None = None,
        progress: Progress | None = None) -> RunResult:
    """Run every selected check against `options.base_url`; raise UsageError before sending
    anything when the plan is above the caps."""
    ctx = Context.create(options, prices)
    if not ctx.outcomes:
        raise UsageError(f"--select {' '.join(options.select)} matches no check")
    planned = estimate(ctx)
    if log is not None:
        log(planned.text())
    check_caps(ctx, planned)
    preflight(ctx)
    if options.loopback or options.callback_url:
        ctx.receiver = Receiver(public_url=options.callback_url).start()
    watcher = progress or Silent()
    started = time.monotonic()
    errors: list[str] = []
    phase_seconds: dict[str, float] = {}
    watcher.start(len(ctx.outcomes))
    try:
        for index, phase in enumerate(PHASES, 1):
            phase_seconds[phase] = run_phase(ctx, phase, index, watcher, errors, started)
    finally:
        watcher.stop()
        if ctx.receiver is not None:
            ctx.receiver.stop()
        ctx.transport.close()
    return RunResult(list(ctx.outcomes.values()), dict(ctx.unavailable), planned,
                     ctx.budget.spent, ctx.budget.tasks, time.monotonic() - started, options,
                     errors, phase_seconds, list(ctx.deadlines), dict(ctx.evidence))


def run_phase(ctx: Context, phase: Phase, index: int, watcher: Progress, errors: list[str],
              run_started: float) -> float:
    """Run a phase's probes, then its drivers side by side; return how long it took."""
    began = time.monotonic()
    ending = [o for o in ctx.outcomes.values() if finishing_phase(o.check) == phase]
    watcher.phase_started(phase, index, len(PHASES), len(ending))
    drivers = [d for d in selected_drivers(ctx) if d.phase == phase]
    if not any(d.name == "scenarios" for d in selected_drivers(ctx)):
        ctx.scenarios_done.set()  # nothing to wait for
    # Drivers follow their tasks side by side, most while the phase's probes run: a slow
    # target is waited on once. One follows the probes' task and starts after them.
    threads = {d.name: threading.Thread(target=run_driver, args=(ctx, d, errors), daemon=True)
               for d in drivers}
    for driver in drivers:
        if not driver.after_probes:
            threads[driver.name].start()
    probes = [o for o in ctx.outcomes.values()
              if o.check.kind == "probe" and o.check.phase == phase]

    def probe(outcome: Outcome) -> None:
        probe_began = time.monotonic()
        run_probe(ctx, outcome.check)
        watcher.check_done(outcome, time.monotonic() - probe_began,
                           outcome.reason(ctx.unavailable))

    # Two probes at a time: most of a probe is waiting for the target's answers.
    with ThreadPoolExecutor(max_workers=PROBES_AT_ONCE) as pool:
        list(pool.map(probe, probes))
    for driver in drivers:
        if driver.after_probes:
            threads[driver.name].start()
    for thread in threads.values():
        thread.join()
    for outcome in ending:
        if outcome.check.kind != "probe":
            watcher.check_done(outcome, time.monotonic() - run_started,
                               outcome.reason(ctx.unavailable))
    seconds = time.monotonic() - began
    watcher.phase_done(phase, seconds)
    return seconds


__all__ = ["Estimate", "Exchange", "RunResult", "check_caps", "estimate", "run"]
