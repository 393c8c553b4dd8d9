"""The store contract runs on every medium: SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer, pg_dsn, postgres_server

from .media import Instance, postgres_instance, sqlite_instance

__all__ = ["pg_dsn", "postgres_server"]

Opener = Callable[[], Instance]


@pytest.fixture(params=["sqlite", "postgres"])
def open_instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Open server instances on one fresh store of the parametrized medium."""
    opened: list[Instance] = []
    if request.param == "sqlite":
        path = tmp_path / "tasks.sqlite3"

        def opener() -> Instance:
            opened.append(sqlite_instance(path))
            return opened[-1]
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        dsn = server.create_database()

        def opener() -> Instance:
            opened.append(postgres_instance(dsn))
            return opened[-1]
    yield opener
    for instance in opened:
        instance.close()


@pytest.fixture
def one(open_instance: Opener) -> Instance:
    return open_instance()
