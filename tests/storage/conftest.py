"""A real PostgreSQL for the store tests (tests/support/postgres.py)."""

from tests.support.postgres import pg_dsn, postgres_server

__all__ = ["pg_dsn", "postgres_server"]
