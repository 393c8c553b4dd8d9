"""Schema migrations: numbered SQL files applied in order, once, under an advisory lock.

Plain files rather than a migration library: the schema is small, the mock owns
it alone, and a file per version is readable by the platform team that runs
the database. Every instance migrates on start; the first takes the lock and
applies what is missing in one transaction, the others wait for it and find
nothing left to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg

from mock_server.storage import StorageUnavailable

from .db import CONNECT_TIMEOUT_S, redact

# Any constant shared by every instance; "flux2mig" in ASCII.
MIGRATION_LOCK = 0x666C7578326D6967
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    """One versioned SQL file."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every migration shipped with the package, by version."""
    found = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1, 2, ... without gaps: {versions}")
    return found


class StoreError(StorageUnavailable):
    """The store cannot be used: unreachable, too old, too new, or lacking rights."""


def migrate(dsn: str) -> list[int]:
    """Bring the database's schema up to date; return the versions applied now."""
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            return _apply(conn)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StoreError(f"cannot use store {redact(dsn)}: {first}") from None


def _apply(conn: psycopg.Connection[Any]) -> list[int]:
    applied: list[int] = []
    with conn.transaction():
        # Held until COMMIT: instances starting together migrate one after another.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
        if not (exists and exists[0]):  # asked first: a role without CREATE may serve
            conn.execute("CREATE TABLE schema_version ("
                         "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                         "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        rows = conn.execute("SELECT version FROM schema_version").fetchall()
        done = {int(row[0]) for row in rows}
        known = migrations()
        newest = max((m.version for m in known), default=0)
        if done and max(done) > newest:
            raise StoreError(f"the database's schema is version {max(done)}, newer than this "
                             f"flux2-mock knows ({newest}): upgrade flux2-mock")
        for migration in known:
            if migration.version not in done:
                conn.execute(migration.sql.encode())
                conn.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                             (migration.version, migration.name))
                applied.append(migration.version)
    return applied


def schema_version(dsn: str) -> int:
    """Return the newest version applied to the database (0: none)."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
        top = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        return int(top[0]) if top else 0
