"""Real `flux2-mock serve` processes for the control plane's tests."""

from __future__ import annotations

import subprocess
import time
from contextlib import AbstractContextManager
from pathlib import Path

from tests.support.serve import ServeProcess, serving


def live_server(*args: str, store: Path, env: dict[str, str] | None = None
                ) -> AbstractContextManager[ServeProcess]:
    """Serve for the block on the given store; the process group is killed after."""
    return serving(*args, store=store, env=env)


def worker_count(server: ServeProcess, wanted: int, timeout: float = 15.0) -> int:
    """Return how many worker processes the server has, waiting up to `timeout` for `wanted`."""
    assert server.proc is not None
    deadline = time.monotonic() + timeout
    found = 0
    while time.monotonic() < deadline:
        children = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True,
                                  text=True, check=False).stdout.split()
        found = len(children)
        if found >= wanted:
            break
        time.sleep(0.05)
    return found
