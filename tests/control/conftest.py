"""The control plane's tests: every in-process mock has two API keys and seed 3."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.mock_client import KEY, OTHER_KEY


@pytest.fixture
def mock_defaults() -> dict[str, Any]:
    return {"seed": 3, "api_keys": [KEY, OTHER_KEY]}
