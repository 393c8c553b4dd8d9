"""flux2-mock: a mock server for the Flux-2 image-generation API."""

from __future__ import annotations

__version__ = "0.1.0"

from .app import create_app
from .clock import SystemClock, VirtualClock
from .settings import Settings, load_settings

__all__ = ["Settings", "SystemClock", "VirtualClock", "__version__", "create_app",
           "load_settings"]
