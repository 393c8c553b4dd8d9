"""The API keys of the paid-part tests, one per plan or balance they exercise."""

from __future__ import annotations

from tests.support.mock_client import KEY

FREE, PRO, RICH = "free-key", "pro-key", "rich-key"
KEYS = ("--api-key", FREE, "--api-key", PRO, "--api-key", RICH)
ALL_KEYS = f"{KEY},{FREE},{PRO},{RICH}"
