"""docs/deploying.md stays true: its commands run (addresses swapped for loopback ones), its
nginx block passes `nginx -t`, its compose file and unit are well-formed."""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

from mock_server.cli import main
from tests.multi.cluster import PatientServe
from tests.support.nginx import find_nginx
from tests.support.postgres import free_port

DOC = (Path(__file__).resolve().parents[2] / "docs" / "deploying.md").read_text("utf-8")
FENCES = re.findall(r"```(\w*)\n(.*?)```", DOC, re.DOTALL)
DOC_DSN = "postgresql://flux2mock@db.internal:5432/flux2mock"


def fence(kind: str, containing: str) -> str:
    [found] = [body for lang, body in FENCES if lang == kind and containing in body]
    return str(found)


def command(block: str) -> list[str]:
    line = block.replace("\\\n", " ").strip()
    return shlex.split(line.removeprefix("$ "), posix=True)


@pytest.mark.e2e
def test_the_serve_example_serves_from_postgresql(pg_dsn: str) -> None:
    args = command(fence("console", "flux2-mock serve"))[2:]
    assert args[:2] == ["--host", "0.0.0.0"] and DOC_DSN in args
    # Loopback only under tests: the doc's host and database are swapped for local ones.
    args = ["--host", "127.0.0.1", *[pg_dsn if a == DOC_DSN else a for a in args[2:]]]
    args = [a if a != "$ADMIN_TOKEN" else "doc-token" for a in args]
    server = PatientServe(*args).start()
    try:
        health = requests.get(server.url("/_mock/health"), timeout=10)
        assert health.json()["store"] == "postgresql"
    finally:
        server.kill()


def test_the_migrate_example_prints_what_the_doc_shows(pg_dsn: str) -> None:
    block = fence("console", "flux2-mock migrate")
    line, shown = block.strip().splitlines()
    args = [pg_dsn if a == DOC_DSN else a for a in command(line)[1:]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and result.output.strip() == shown.strip()


def test_the_refusal_line_has_the_shape_serve_prints() -> None:
    [line] = [body for lang, body in FENCES if lang == "" and "cannot use store" in body]
    assert line.startswith("flux2-mock: cannot use store postgresql://flux2mock:***@")


def test_the_nginx_block_passes_nginx_t() -> None:
    block = fence("nginx", "upstream flux2_mock")
    block = block.replace("server mock:8000;", "server 127.0.0.1:9;")
    block = block.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    with tempfile.TemporaryDirectory(prefix="flux2-nginx-doc-") as prefix:
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
                        f"events {{}}\nhttp {{\naccess_log off;\n{block}\n}}\n")
        checked = subprocess.run([find_nginx(), "-t", "-p", prefix, "-c", str(conf),
                                  "-e", f"{prefix}/error.log"], capture_output=True, text=True,
                                 timeout=30)
    assert checked.returncode == 0, checked.stderr


def test_the_compose_file_runs_two_mocks_on_postgres_behind_nginx() -> None:
    compose = yaml.safe_load(fence("yaml", "services:"))
    services = compose["services"]
    assert set(services) == {"postgres", "mock", "balancer"}
    assert services["mock"]["deploy"]["replicas"] == 2
    assert "--store postgresql://" in services["mock"]["command"]
    assert services["balancer"]["image"].startswith("nginx")


def test_the_systemd_unit_migrates_then_serves_from_the_shared_store() -> None:
    unit = fence("ini", "[Service]")
    lines = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line
                 and not line.startswith("Environment"))
    env = dict(line.split("=", 1)[1].split("=", 1) for line in unit.splitlines()
               if line.startswith("Environment="))
    assert env["FLUX2_MOCK_STORE"].startswith("postgresql://")
    assert lines["ExecStartPre"].endswith("flux2-mock migrate")
    assert " serve " in lines["ExecStart"]
