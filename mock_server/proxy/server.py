"""Run the proxy (or a replaying mock) under gunicorn, as `flux2-mock serve` runs the mock."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import replace
from typing import Any

from mock_server import __version__
from mock_server.proxy.options import ProxyOptions
from mock_server.serving.server import MockServer, base_url
from mock_server.settings import Settings
from mock_server.storage.sqlite.tasks import SQLiteStore


class ProxyServer(MockServer):
    """gunicorn workers that each build the proxy app from the same settings and options."""

    def __init__(self, settings: Settings, options: ProxyOptions,
                 store_label: str | None = None) -> None:
        self.options = options
        super().__init__(settings, store_label)

    def _when_ready(self, arbiter: Any) -> None:
        _host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
        s, o = self.settings, self.options
        print(f"flux2-mock {__version__} proxy serving {base_url(s.host, port)}\n"
              f"  upstream: {o.upstream}  public URL: {o.public_url or '(callbacks untouched)'}\n"
              f"  max spend: {'none' if o.max_spend_usd is None else f'${o.max_spend_usd:.2f}'}"
              f"  recording: {o.record_dir or 'off'}\n"
              f"  profile: {s.profile}  store: {self.store_label}  workers: {s.workers}",
              flush=True)

    def load(self) -> Any:
        from mock_server.proxy.app import create_proxy_app

        return create_proxy_app(self.options, self.settings)


class ReplayServer(MockServer):
    """The mock, answering recorded tasks from a recording folder first."""

    def __init__(self, settings: Settings, folder: str, fallback: str | None,
                 store_label: str | None = None) -> None:
        self.folder, self.fallback = folder, fallback
        super().__init__(settings, store_label)

    def _when_ready(self, arbiter: Any) -> None:
        super()._when_ready(arbiter)
        print(f"  replaying: {self.folder}"
              f"{'  (unmatched requests planned as usual)' if self.fallback else ''}",
              flush=True)

    def load(self) -> Any:
        from mock_server.app import create_app
        from mock_server.proxy.replay import install_replay
        from mock_server.serving import retention

        # Not the hot routes of `serve`: replay answers from Flask's before-request hook.
        app = create_app(self.settings)
        install_replay(app, self.folder, fallback=self.fallback)
        retention.start(app.extensions["flux2_mock"])
        return app


def run(server_of: Any, settings: Settings) -> None:
    """Run until SIGINT or SIGTERM; a `memory` store is a temporary file removed after."""
    scratch = label = None
    master_pid = os.getpid()
    if settings.store_path == "memory":
        scratch = tempfile.mkdtemp(prefix="flux2-mock-")
        settings = replace(settings, store=f"{scratch}/tasks.sqlite3")
        label = f"memory (throwaway file {settings.store_path})"
    try:
        SQLiteStore(settings.store_path).close()  # the schema, once, before workers fork
    except (OSError, sqlite3.Error) as exc:
        raise SystemExit(f"flux2-mock: cannot use store {settings.store_path}: {exc}") from None
    try:
        server_of(settings, label).run()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        if scratch and os.getpid() == master_pid:  # workers leave through this frame too
            shutil.rmtree(scratch, ignore_errors=True)
    sys.stdout.flush()


def serve_proxy(settings: Settings, options: ProxyOptions) -> None:
    from mock_server.proxy.app import proxy_settings

    settings = proxy_settings(settings)
    run(lambda s, label: ProxyServer(s, options, label), settings)


def serve_replay(settings: Settings, folder: str, fallback: str | None) -> None:
    run(lambda s, label: ReplayServer(s, folder, fallback, label), settings)
