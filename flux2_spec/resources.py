"""The documented data tables (sizes, failCodes, prices) and the schemas folder, read once."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


@cache
def load(name: str) -> Any:
    """Return the parsed JSON data file `flux2_spec/data/<name>.json`."""
    text = resources.files("flux2_spec").joinpath("data", f"{name}.json").read_text("utf-8")
    return json.loads(text)


def schemas_dir() -> Path:
    """Return the folder of JSON Schema files: bundled in a wheel, or the repository's."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / "generate-request.json").is_file():
            return candidate
    raise FileNotFoundError("the schemas folder is missing from this installation")


def image_size(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    """Return (width, height) in pixels for a documented aspect ratio and resolution."""
    sizes = load("sizes")
    ratio = sizes["auto_fallback"] if aspect_ratio == "auto" else aspect_ratio
    width, height = sizes["sizes"][ratio][resolution]
    return int(width), int(height)


def fail_message(vocabulary: str, code: str) -> str:
    """Return the failMsg for a failCode (the chosen vocabulary first), or a generic one."""
    tables = load("fail_codes")["vocabularies"]
    for table in (tables.get(vocabulary, {}), *tables.values()):
        if code in table:
            return str(table[code])
    return f"Generation failed ({code})"


def price_usd(mode: str, resolution: str) -> float:
    """Return what one image of this mode and resolution costs on the real API."""
    return float(load("prices")["per_image"][mode][resolution])
