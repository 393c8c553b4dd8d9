"""`--store postgresql://...` from the flag, the environment or a config file; clear refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests
from click.testing import CliRunner

from mock_server.cli import main
from tests.multi.cluster import PatientServe
from tests.support.postgres import PostgresServer, free_port
from tests.support.serve import submit, text_request

pytestmark = pytest.mark.e2e


def serve_fails(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_server", "serve", "--port", "0", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_an_unreachable_store_exits_2_with_one_line_naming_it() -> None:
    dsn = f"postgresql://mock:hunter2@127.0.0.1:{free_port()}/flux"
    done = serve_fails("--store", dsn)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("flux2-mock: cannot use store postgresql://mock:***@127.0.0.1:")
    assert "hunter2" not in done.stderr + done.stdout
    assert "serving" not in done.stdout  # nothing was bound


def test_a_role_without_rights_exits_2(postgres_server: PostgresServer, pg_dsn: str) -> None:
    postgres_server.execute("postgres", "DROP ROLE IF EXISTS visitor")
    postgres_server.execute("postgres", "CREATE ROLE visitor LOGIN")
    done = serve_fails("--store", pg_dsn.replace("flux2@", "visitor@"))
    assert done.returncode == 2
    assert "permission denied" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("how", ["env", "config"])
def test_the_store_comes_from_the_environment_or_a_config_file(
        how: str, pg_dsn: str, tmp_path: Path) -> None:
    if how == "env":
        server = PatientServe("--workers", "1", env={"FLUX2_MOCK_STORE": pg_dsn})
    else:
        config = tmp_path / "mock.toml"
        config.write_text(f'store = "{pg_dsn}"\nworkers = 1\n')
        server = PatientServe("--config", str(config))
    server.start()
    try:
        health = requests.get(server.url("/_mock/health"), timeout=10).json()
        assert health["store"] == "postgresql"
        task_id = submit(server.base_url, text_request()).json()["data"]["taskId"]
        assert task_id
        banner = "".join(server.output)
        assert "store: postgresql://flux2@127.0.0.1:" in banner
    finally:
        server.kill()


    with psycopg.connect(pg_dsn) as conn:  # the task is in the database, not in a file
        row = conn.execute("SELECT task_id FROM tasks").fetchone()
    assert row is not None and row[0] == task_id


def test_migrate_command_applies_then_finds_nothing(pg_dsn: str) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["migrate", "--store", pg_dsn])
    assert first.exit_code == 0 and first.output.strip() == "applied schema versions 1"
    again = runner.invoke(main, ["migrate", "--store", pg_dsn])
    assert again.exit_code == 0 and again.output.strip() == "schema up to date"
    refused = runner.invoke(main, ["migrate", "--store", "/tmp/x.sqlite3"])
    assert refused.exit_code == 2 and "must be a postgresql:// URL" in refused.output
