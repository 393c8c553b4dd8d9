"""The real-API bridge: a validating proxy, recordings, replay and calibrated timing.

`flux2-mock proxy --upstream URL` (cli.py, server.py) forwards the API through app.py;
judge.py holds the upstream's rules (rules.py); recording.py writes what it saw, replay.py
answers it back, calibration.py draws timings from it. docs/proxy-and-replay.md tells how.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_server.proxy.app import create_proxy_app
    from mock_server.proxy.options import ProxyOptions
    from mock_server.proxy.replay import install_replay, load_book

_EXPORTS = {"create_proxy_app": "app", "ProxyOptions": "options", "install_replay": "replay",
            "load_book": "replay"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:  # imported on first use: the CLI loads this package on every run
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ProxyOptions", "create_proxy_app", "install_replay", "load_book"]
