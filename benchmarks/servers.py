"""Start a server process on a free loopback port, learn its URL from its banner, stop it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BANNER = re.compile(r"serving (http://\S+)")


@dataclass(frozen=True)
class Served:
    """A running server: where it answers, and its process id (its workers are children)."""

    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server and its workers have used so far."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        pids = [self.pid, *(int(p) for p in children.read_text().split())]
        ticks = 0
        for pid in pids:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(cmd: Sequence[str], *, health_path: str, timeout: float = 60.0) -> Iterator[Served]:
    """Run `cmd` (which must print 'serving http://...') for the block."""
    with tempfile.TemporaryDirectory(prefix="flux2-bench-") as scratch:
        log = Path(scratch) / "server.log"
        with log.open("w") as out:
            proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        try:
            yield Served(_wait_ready(proc, log, health_path, timeout), proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@contextmanager
def running(cmd: Sequence[str], *, health_path: str, timeout: float = 60.0) -> Iterator[str]:
    """Run `cmd` (which must print 'serving http://...') for the block; yield its base URL."""
    with serving(cmd, health_path=health_path, timeout=timeout) as served:
        yield served.base_url


def _wait_ready(proc: subprocess.Popen[bytes], log: Path, health_path: str,
                timeout: float) -> str:
    deadline = time.monotonic() + timeout
    base_url = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        found = BANNER.search(log.read_text())
        if found:
            base_url = found.group(1)
            try:
                with urllib.request.urlopen(base_url + health_path, timeout=2) as response:
                    if response.status == 200:
                        return base_url
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"server not ready within {timeout} s:\n{log.read_text()}")
