"""The store contract's media: each opens 'instances', every one a full Storage.

Two instances on one medium are what two servers (or two worker processes) on
one store see: the contract holds for each, and each sees the other's changes.
Both come from `open_storage`, as a server's do.
"""

from __future__ import annotations

from mock_server.storage import Storage, open_storage
from mock_server.storage.postgres import migrate

JOURNAL_MAX = 50


def sqlite_instance(path: str) -> Storage:
    return open_storage(path, journal_max_entries=JOURNAL_MAX)


def postgres_instance(dsn: str) -> Storage:
    migrate(dsn)  # every instance migrates on start; the second finds nothing to do
    return open_storage(dsn, journal_max_entries=JOURNAL_MAX)
