"""The paid-part tests: three more keys on every in-process mock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.paid.keys import ALL_KEYS


@pytest.fixture
def mock_defaults() -> dict[str, Any]:
    return {"seed": 7, "api_keys": ALL_KEYS}
