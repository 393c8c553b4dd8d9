"""flux2-mock: a mock server for the Flux-2 image-generation API."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .app import create_app
    from .clock import SystemClock, VirtualClock
    from .settings import Settings, load_settings

# Imported on first use: the pytest plugin imports this package in every pytest run, and
# Flask and jsonschema must not be paid for by sessions that never start the mock.
_EXPORTS = {
    "create_app": "app",
    "SystemClock": "clock",
    "VirtualClock": "clock",
    "Settings": "settings",
    "load_settings": "settings",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Settings", "SystemClock", "VirtualClock", "__version__", "create_app",
           "load_settings"]
