"""The callback tests: tasks done in 1 s, and retries and timeouts of their own."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def mock_defaults() -> dict[str, Any]:
    return {"pending_ms": 0, "processing_ms": 1000, "seed": 7,
            "callback_retry_s": "30,120,600", "callback_timeout_s": 2}
