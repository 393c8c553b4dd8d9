"""Serve the mock with gunicorn: several worker processes sharing one SQLite store."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import replace
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from mock_server import __version__
from mock_server.serving.log_masking import gunicorn_logger_class
from mock_server.settings import Settings
from mock_server.storage.sqlite.tasks import SQLiteStore


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def base_url(host: str, port: int) -> str:
    return f"http://{bind_address(host, port)}"


class GracefulArbiter(Arbiter):
    """gunicorn's master, stopping gracefully on SIGINT (Ctrl-C) as it does on SIGTERM."""

    def handle_int(self) -> None:
        self.handle_term()


class MockServer(BaseApplication):
    """A gunicorn application whose workers each build the app from the same settings."""

    def __init__(self, settings: Settings, store_label: str | None = None) -> None:
        self.settings = settings
        self.store_label = store_label or settings.store_path
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options: dict[str, Any] = {
            "bind": bind_address(s.host, s.port),
            "workers": s.workers,
            "worker_class": "mock_server.serving.http_worker.JsonErrorWorker",
            "accesslog": "-" if s.access_log else None,
            "errorlog": "-",
            "loglevel": "info" if s.access_log else "warning",
            "graceful_timeout": 5,
            "timeout": 30,
            "proc_name": "flux2-mock",
            "when_ready": self._when_ready,
            # Access and error lines never show a key in full (docs/control-plane.md).
            "logger_class": gunicorn_logger_class([*s.api_keys, s.admin_token or ""]),
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def _when_ready(self, arbiter: Any) -> None:
        _host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
        s = self.settings
        print(f"flux2-mock {__version__} serving {base_url(s.host, port)}\n"
              f"  API key: {', '.join(s.api_keys)}\n"
              f"  profile: {s.profile}  store: {self.store_label}  workers: {s.workers}",
              flush=True)

    def run(self) -> None:
        try:
            GracefulArbiter(self).run()
        except RuntimeError as exc:  # gunicorn's own start-up errors, as BaseApplication does
            print(f"\nError: {exc}\n", file=sys.stderr, flush=True)
            sys.exit(1)

    def load(self) -> Any:
        from mock_server.app import create_app

        return create_app(self.settings)


def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM; a `memory` store lives in a temporary file removed after."""
    scratch = label = None
    master_pid = os.getpid()
    if settings.store_path == "memory":
        # Worker processes cannot share a dict: a throwaway SQLite file stands in for memory.
        scratch = tempfile.mkdtemp(prefix="flux2-mock-")
        settings = replace(settings, store=f"{scratch}/tasks.sqlite3")
        label = f"memory (throwaway file {settings.store_path})"
    try:
        SQLiteStore(settings.store_path).close()  # create the schema once, before workers fork
    except (OSError, sqlite3.Error) as exc:
        raise SystemExit(f"flux2-mock: cannot use store {settings.store_path}: {exc}") from None
    try:
        MockServer(settings, label).run()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        # Workers are forked inside run() and leave through this frame too: only the master
        # may remove the throwaway store, or a worker's exit pulls it from under the others.
        if scratch and os.getpid() == master_pid:
            shutil.rmtree(scratch, ignore_errors=True)
    sys.stdout.flush()
