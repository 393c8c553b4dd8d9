"""The proxy's application factory: the mock's journal, conformance report, spend meter,
error envelopes and admin guard around a forwarder to the upstream."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flask import Flask

from mock_server.api.service import profile_of
from mock_server.callbacks.dispatcher import RetryPolicy
from mock_server.callbacks.sender import HostPolicy, Sender
from mock_server.config import check_settings, load_settings
from mock_server.domain.clock import Clock, SystemClock
from mock_server.domain.profiles import TimingProfile
from mock_server.journal.buffer import Journal
from mock_server.proxy.db import ProxyDB
from mock_server.proxy.forward import Forwarder
from mock_server.proxy.options import ProxyOptions
from mock_server.proxy.recording import Recorder
from mock_server.proxy.relay import Relay
from mock_server.proxy.service import ProxyService
from mock_server.proxy.spend_guard import SpendGuard
from mock_server.settings import Settings, default_state_dir
from mock_server.state import EXTENSION
from mock_server.storage import Storage
from mock_server.storage.sqlite import open_sqlite_storage
from mock_server.storage.sqlite.tasks import SQLiteStore
from mock_server.web.errors import register_error_handlers

PROXY_STORE = "proxy.sqlite3"


@dataclass
class ProfileView:
    """What the conformance report asks of a backend: the timing profile (its time scale)."""

    profile: TimingProfile


@dataclass
class ProxyState:
    """Per-app state in `app.extensions['flux2_mock']`, shaped as the mock's views read it."""

    settings: Settings
    options: ProxyOptions
    storage: Storage
    store: SQLiteStore
    clock: Clock
    backend: ProfileView
    journal: Journal
    service: ProxyService
    dispatcher: Relay | None  # the conformance report reads callback attempts from it


def proxy_settings(settings: Settings) -> Settings:
    """The proxy's store defaults to a file of its own, never the mock's tasks file."""
    if settings.store:
        return settings
    return replace(settings, store=str(default_state_dir() / PROXY_STORE))


def create_proxy_app(options: ProxyOptions, settings: Settings | None = None, *,
                     clock: Clock | None = None) -> Flask:
    """Build the validating proxy in front of `options.upstream`."""
    settings = check_settings(proxy_settings(settings if settings is not None
                                             else load_settings()))
    if settings.store_path == "memory":  # a one-process run: a throwaway file stands in
        settings = replace(settings, store=str(Path(tempfile.mkdtemp(prefix="flux2-proxy-"))
                                              / PROXY_STORE))
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes,
                      FLUX2_ERROR_STATUS=settings.error_status)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    storage = open_sqlite_storage(settings.store_path,
                                  journal_max_entries=settings.journal_max_entries)
    store = storage.tasks
    assert isinstance(store, SQLiteStore)  # the proxy's own tables live in the same file
    clock = clock if clock is not None else storage.clock
    profile = profile_of(settings)
    db = ProxyDB(store.path)
    relay = None
    if options.public_url:
        relay = Relay(store.path, clock, Sender(HostPolicy.parse(settings.callback_allowed_hosts)),
                      RetryPolicy.from_settings(settings, profile), options.public_url)
    recorder = None
    if options.record_dir:
        recorder = Recorder(options.record_dir, options.upstream, SystemClock().now_ms())
    max_micro = None if options.max_spend_usd is None else round(options.max_spend_usd * 1e6)
    service = ProxyService(settings, options.upstream, store, clock, db,
                           Forwarder(options.upstream, clock,
                                     timeout_s=options.upstream_timeout_s),
                           SpendGuard(db, max_micro), relay, recorder, profile.time_scale)
    journal = Journal(storage.journal, flush_interval_s=settings.journal_flush_ms / 1000,
                      buffered=storage.shared)
    state = ProxyState(settings, options, storage, store, clock, ProfileView(profile), journal,
                       service, relay)
    app.extensions[EXTENSION] = state
    register_error_handlers(app)
    from mock_server.journal.recorder import install
    from mock_server.proxy import views

    install(app, journal, clock)
    views.guard(app)
    app.register_blueprint(views.api)
    app.register_blueprint(views.control)
    return app


def state_of(app: Flask) -> Any:
    return app.extensions["flux2_mock"]
