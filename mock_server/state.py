"""The mock's parts as one typed record, and how a request finds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from mock_server.settings import Settings
from mock_server.storage import Storage

if TYPE_CHECKING:
    from mock_server.api.service import Flux2Backend
    from mock_server.callbacks.dispatcher import Dispatcher
    from mock_server.control.metrics import Metrics
    from mock_server.control.service import ControlService
    from mock_server.domain.clock import OffsetClock
    from mock_server.journal.buffer import Journal
    from mock_server.paid.http import PaidPart
    from mock_server.storage.protocols import TaskStore

EXTENSION = "flux2_mock"


@dataclass(frozen=True)
class MockState:
    """Every part of one app, kept in `app.extensions['flux2_mock']`; all of them required."""

    settings: Settings
    storage: Storage
    clock: OffsetClock
    backend: Flux2Backend
    paid: PaidPart
    journal: Journal
    metrics: Metrics
    dispatcher: Dispatcher
    control: ControlService

    @property
    def store(self) -> TaskStore:
        """The task store (a short name for the part most views read)."""
        return self.storage.tasks


def mock_state() -> MockState:
    """Return the parts of the app handling the current request."""
    state: MockState = current_app.extensions[EXTENSION]
    return state

