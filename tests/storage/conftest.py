"""The store contract runs on every medium: SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mock_server.storage import Storage
from tests.support.postgres import PostgresServer, pg_dsn, postgres_server

from .media import postgres_instance, sqlite_instance

__all__ = ["pg_dsn", "postgres_server"]

Opener = Callable[[], Storage]


@pytest.fixture(params=["sqlite", "postgres"])
def open_instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Open server instances on one fresh store of the parametrized medium."""
    opened: list[Storage] = []
    if request.param == "sqlite":
        path = tmp_path / "tasks.sqlite3"

        def opener() -> Storage:
            opened.append(sqlite_instance(str(path)))
            return opened[-1]
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        dsn = server.create_database()

        def opener() -> Storage:
            opened.append(postgres_instance(dsn))
            return opened[-1]
    yield opener
    for instance in opened:
        instance.close()


@pytest.fixture
def one(open_instance: Opener) -> Storage:
    return open_instance()
