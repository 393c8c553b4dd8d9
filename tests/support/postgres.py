"""A throwaway PostgreSQL for tests: Debian's binaries, a temporary directory, a free loopback port.

initdb and postgres refuse to run as root, and CI runs as root: then both run as the
`postgres` system user (runuser) in a directory that user owns. Not root, they run as
the current user. `.ci/run` installs the `postgresql` package where it is missing.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

SUPERUSER = "flux2"
BIN_ROOT = Path("/usr/lib/postgresql")


def find_bindir() -> Path:
    """Return the newest installed /usr/lib/postgresql/<v>/bin that holds initdb."""
    versions = sorted((p for p in BIN_ROOT.glob("*/bin") if (p / "initdb").exists()),
                      key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql "
                           "(.ci/run does this)")
    return versions[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One postgres process over its own data directory; start, stop, restart."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="flux2-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        if self.as_root:
            os.chmod(self.root, 0o700)
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(["initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                   "-E", "UTF8", "--no-sync", "--no-instructions"], check=True)

    def _command(self, tool: str, args: list[str]) -> list[str]:
        cmd = [str(self.bindir / tool), *args]
        return ["runuser", "-u", "postgres", "--", *cmd] if self.as_root else cmd

    def _run(self, args: list[str], *, check: bool) -> None:
        subprocess.run(self._command(args[0], args[1:]), check=check, cwd=self.root,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self, timeout: float = 30.0) -> PostgresServer:
        """Start the server (again) on the same port and wait until it takes connections."""
        log = open(self.root / "postgres.log", "ab")  # noqa: SIM115 - the child keeps it
        try:
            self.proc = subprocess.Popen(
                self._command("postgres", [
                    "-D", str(self.data), "-p", str(self.port),
                    "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                    "-c", "max_connections=300", "-c", "shared_buffers=32MB",
                    # A test database need not survive a power cut: no fsync.
                    "-c", "fsync=off", "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off"]),
                cwd=self.root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited:\n" + self.log_tail())
            try:
                psycopg.connect(self.dsn("postgres"), connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("postgres did not start:\n" + self.log_tail())

    def _postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def postmaster_pid(self) -> int | None:
        """The running server's pid (its backends are its children)."""
        return self._postmaster_pid()

    def stop(self, *, mode: int = signal.SIGINT, timeout: float = 30.0) -> None:
        """Stop the server: SIGINT is PostgreSQL's fast shutdown (clients are cut off)."""
        if self.proc is None:
            return
        pid = self._postmaster_pid()
        # Signal postgres itself, not runuser in front of it.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid if pid is not None else self.proc.pid, mode)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None
        # The postmaster may outlive runuser by a moment.
        deadline = time.monotonic() + timeout
        while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its DSN."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.dsn(name)

    def execute(self, database: str, sql: str) -> None:
        """Run one statement as the superuser (creating roles, for instance)."""
        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            conn.execute(sql.encode())

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            text = (self.root / "postgres.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""


@contextlib.contextmanager
def postgres() -> Iterator[PostgresServer]:
    """A started server for the block, stopped and removed after."""
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL for the session."""
    with postgres() as server:
        yield server


@pytest.fixture
def pg_dsn(postgres_server: PostgresServer) -> str:
    """A fresh, empty database for one test."""
    return postgres_server.create_database()
