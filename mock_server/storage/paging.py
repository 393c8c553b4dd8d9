"""Reading every task of a store, a page at a time: the one loop every part uses."""

from __future__ import annotations

from collections.abc import Iterator

from mock_server.domain.tasks import TaskRecord
from mock_server.storage.protocols import TaskStore

PAGE_SIZE = 500


def iter_tasks(store: TaskStore, *, api_key: str | None = None, after_seq: int = 0,
               page_size: int = PAGE_SIZE) -> Iterator[TaskRecord]:
    """Yield every task (of `api_key`, or of every key) past `after_seq`, oldest first."""
    cursor = after_seq
    while True:
        rows = store.list_tasks(api_key=api_key, limit=page_size, after_seq=cursor)
        yield from rows
        if len(rows) < page_size:
            return
        cursor = rows[-1].seq
