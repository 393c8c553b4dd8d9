"""Serve the mock with gunicorn: threaded worker processes sharing one SQLite store."""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import replace
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from mock_server.serving.banner import StoreContents, banner
from mock_server.serving.log_masking import gunicorn_logger_class
from mock_server.serving.worker import RESERVE, SLEEPERS
from mock_server.settings import Settings
from mock_server.storage.sqlite.tasks import SQLiteStore

# The packages whose modules every worker's app imports (some only inside create_app).
PREIMPORTED = ("mock_server.api", "mock_server.callbacks", "mock_server.conformance",
               "mock_server.control", "mock_server.journal", "mock_server.paid",
               "mock_server.serving")


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

    def __init__(self, settings: Settings, store_label: str | None = None,
                 contents: StoreContents | None = None) -> None:
        self.settings = settings
        self.store_label = store_label or settings.store_path
        self.contents = contents
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options: dict[str, Any] = {
            "bind": bind_address(s.host, s.port),
            "workers": s.workers,
            "worker_class": "mock_server.serving.worker.ServingWorker",
            # Threads a worker may start: latency sleepers and a reserve for the rest
            # (mock_server/serving/worker.py); a thread starts only when needed.
            "threads": SLEEPERS + RESERVE,
            "keepalive": 5,
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
        print(banner(self.settings, port, self.store_label, self.contents), flush=True)

    def run(self) -> None:
        try:
            GracefulArbiter(self).run()
        except RuntimeError as exc:  # gunicorn's own start-up errors, as BaseApplication does
            print(f"\nError: {exc}\n", file=sys.stderr, flush=True)
            sys.exit(1)

    def load(self) -> Any:
        from mock_server.app import create_app
        from mock_server.serving import hot_routes, retention

        app = create_app(self.settings)
        hot_routes.install(app)
        retention.start(app.extensions["flux2_mock"])
        return app


def serve(settings: Settings, contents: StoreContents | None = None) -> None:
    """Run until SIGINT or SIGTERM; a `memory` store lives in a temporary file removed after.

    `contents` is what the store held at start (serving/preflight.py), for the banner.
    """
    scratch = label = None
    master_pid = os.getpid()
    if settings.store_path == "memory":
        # Worker processes cannot share a dict: a throwaway SQLite file stands in for memory.
        scratch = tempfile.mkdtemp(prefix="flux2-mock-")
        settings = replace(settings, store=f"{scratch}/tasks.sqlite3")
        label = f"memory (throwaway file {settings.store_path})"
    # Import the app's modules (no app, thread or connection yet) before the workers fork:
    # each worker then only builds its app, and answers a second sooner after the banner.
    importlib.import_module("mock_server.app")
    for name in PREIMPORTED:
        package = importlib.import_module(name)
        for module in pkgutil.iter_modules(package.__path__, f"{name}."):
            importlib.import_module(module.name)

    if settings.store_path.startswith(("postgresql://", "postgres://")):
        # Migrate once, before workers fork; the master keeps no connection across the fork.
        # (Imported here: a SQLite server never loads the PostgreSQL driver.)
        from mock_server.storage.postgres import StoreError, migrate, redact

        try:
            migrate(settings.store_path)
        except StoreError as exc:
            print(f"flux2-mock: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None
        label = redact(settings.store_path)
    else:
        try:
            SQLiteStore(settings.store_path).close()  # the schema once, before workers fork
        except (OSError, sqlite3.Error) as exc:
            raise SystemExit(f"flux2-mock: cannot use store {settings.store_path}: {exc}") \
                from None
    try:
        MockServer(settings, label, contents).run()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        # Workers are forked inside run() and leave through this frame too: only the master
        # may remove the throwaway store, or a worker's exit pulls it from under the others.
        if scratch and os.getpid() == master_pid:
            shutil.rmtree(scratch, ignore_errors=True)
    sys.stdout.flush()
