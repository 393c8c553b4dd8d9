"""A `flux2-mock serve` process for one block, cleaned up after (output pipe included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.serve import ServeProcess


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None,
            store: Path | None = None) -> Iterator[ServeProcess]:
    """Start the server, yield it, then kill it and close its output pipe (no ResourceWarning)."""
    server = ServeProcess(*args, env=env, store=store).start()
    try:
        yield server
    finally:
        server.kill()
        if server.proc is not None and server.proc.stdout is not None:
            server.proc.stdout.close()
