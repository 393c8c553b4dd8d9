"""Every check of the suite; importing this package registers them all."""

from __future__ import annotations

from . import auth, callbacks, envelope, headers, inputs, lifecycle, message, results

__all__ = ["auth", "callbacks", "envelope", "headers", "inputs", "lifecycle", "message",
           "results"]
