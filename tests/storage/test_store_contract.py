"""The store contract: one suite, run on SQLite and on PostgreSQL alike (conftest.py).

Each test opens one or two server instances on a fresh store; what one instance
writes, the other reads.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest

from mock_server.domain.deliveries import (
    ABANDONED,
    DELIVERED,
    DROPPED,
    WAITING,
    Attempt,
    Finished,
)
from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.rates import window_wait_ms
from mock_server.domain.tasks import TaskRecord
from mock_server.storage import Storage

Opener = Callable[[], Storage]
T0 = 1_700_000_000_000


def builder(*, key: str = "k1", callback: str | None = None, scenario: dict[str, Any] | None = None,
            outcome: str = "success", pending: int = 100, processing: int = 200,
            create: int = T0) -> Callable[[int], TaskRecord]:
    def build(seq: int) -> TaskRecord:
        request: dict[str, Any] = {"request_type": "async",
                                   "input": {"prompt": f"p{seq}", "mode": "pro-text-to-image",
                                             "resolution": "1K"}}
        if callback:
            request = {"request_type": "callback", "callback_url": callback,
                       "input": request["input"]}
        fail = ("E1", "broke") if outcome == "failed" else (None, None)
        plan = TaskPlan(create, pending, processing, outcome, *fail)  # type: ignore[arg-type]
        return TaskRecord(f"task-{seq:04d}", seq, key, request, plan, "http://127.0.0.1:1",
                          1024, 1024, scenario or {})
    return build


# -- tasks -------------------------------------------------------------------------------

def test_tasks_get_consecutive_numbers_and_read_back_whole(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    first = a.tasks.create_task(builder())
    second = b.tasks.create_task(builder(key="k2", scenario={"callback_delay_ms": 5}))
    assert (first.seq, second.seq) == (1, 2)
    assert b.tasks.get_task(first.task_id) == first
    assert a.tasks.get_task(second.task_id) == second
    assert a.tasks.get_task("nope") is None


def test_request_key_order_survives_the_round_trip(one: Storage) -> None:
    record = one.tasks.create_task(builder())
    assert list(one.tasks.get_task(record.task_id).request["input"]) == \
        ["prompt", "mode", "resolution"]


def test_replace_plan_is_seen_by_the_other_instance(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    record = a.tasks.create_task(builder())
    assert b.tasks.get_task(record.task_id).plan.outcome == "success"  # cached, maybe
    forced = TaskPlan(T0, 0, 0, "failed", "X", "forced")
    a.tasks.replace_plan(record.task_id, forced)
    assert b.tasks.get_task(record.task_id).plan == forced


def test_list_pages_by_key_and_cursor(one: Storage) -> None:
    for key in ("a", "b", "a", "a", "b"):
        one.tasks.create_task(builder(key=key))
    assert [r.seq for r in one.tasks.list_tasks()] == [1, 2, 3, 4, 5]
    assert [r.seq for r in one.tasks.list_tasks(api_key="a")] == [1, 3, 4]
    assert [r.seq for r in one.tasks.list_tasks(api_key="a", after_seq=1, limit=1)] == [3]
    assert one.tasks.list_tasks(after_seq=5) == []


def test_reset_one_key_or_all(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    kept = a.tasks.create_task(builder(key="a"))
    gone = a.tasks.create_task(builder(key="b"))
    b.tasks.get_task(gone.task_id)
    b.tasks.reset(api_key="b")
    assert a.tasks.get_task(gone.task_id) is None and b.tasks.get_task(gone.task_id) is None
    assert a.tasks.get_task(kept.task_id) == kept
    a.tasks.reset()
    assert b.tasks.list_tasks() == []
    assert b.tasks.create_task(builder()).seq == 3  # numbers are never reused


def test_parallel_submits_through_two_instances_get_unique_numbers(open_instance: Opener) -> None:
    instances = [open_instance(), open_instance()]
    seqs: list[int] = []
    lock = threading.Lock()

    def submit(instance: Storage) -> None:
        for _ in range(20):
            seq = instance.tasks.create_task(builder()).seq
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=submit, args=(instances[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seqs) == list(range(1, 81))


# -- callback outbox --------------------------------------------------------------------

URL = "http://127.0.0.1:9/hook"


def test_outbox_registers_callback_tasks_once(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    a.tasks.create_task(builder(callback=URL))
    a.tasks.create_task(builder())  # async: no delivery
    a.tasks.create_task(builder(callback=URL, scenario={"callback_duplicate": True}))
    dropped = a.tasks.create_task(builder(callback=URL, scenario={"callback_drop": True}))
    assert not b.outbox.idle()
    assert a.outbox.register_new() + b.outbox.register_new() == 4
    assert b.outbox.register_new() == 0
    assert [d.state for d in b.outbox.journal(dropped.task_id)] == [DROPPED]


def test_a_delivery_is_due_at_completion_plus_delay(one: Storage) -> None:
    record = one.tasks.create_task(builder(callback=URL, scenario={"callback_delay_ms": 50}))
    one.outbox.register_new()
    due = T0 + 100 + 200 + 50
    assert one.outbox.journal(record.task_id)[0].due_ms == due
    assert one.outbox.claim_due(due - 1, "o1", 1000, 10) == []
    jobs = one.outbox.claim_due(due, "o1", 1000, 10)
    assert [(j.task_id, j.delivery, j.url, j.attempts) for j in jobs] == \
        [(record.task_id, 1, URL, 0)]


def test_stuck_tasks_are_never_due(one: Storage) -> None:
    record = one.tasks.create_task(builder(callback=URL, outcome="stuck"))
    one.outbox.register_new()
    assert one.outbox.claim_due(T0 + 10**9, "o1", 1000, 10) == []
    assert one.outbox.journal(record.task_id)[0].due_ms is None


def test_a_lease_gives_each_row_to_one_dispatcher(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    for _ in range(30):
        a.tasks.create_task(builder(callback=URL))
    a.outbox.register_new()
    now = T0 + 10_000
    claims: dict[str, list[Any]] = {}

    def claim(name: str, instance: Storage) -> None:
        got = []
        while batch := instance.outbox.claim_due(now, name, 60_000, 4):
            got += batch
        claims[name] = got

    threads = [threading.Thread(target=claim, args=(f"o{i}", (a, b)[i % 2])) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [j.task_id for jobs in claims.values() for j in jobs]
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 30
    # Leased: nobody else gets them until the lease ends; then anyone may.
    assert b.outbox.claim_due(now + 59_999, "late", 60_000, 100) == []
    assert len(b.outbox.claim_due(now + 60_000, "late", 60_000, 100)) == 30


def finished(job: Any, owner: str, state: str, *, status: int | None = 200,
             next_ms: int | None = None) -> Finished:
    attempt = Attempt(job.delivery, job.attempts + 1, T0 + 400, job.url, status, None, 3,
                      {"taskId": job.task_id})
    return Finished(job, owner, attempt, state, next_ms)


def test_finish_settles_only_under_the_lease_and_journals_every_attempt(
        open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    record = a.tasks.create_task(builder(callback=URL))
    a.outbox.register_new()
    now = T0 + 1000
    [job] = a.outbox.claim_due(now, "first", 10, 1)
    [again] = b.outbox.claim_due(now + 10, "second", 10_000, 1)  # the first lease lapsed
    a.outbox.finish_many([finished(job, "first", DELIVERED)])  # overtaken: journal only
    [delivery] = b.outbox.journal(record.task_id)
    assert delivery.state == WAITING and len(delivery.attempts) == 1
    b.outbox.finish_many([finished(again, "second", WAITING, status=500, next_ms=now + 50)])
    [delivery] = a.outbox.journal(record.task_id)
    assert (delivery.state, delivery.due_ms, len(delivery.attempts)) == (WAITING, now + 50, 2)
    [retry] = a.outbox.claim_due(now + 50, "third", 10_000, 5)
    assert retry.attempts == 1
    a.outbox.finish_many([finished(retry, "third", ABANDONED, status=500)])
    [delivery] = b.outbox.journal(record.task_id)
    assert delivery.state == ABANDONED
    assert [x.as_json()["payload"] for x in delivery.attempts] == [{"taskId": record.task_id}] * 3
    assert a.outbox.idle() and b.outbox.idle()


def test_release_and_reap_hand_a_row_back(one: Storage) -> None:
    one.tasks.create_task(builder(callback=URL))
    one.tasks.create_task(builder(callback=URL))
    one.outbox.register_new()
    now = T0 + 1000
    first, second = one.outbox.claim_due(now, "alive", 60_000, 1) + \
        one.outbox.claim_due(now, "dead", 60_000, 1)
    one.outbox.release(first, "alive")
    assert one.outbox.reap(lambda owner: owner != "dead") == 1
    again = one.outbox.claim_due(now, "new", 60_000, 10)
    assert sorted(j.task_id for j in again) == sorted([first.task_id, second.task_id])


def test_redelivery_numbers_follow_on(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    record = a.tasks.create_task(builder(callback=URL, scenario={"callback_duplicate": True}))
    assert b.outbox.add_delivery(record, "redeliver", T0) == 3  # registers the first two
    assert a.outbox.add_delivery(record, "redeliver", T0) == 4
    journal = b.outbox.journal(record.task_id)
    assert [(d.delivery, d.reason) for d in journal] == \
        [(1, "completion"), (2, "duplicate"), (3, "redeliver"), (4, "redeliver")]


# -- plans, credits ------------------------------------------------------------------------

def test_request_window_is_shared(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    assert a.usage.take_request_slot("k", T0, 2, 1000) is None
    assert b.usage.take_request_slot("k", T0 + 10, 2, 1000) is None
    assert a.usage.take_request_slot("k", T0 + 20, 2, 1000) == 980
    assert b.usage.take_request_slot("other", T0 + 20, 2, 1000) is None
    assert b.usage.take_request_slot("k", T0 + 1000, 2, 1000) is None  # the first left


def test_request_window_answers_as_the_pure_rule(one: Storage) -> None:
    rng = random.Random(12)
    granted: list[int] = []
    now = T0
    for _ in range(80):
        now += rng.choice([0, 1, 5, 40, 90, 300])
        expected = window_wait_ms(granted, now, 4, 500)
        assert one.usage.take_request_slot("k", now, 4, 500) == expected
        if expected is None:
            granted.append(now)


def test_request_window_holds_under_a_parallel_burst(open_instance: Opener) -> None:
    instances = [open_instance(), open_instance()]
    granted: list[int] = []

    def burst(instance: Storage) -> None:
        for _ in range(10):
            if instance.usage.take_request_slot("k", T0, 7, 60_000) is None:
                granted.append(1)

    threads = [threading.Thread(target=burst, args=(instances[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 7


def test_active_tasks_and_request_numbers(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    a.tasks.create_task(builder(key="k"))  # completes at T0 + 300
    a.tasks.create_task(builder(key="k", outcome="stuck"))
    a.tasks.create_task(builder(key="other"))
    assert sorted(b.usage.active_completions("k", T0), key=str) == [T0 + 300, None]
    assert b.usage.active_completions("k", T0 + 300) == [None]
    assert [a.usage.next_request_number("k"), b.usage.next_request_number("k"),
            b.usage.next_request_number("j")] == [1, 2, 1]
    b.usage.reset(api_key="k")
    assert a.usage.next_request_number("k") == 1 and a.usage.next_request_number("j") == 2


def test_admission_lets_one_instance_in_at_a_time(open_instance: Opener) -> None:
    instances = [open_instance(), open_instance()]
    inside = [0]
    most = [0]
    lock = threading.Lock()

    def admit(instance: Storage) -> None:
        for _ in range(5):
            with instance.usage.admission():
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                instance.ledger.spent_micro("k")  # a store call inside the admitted block
                instance.tasks.create_task(builder(key="k"))
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=admit, args=(instances[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    assert len(instances[0].tasks.list_tasks(limit=100)) == 20


def test_ledger_charges_a_task_once(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    assert a.ledger.charge("t1", "k", 250_000, T0)
    assert not b.ledger.charge("t1", "k", 250_000, T0)
    assert b.ledger.charge("t2", "k", 100_000, T0)
    assert b.ledger.charge("t3", "j", 1, T0)
    assert a.ledger.spent_micro("k") == 350_000 and a.ledger.spent_micro("none") == 0
    b.ledger.reset(api_key="k")
    assert a.ledger.spent_micro("k") == 0 and a.ledger.spent_micro("j") == 1
    a.ledger.reset()
    assert b.ledger.spent_micro("j") == 0


# -- run-time settings, scenario queue ----------------------------------------------------

def test_overrides_are_shared(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    assert b.runtime.overrides() == {}
    a.runtime.set_overrides({"profile": "realistic", "failure_rate": 0.5})
    assert b.runtime.overrides() == {"profile": "realistic", "failure_rate": 0.5}
    b.runtime.set_overrides({"profile": None})
    assert a.runtime.overrides() == {"failure_rate": 0.5}
    a.runtime.reset(api_key="k")
    assert b.runtime.overrides() == {"failure_rate": 0.5}  # a key's reset keeps them
    a.runtime.reset()
    assert b.runtime.overrides() == {}


def test_scenario_queue_is_taken_in_order_once(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    assert a.runtime.take_scenario("k") is None
    first = a.runtime.enqueue("fail", 2, None)
    b.runtime.enqueue("slow", 1, "j")
    assert [q.as_dict()["scenario"] for q in b.runtime.queue()] == ["fail", "slow"]
    assert first.remaining == 2
    assert [b.runtime.take_scenario("j"), a.runtime.take_scenario("k"),
            b.runtime.take_scenario("j"), a.runtime.take_scenario("k")] == \
        ["fail", "fail", "slow", None]
    a.runtime.enqueue("x", 1, "k")
    a.runtime.enqueue("y", 1, "j")
    b.runtime.clear_queue(api_key="k")
    assert [q.scenario for q in a.runtime.queue()] == ["y"]


def test_scenario_uses_are_never_handed_out_twice(open_instance: Opener) -> None:
    instances = [open_instance(), open_instance()]
    instances[0].runtime.enqueue("fail", 15, None)
    instances[0].runtime.enqueue("slow", 5, None)
    taken: list[str | None] = []

    def take(instance: Storage) -> None:
        for _ in range(10):
            taken.append(instance.runtime.take_scenario("k"))

    threads = [threading.Thread(target=take, args=(instances[i % 2],)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(t for t in taken if t) == ["fail"] * 15 + ["slow"] * 5
    assert taken.count(None) == 10


# -- request journal ------------------------------------------------------------------------

def row(i: int, key: str, task: str | None = None) -> tuple[Any, ...]:
    return (T0 + i, "GET", "/api/v1/statusTask/flux-2", f"taskId={task}", 200, key, "fl…y",
            task, "pending", json.dumps([]), json.dumps({"Accept": "*/*"}))


def test_journal_is_read_back_by_key_and_task(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    a.journal.write([row(1, "k1"), row(2, "k2", "t9")])
    b.journal.write([row(3, "k1")])
    entries = a.journal.read()
    assert [e.time_ms for e in entries] == [T0 + 1, T0 + 2, T0 + 3]
    assert entries[0].headers == {"Accept": "*/*"} and entries[1].task_id == "t9"
    assert [e.time_ms for e in b.journal.read(key_ids=["k1"])] == [T0 + 1, T0 + 3]
    assert [e.time_ms for e in b.journal.read(key_ids=[], task_ids=["t9"])] == [T0 + 2]
    assert [e.time_ms for e in b.journal.read(after_seq=entries[1].seq)] == [T0 + 3]
    a.journal.reset(key_ids=["k1"])
    assert [e.key_id for e in b.journal.read()] == ["k2"]
    b.journal.reset()
    assert a.journal.read() == []


def test_journal_keeps_the_newest_entries(one: Storage) -> None:
    for start in range(0, 1200, 100):
        one.journal.write([row(i, "k") for i in range(start, start + 100)])
    times = [e.time_ms - T0 for e in one.journal.read()]
    assert times[-1] == 1199 and len(times) <= 1000 + 50


# -- virtual clock ---------------------------------------------------------------------------

def test_clock_advance_is_seen_by_every_instance(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    assert b.clock.offset_ms() == 0
    a.clock.advance(90)
    assert b.clock.offset_ms() == 90_000
    b.clock.advance(0.5)
    assert a.clock.offset_ms() == 90_500
    assert a.clock.now_ms() - b.clock.now_ms() < 1000
    with pytest.raises(ValueError, match="only moves forward"):
        a.clock.advance(-1)


def test_outbox_reset_forgets_one_keys_deliveries_or_all(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    mine = a.tasks.create_task(builder(key="a", callback=URL))
    theirs = a.tasks.create_task(builder(key="b", callback=URL))
    a.outbox.register_new()
    b.outbox.reset(api_key="a")
    assert a.outbox.journal(mine.task_id) == []
    assert len(a.outbox.journal(theirs.task_id)) == 1
    b.outbox.reset()
    assert a.outbox.journal(theirs.task_id) == [] and a.outbox.idle()


def test_clock_reset_returns_every_instance_to_real_time(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    a.clock.advance(30)
    b.clock.reset()
    assert a.clock.offset_ms() == 0


def test_metrics_snapshots_are_read_by_the_other_processes(open_instance: Opener) -> None:
    a, b = open_instance(), open_instance()
    a.metrics.write("p1", {"requests": [["/x", "GET", 200, 3]], "latency": {}})
    b.metrics.write("p2", {"requests": [["/x", "GET", 200, 4]], "latency": {}})
    assert b.metrics.read(skip="p2") == [{"requests": [["/x", "GET", 200, 3]], "latency": {}}]
    assert a.metrics.read_others() == []  # one server here: no other server's counts
