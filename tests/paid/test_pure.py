"""Fast tests of the paid part's pure pieces: windows, slots, prices, balances, fault draws."""

from __future__ import annotations

import pytest

from flux2_spec.resources import load
from mock_server.config import load_settings
from mock_server.domain.rates import retry_after_s, slot_wait_ms, window_wait_ms
from mock_server.domain.scenarios import Scenario
from mock_server.paid import faults
from mock_server.paid.credits import parse_balance, price_micro, usd
from mock_server.paid.limits import parse_assignments, plan_table
from mock_server.settings import SettingsError
from mock_server.storage.memory.ledger import MemoryLedger

MINUTE = 60_000


def test_plans_are_the_documented_ones() -> None:
    table = plan_table()
    assert (table["free"].requests_per_minute, table["free"].concurrent_tasks) == (10, 3)
    assert (table["pro"].requests_per_minute, table["pro"].concurrent_tasks) == (60, 10)
    assert table["unlimited"].unlimited and not table["free"].unlimited


def test_window_admits_up_to_the_limit_then_waits_for_the_oldest_hit() -> None:
    hits: list[int] = []
    for at in range(0, 10_000, 1000):  # ten requests, one a second
        assert window_wait_ms(hits, at, 10, MINUTE) is None
        hits.append(at)
    # The eleventh must wait until the first leaves the window (at 60 000 ms).
    assert window_wait_ms(hits, 10_000, 10, MINUTE) == 50_000
    assert window_wait_ms(hits, 59_999, 10, MINUTE) == 1
    assert window_wait_ms(hits, 60_000, 10, MINUTE) is None


def test_window_ignores_hits_older_than_the_window() -> None:
    assert window_wait_ms([0, 1, 2], 70_000, 3, MINUTE) is None
    assert window_wait_ms([0, 65_000, 66_000], 70_000, 2, MINUTE) == 55_000


def test_slots_free_when_the_earliest_active_task_ends() -> None:
    assert slot_wait_ms([5_000, 9_000], 1_000, 3, MINUTE) is None
    assert slot_wait_ms([5_000, 9_000, 7_000], 1_000, 3, MINUTE) == 4_000
    # Four active on a limit of three (a plan changed): two must end first.
    assert slot_wait_ms([5_000, 9_000, 7_000, 8_000], 1_000, 3, MINUTE) == 6_000


def test_a_stuck_task_holds_its_slot_for_good() -> None:
    assert slot_wait_ms([None, None, None], 1_000, 3, MINUTE) == MINUTE
    assert slot_wait_ms([None, 4_000, None], 1_000, 3, MINUTE) == 3_000


@pytest.mark.parametrize(("wait_ms", "seconds"), [(1, 1), (999, 1), (1000, 1), (1001, 2),
                                                  (50_000, 50)])
def test_retry_after_rounds_up_to_whole_seconds(wait_ms: int, seconds: int) -> None:
    assert retry_after_s(wait_ms) == seconds


def test_prices_come_from_the_table_within_the_documented_range() -> None:
    table = load("prices")["per_image"]
    for mode, by_resolution in table.items():
        for resolution, price in by_resolution.items():
            assert 0.05 <= price <= 0.13
            assert price_micro({"mode": mode, "resolution": resolution}) == round(price * 1e6)
    assert usd(price_micro({"mode": "pro-text-to-image", "resolution": "1K"}) * 3) == 0.15


@pytest.mark.parametrize(("text", "micro"), [("0", 0), ("1.5", 1_500_000), ("0.20", 200_000),
                                             ("unlimited", None), ("Unlimited", None)])
def test_balances_parse_to_micro_dollars(text: str, micro: int | None) -> None:
    assert parse_balance(text, setting="key_balances") == micro


@pytest.mark.parametrize("text", ["-1", "lots", "nan", "inf"])
def test_a_balance_that_is_not_an_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="key_balances"):
        parse_balance(text, setting="key_balances")


def test_a_task_is_charged_once_whatever_retries_the_ledger_sees() -> None:
    ledger = MemoryLedger()
    assert ledger.charge("task_1", "k", 50_000, 0)
    assert not ledger.charge("task_1", "k", 50_000, 1)
    assert ledger.charge("task_2", "k", 70_000, 2)
    assert ledger.spent_micro("k") == 120_000
    ledger.reset(api_key="k")
    assert ledger.spent_micro("k") == 0


def test_assignments_parse_and_name_the_setting() -> None:
    assert parse_assignments(["a=free", " b = pro "], setting="key_plans") == {"a": "free",
                                                                              "b": "pro"}
    with pytest.raises(ValueError, match="key_plans"):
        parse_assignments(["free"], setting="key_plans")


KINDS = faults.fault_kinds(faults.DEFAULT_KINDS)


def test_fault_draws_are_a_pure_function_of_seed_key_and_number() -> None:
    first = [faults.draw_fault("7", "k", n, 0.1, KINDS) for n in range(1, 501)]
    again = [faults.draw_fault("7", "k", n, 0.1, KINDS) for n in range(1, 501)]
    other = [faults.draw_fault("8", "k", n, 0.1, KINDS) for n in range(1, 501)]
    assert first == again
    assert first != other
    hits = sum(f is not None for f in first)
    assert 25 <= hits <= 80  # about 10 % of 500
    assert {f for f in first if f is not None} == set(KINDS)


def test_no_fault_is_drawn_at_rate_zero_and_every_request_faults_at_one() -> None:
    assert all(faults.draw_fault("s", "k", n, 0.0, KINDS) is None for n in range(200))
    assert all(faults.draw_fault("s", "k", n, 1.0, KINDS) is not None for n in range(200))


def test_fault_kinds_accept_only_fault_tokens() -> None:
    assert faults.fault_kinds(["http=502", "latency=20"]) == (Scenario(http_status=502),
                                                              Scenario(latency_ms=20))
    for bad in ("success", "http=200", "explode"):
        with pytest.raises(ValueError, match="fault_kinds"):
            faults.fault_kinds([bad])


@pytest.mark.parametrize(("overrides", "message"), [
    ({"key_plans": "k=gold"}, "unknown plan 'gold'"),
    ({"default_plan": "gold"}, "unknown plan 'gold'"),
    ({"key_balances": "k=-3"}, "key_balances"),
    ({"fault_rate": 1.5}, "fault_rate must be between 0 and 1"),
    ({"fault_kinds": "http=500,success"}, "fault_kinds"),
    ({"insufficient_credits_form": "418"}, "insufficient_credits_form must be one of"),
])
def test_bad_paid_settings_stop_the_server_with_a_named_reason(overrides: dict[str, object],
                                                             message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env={}, overrides=overrides)


def test_paid_settings_come_from_the_environment() -> None:
    settings = load_settings(env={"FLUX2_MOCK_KEY_PLANS": "a=free,b=pro",
                                  "FLUX2_MOCK_KEY_BALANCES": "a=0.5",
                                  "FLUX2_MOCK_INSUFFICIENT_CREDITS_FORM": "task",
                                  "FLUX2_MOCK_FAULT_RATE": "0.1"})
    assert settings.key_plans == ("a=free", "b=pro")
    assert settings.key_balances == ("a=0.5",)
    assert (settings.insufficient_credits_form, settings.fault_rate) == ("task", 0.1)
