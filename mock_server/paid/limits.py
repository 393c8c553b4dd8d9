"""Plans per API key (data/plans.json): the request-rate window and the concurrent-task count.

Unlimited keys (the default) never reach this module's state: `Limits.watches` is a set
lookup, so an unthrottled request costs no database access at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mock_server.domain.clock import Clock
from mock_server.domain.errors import ApiError
from mock_server.domain.rates import retry_after_s, slot_wait_ms
from mock_server.domain.tables import load_table
from mock_server.storage.protocols import UsageState


@dataclass(frozen=True)
class Plan:
    """What one API key may do: None means no limit."""

    name: str
    requests_per_minute: int | None
    concurrent_tasks: int | None

    @property
    def unlimited(self) -> bool:
        return self.requests_per_minute is None and self.concurrent_tasks is None


def plan_table() -> dict[str, Plan]:
    """Return every plan of data/plans.json by name."""
    return {name: Plan(name, row["requests_per_minute"], row["concurrent_tasks"])
            for name, row in load_table("plans")["plans"].items()}


def window_ms() -> int:
    return int(load_table("plans")["window_ms"])


def parse_assignments(items: Iterable[str], *, setting: str) -> dict[str, str]:
    """Return {key: value} from `KEY=VALUE` items; raise ValueError naming the setting."""
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.rpartition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{setting} entries must look like KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


class RateLimited(ApiError):
    """HTTP 429: over the plan's request rate or concurrent tasks; says when to come back."""

    status, message = 429, "Too many requests"

    def __init__(self, detail: str, retry_after_ms: int) -> None:
        seconds = retry_after_s(retry_after_ms)
        super().__init__(f"{detail}; retry after {seconds} s",
                         data={"retryAfter": seconds},
                         headers={"Retry-After": str(seconds)})


class Limits:
    """The plans of the API keys, applied to requests and to new tasks."""

    def __init__(self, key_plans: Mapping[str, str], default_plan: str, usage: UsageState,
                 clock: Clock) -> None:
        table = plan_table()
        self.default = table[default_plan]
        self.plans = {key: table[name] for key, name in key_plans.items()}
        self.usage = usage
        self.clock = clock
        self.window = window_ms()
        # Keys whose plan limits anything; None stands for "every key not listed".
        self._watched = frozenset(k for k, p in self.plans.items() if not p.unlimited)
        self._default_watched = not self.default.unlimited

    def plan_for(self, api_key: str) -> Plan:
        return self.plans.get(api_key, self.default)

    def watches(self, api_key: str) -> bool:
        """Whether any limit applies to this key (no I/O: the hot path asks this)."""
        return api_key in self._watched or (self._default_watched and api_key not in self.plans)

    def check_request(self, api_key: str) -> None:
        """Count one API request against the key's rate, or raise RateLimited."""
        plan = self.plan_for(api_key)
        if plan.requests_per_minute is None:
            return
        wait = self.usage.take_request_slot(api_key, self.clock.now_ms(),
                                            plan.requests_per_minute, self.window)
        if wait is not None:
            raise RateLimited(f"the {plan.name} plan allows {plan.requests_per_minute} "
                              f"requests per minute", wait)

    def check_concurrency(self, api_key: str) -> None:
        """Raise RateLimited when the key already runs as many tasks as its plan allows."""
        plan = self.plan_for(api_key)
        if plan.concurrent_tasks is None:
            return
        now = self.clock.now_ms()
        wait = slot_wait_ms(self.usage.active_completions(api_key, now), now,
                            plan.concurrent_tasks, self.window)
        if wait is not None:
            raise RateLimited(f"the {plan.name} plan allows {plan.concurrent_tasks} "
                              f"concurrent tasks", wait)

