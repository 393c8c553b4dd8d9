"""Where things are served: the control plane's path prefix, shared by every part that asks."""

from __future__ import annotations

CONTROL_PREFIX = "/_mock"


def is_control_path(path: str) -> bool:
    """Whether `path` belongs to the control plane (`/_mock` or anything under `/_mock/`)."""
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")
