"""flux2-mock: a mock server for the Flux-2 image-generation API."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mock_server.app import create_app
    from mock_server.config import load_settings
    from mock_server.domain.clock import SystemClock, VirtualClock
    from mock_server.settings import Settings

# Imported on first use: the pytest plugin imports this package in every pytest run, and
# Flask and jsonschema must not be paid for by sessions that never start the mock.
_EXPORTS = {
    "create_app": "app",
    "SystemClock": "domain.clock",
    "VirtualClock": "domain.clock",
    "Settings": "settings",
    "load_settings": "config",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Settings", "SystemClock", "VirtualClock", "__version__", "create_app",
           "load_settings"]
