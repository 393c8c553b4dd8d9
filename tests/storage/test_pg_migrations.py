"""Versioned migrations: applied once, in order, safe when several instances start at once."""

from __future__ import annotations

import threading

import psycopg
import pytest

from mock_server.storage.postgres.migrate import StoreError, migrate, migrations, schema_version
from tests.support.postgres import PostgresServer


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert versions, "at least the initial schema ships"


def test_migrate_applies_every_version_once(pg_dsn: str) -> None:
    newest = migrations()[-1].version
    assert schema_version(pg_dsn) == 0
    assert migrate(pg_dsn) == list(range(1, newest + 1))
    assert migrate(pg_dsn) == []  # a second start finds nothing to do
    assert schema_version(pg_dsn) == newest
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, newest + 1))
    assert rows[0][1] == "0001_initial.sql"


def test_instances_starting_at_once_migrate_exactly_once(pg_dsn: str) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        try:
            results.append(migrate(pg_dsn))
        except BaseException as exc:  # collected: a thread's error must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    applied = [r for r in results if r]
    assert len(applied) == 1, results  # one instance migrated, five found it done
    assert applied[0] == [m.version for m in migrations()]


def test_a_newer_schema_is_refused(pg_dsn: str) -> None:
    migrate(pg_dsn)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (999, 'future.sql')")
    with pytest.raises(StoreError, match="newer than this flux2-mock knows"):
        migrate(pg_dsn)


def test_unreachable_store_is_one_line_naming_it() -> None:
    from tests.support.postgres import free_port

    dsn = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(StoreError) as caught:
        migrate(dsn)
    message = str(caught.value)
    assert message.startswith("cannot use store postgresql://nobody:***@127.0.0.1:")
    assert "secret" not in message and "\n" not in message


def test_a_role_without_rights_is_refused_clearly(postgres_server: PostgresServer,
                                                  pg_dsn: str) -> None:
    database = pg_dsn.rsplit("/", 1)[1]
    postgres_server.execute("postgres", "DROP ROLE IF EXISTS reader")
    postgres_server.execute("postgres", "CREATE ROLE reader LOGIN")
    postgres_server.execute(database, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    dsn = pg_dsn.replace("flux2@", "reader@")
    with pytest.raises(StoreError, match=r"cannot use store .*permission denied"):
        migrate(dsn)


def test_a_role_with_data_rights_only_serves_a_current_schema(
        postgres_server: PostgresServer, pg_dsn: str) -> None:
    migrate(pg_dsn)
    database = pg_dsn.rsplit("/", 1)[1]
    postgres_server.execute("postgres", "DROP ROLE IF EXISTS app_rw")
    postgres_server.execute("postgres", "CREATE ROLE app_rw LOGIN")
    postgres_server.execute(database, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    postgres_server.execute(database, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES "
                                      "IN SCHEMA public TO app_rw")
    postgres_server.execute(database, "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app_rw")
    assert migrate(pg_dsn.replace("flux2@", "app_rw@")) == []  # nothing to do, no CREATE needed
