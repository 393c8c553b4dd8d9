"""Task pages: newest-first windows and oldest-first cursors agree with a plain sort."""

from __future__ import annotations

from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.control.tasks import TaskFilter, find_tasks, last_seq
from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.tasks import TaskRecord
from mock_server.storage.protocols import TaskStore
from tests.support.examples import scaled

NOW = 10_000


class ListStore:
    """Just enough of a TaskStore: records with arbitrary (gapped) sequence numbers."""

    def __init__(self, records: list[TaskRecord]) -> None:
        self.records = sorted(records, key=lambda r: r.seq)

    def list_tasks(self, *, api_key: str | None = None, limit: int = 100,
                   after_seq: int = 0) -> list[TaskRecord]:
        rows = [r for r in self.records
                if r.seq > after_seq and (api_key is None or r.api_key == api_key)]
        return rows[:limit]


def record(seq: int, key: str, ends_at: int) -> TaskRecord:
    plan = TaskPlan(0, 0, ends_at, "success")
    return TaskRecord(f"task_{seq}", seq, key, {"input": {"prompt": "p"}}, plan, "http://x/",
                      1, 1)


def as_store(rows: list[tuple[int, str, int]]) -> TaskStore:
    # The functions under test call list_tasks only.
    return cast(TaskStore, ListStore([record(*row) for row in rows]))


stores = st.lists(st.tuples(st.integers(1, 5000), st.sampled_from(["a", "b"]),
                            st.sampled_from([0, 2 * NOW])),
                  unique_by=lambda t: t[0], max_size=60)


@settings(max_examples=scaled(150), deadline=None)
@given(rows=stores, key=st.sampled_from([None, "a", "b"]))
def test_last_seq_finds_the_newest(rows: list[tuple[int, str, int]], key: str | None) -> None:
    store = as_store(rows)
    expected = max((s for s, k, _ in rows if key is None or k == key), default=0)
    assert last_seq(store, key) == expected


@settings(max_examples=scaled(150), deadline=None)
@given(rows=stores, key=st.sampled_from([None, "a"]), state=st.sampled_from([None, "success"]),
       limit=st.integers(1, 7), newest_first=st.booleans())
def test_pages_walk_every_match_once_in_order(rows: list[tuple[int, str, int]], key: str | None,
                                              state: str | None, limit: int,
                                              newest_first: bool) -> None:
    store = as_store(rows)
    where = TaskFilter(state, key)
    expected = sorted(seq for seq, owner, ends_at in rows if (key is None or owner == key)
                      and (state is None or ends_at == 0))
    if newest_first:
        expected.reverse()
    seen: list[int] = []
    cursor = 0
    for _ in range(len(rows) + 2):
        page, cursor_next = find_tasks(store, where, NOW, after_seq=cursor, limit=limit,
                                       newest_first=newest_first)
        assert len(page) <= limit
        seen += [r.seq for r in page]
        if cursor_next is None:
            break
        cursor = cursor_next
    assert seen == expected
