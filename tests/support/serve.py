"""Run `flux2-mock serve` as a real process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import requests

from flux2_spec.validation import input_defaults


def mock_env() -> dict[str, str]:
    """This environment without the developer's own FLUX2_MOCK_* settings, loopback callbacks."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FLUX2_MOCK_")}
    return {**clean, "FLUX2_MOCK_CALLBACK_ALLOWED_HOSTS": "loopback"}


READY = re.compile(r"serving (http://\S+)")
DEFAULT_KEY = "flux2-mock-key"


class ServeProcess:
    """One `python -m mock_server serve` process; `base_url` is known once it is ready."""

    command = "serve"  # or another command that serves (`proxy`)

    def __init__(self, *args: str, env: dict[str, str] | None = None,
                 store: str | Path | None = None) -> None:
        self.args = list(args)
        if store is not None:
            self.args += ["--store", str(store)]
        self.env = {**mock_env(), **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.output: list[str] = []

    def start(self, timeout: float = 30.0) -> ServeProcess:
        cmd = [sys.executable, "-m", "mock_server", self.command, "--port", "0", *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=self.env, start_new_session=True)
        found = threading.Event()

        def pump() -> None:
            assert self.proc and self.proc.stdout
            try:
                for line in self.proc.stdout:
                    self.output.append(line)
                    match = READY.search(line)
                    if match and not found.is_set():
                        self.base_url = match.group(1)
                        found.set()
            except (OSError, ValueError):
                pass  # the pipe was closed by stop()/kill() while a read was under way

        threading.Thread(target=pump, daemon=True).start()
        if not found.wait(timeout):
            self.kill()
            raise RuntimeError("flux2-mock serve did not start:\n" + "".join(self.output))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                # A loaded machine may take seconds over a worker's first answer.
                if requests.get(self.url("/_mock/health"), timeout=10).ok:
                    return self
            except requests.RequestException:
                pass  # a loaded machine may be slow to answer the first health check
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("flux2-mock serve never became healthy:\n" + "".join(self.output))

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig` to the server and return its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self._close_pipe()

    def kill(self) -> None:
        """SIGKILL the whole process group: the master and every worker, with no clean-up."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._close_pipe()

    def _close_pipe(self) -> None:
        # An open pipe left to the garbage collector is a ResourceWarning, an error here.
        if self.proc is not None and self.proc.stdout is not None and self.proc.poll() is not None:
            with suppress(OSError, ValueError):
                self.proc.stdout.close()


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None,
            store: str | Path | None = None) -> Iterator[ServeProcess]:
    """Start a server for the block and SIGKILL it after, whatever happens (a failed start too)."""
    server = ServeProcess(*args, env=env, store=store)
    try:
        yield server.start()
    finally:
        server.kill()


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


def auth(key: str = DEFAULT_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def submit(base_url: str, body: dict[str, object], *, key: str = DEFAULT_KEY,
           scenario: str | None = None, timeout: float = 10.0) -> requests.Response:
    headers = auth(key)
    if scenario:
        headers["X-Mock-Scenario"] = scenario
    return requests.post(f"{base_url}/api/v1/generateTask/flux-2", json=body, headers=headers,
                         timeout=timeout)


def status(base_url: str, task_id: str, *, key: str = DEFAULT_KEY,
           timeout: float = 10.0) -> requests.Response:
    return requests.get(f"{base_url}/api/v1/statusTask/flux-2", params={"taskId": task_id},
                        headers=auth(key), timeout=timeout)


def wait_terminal(base_url: str, task_id: str, *, key: str = DEFAULT_KEY,
                  timeout: float = 30.0, every: float = 0.05) -> dict[str, object]:
    """Poll until the task is success or failed; return its data."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data: dict[str, object] = status(base_url, task_id, key=key).json()["data"]
        if data["state"] in ("success", "failed"):
            return data
        time.sleep(every)
    raise AssertionError(f"task {task_id} did not finish within {timeout} s")


def text_request(prompt: str = "A beautiful sunset over the mountains",
                 **input_fields: object) -> dict[str, object]:
    """Return a valid async request: the schema's defaults, `prompt` and `input_fields`."""
    return {"request_type": "async", "input": {**input_defaults(), "prompt": prompt,
                                               **input_fields}}


__all__: Sequence[str] = ["DEFAULT_KEY", "ServeProcess", "auth", "serving", "status", "submit",
                          "text_request", "wait_terminal", "worker_count"]
