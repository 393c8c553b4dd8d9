"""Stores kept in one process's memory: for the in-process app and the pytest fixture."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mock_server.storage import Storage


def open_memory_storage(*, journal_max_entries: int = 100_000) -> Storage:
    """Return every store in this process's memory."""
    from mock_server.storage import Storage
    from mock_server.storage.clock import SharedOffsetClock
    from mock_server.storage.memory.journal import MemorySink
    from mock_server.storage.memory.ledger import MemoryLedger
    from mock_server.storage.memory.metrics import MemoryMetricsSink
    from mock_server.storage.memory.outbox import MemoryOutbox
    from mock_server.storage.memory.runtime import MemoryRuntime
    from mock_server.storage.memory.tasks import MemoryStore
    from mock_server.storage.memory.usage import MemoryUsage

    tasks = MemoryStore()
    return Storage(label="memory", tasks=tasks, outbox=MemoryOutbox(tasks),
                   usage=MemoryUsage(tasks), ledger=MemoryLedger(), runtime=MemoryRuntime(),
                   journal=MemorySink(journal_max_entries), metrics=MemoryMetricsSink(),
                   clock=SharedOffsetClock(None), shared=False)
