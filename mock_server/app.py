"""The application factory: the one place where the mock's parts are built and wired."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from flask import Flask

from mock_server.api.service import Flux2Backend, effective_settings, profile_of
from mock_server.callbacks.dispatcher import build_dispatcher
from mock_server.config import check_settings, load_settings
from mock_server.control.metrics import Metrics, instrument, note_route
from mock_server.control.service import ControlService
from mock_server.domain.clock import OffsetClock
from mock_server.domain.planning import seed_text
from mock_server.domain.recorded import recorded_outcomes as recorded_outcomes_of
from mock_server.journal.buffer import Journal
from mock_server.paid.http import build_paid_part
from mock_server.settings import Settings
from mock_server.state import EXTENSION, MockState
from mock_server.storage import Storage, open_storage
from mock_server.web.errors import register_error_handlers


def recorded_outcomes(settings: Settings) -> Settings:
    """With `--profile recorded:DIR`, outcomes too follow the recording unless set."""
    if not settings.profile.startswith("recorded:") or settings.failure_rate \
            or settings.fail_codes:
        return settings
    rate, codes = recorded_outcomes_of(settings.profile.removeprefix("recorded:"))
    return settings.updated({"failure_rate": rate, "fail_codes": codes}, source="recording")


def build_state(settings: Settings, *, storage: Storage | None = None,
                clock: OffsetClock | None = None) -> MockState:
    """Build every part of the mock from settings, each handed what it needs."""
    storage = storage if storage is not None else open_storage(
        settings.store_path, journal_max_entries=settings.journal_max_entries)
    clock = clock if clock is not None else storage.clock
    seed = seed_text(settings.seed, os.urandom(8).hex())
    paid = build_paid_part(settings, storage, clock, seed=seed)
    profile = profile_of(effective_settings(settings, storage.runtime))
    dispatcher = build_dispatcher(settings, storage.tasks, storage.outbox, clock, profile)
    backend = Flux2Backend(settings, storage.tasks, clock, storage.runtime, paid.admission,
                           seed=seed, submitted=[dispatcher.task_submitted])
    journal = Journal(storage.journal, flush_interval_s=settings.journal_flush_ms / 1000,
                      buffered=storage.shared)
    metrics = Metrics(storage.metrics, shared=storage.shared)
    control = ControlService(settings, storage, clock, backend, paid, journal, metrics,
                             dispatcher)
    return MockState(settings, storage, clock, backend, paid, journal, metrics, dispatcher,
                     control)


def create_app(settings: Settings | Mapping[str, Any] | None = None, *,
               storage: Storage | None = None, clock: OffsetClock | None = None,
               environ: Mapping[str, str] | None = None) -> Flask:
    """Build the mock from settings, or from a mapping over the defaults.

    A mapping is read over the defaults alone; pass `environ=os.environ` to read
    `FLUX2_MOCK_*` variables (and a config file they name) first, as `flux2-mock serve` does.
    """
    if not isinstance(settings, Settings):
        settings = load_settings(env=environ if environ is not None else {},
                                 overrides=settings or {})
    settings = recorded_outcomes(check_settings(settings))
    state = build_state(settings, storage=storage, clock=clock)
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes,
                      FLUX2_ERROR_STATUS=settings.error_status)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = state
    register_error_handlers(app)
    _register_views(app, state)
    return app


def _register_views(app: Flask, state: MockState) -> None:
    """Attach the API, the control plane and the request hooks to `app`."""
    from mock_server.api import openapi, views
    from mock_server.control import dashboard, report_views, task_views
    from mock_server.control import views as control_views
    from mock_server.control.auth import guard_control_plane
    from mock_server.journal import recorder
    from mock_server.paid import http as paid_http

    recorder.install(app, state.journal, state.clock)
    guard_control_plane(app)
    app.wsgi_app = instrument(app.wsgi_app, state.metrics)  # type: ignore[method-assign]
    if state.storage.request_scope is not None:
        app.wsgi_app = in_request_scope(  # type: ignore[method-assign,assignment]
            app.wsgi_app, state.storage.request_scope)
    note_route(app)
    for blueprint in (views.bp, paid_http.bp, openapi.bp, control_views.bp, task_views.bp,
                      report_views.bp, dashboard.bp):
        app.register_blueprint(blueprint)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def in_request_scope(wsgi_app: WsgiApp,
                     scope: Callable[[], AbstractContextManager[None]]) -> WsgiApp:
    """Wrap a WSGI app so that each request runs inside the storage's request scope."""

    def scoped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with scope():
            # The body is read (and closed) inside the scope: a lazy body that reads the
            # clock must see the request's time.
            body = wsgi_app(environ, start_response)
            try:
                return list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

    return scoped
