"""The mock's own data tables (timing profiles, plans, conformance rules), read once."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_table(name: str) -> Any:
    """Return the parsed JSON data file `mock_server/data/<name>.json`."""
    text = resources.files("mock_server").joinpath("data", f"{name}.json").read_text("utf-8")
    return json.loads(text)
