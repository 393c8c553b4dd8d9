"""The paid part's settings, checked before anything is built from them."""

from __future__ import annotations

from mock_server.paid import faults
from mock_server.paid.credits import parse_balance
from mock_server.paid.limits import parse_assignments, plan_table
from mock_server.settings import Settings


def check_paid_settings(settings: Settings) -> None:
    """Raise ValueError naming the first paid-part setting that cannot be used."""
    names = set(plan_table())
    plans = parse_assignments(settings.key_plans, setting="key_plans")
    for name in (settings.default_plan, *plans.values()):
        if name not in names:
            raise ValueError(f"unknown plan {name!r} (known: {', '.join(sorted(names))})")
    for value in parse_assignments(settings.key_balances, setting="key_balances").values():
        parse_balance(value, setting="key_balances")
    if settings.default_balance is not None:
        parse_balance(str(settings.default_balance), setting="default_balance")
    if not 0.0 <= settings.fault_rate <= 1.0:
        raise ValueError(f"fault_rate must be between 0 and 1, got {settings.fault_rate}")
    faults.fault_kinds(settings.fault_kinds)
    if settings.fault_rate > 0 and not settings.fault_kinds:
        raise ValueError("fault_rate needs at least one entry in fault_kinds")
