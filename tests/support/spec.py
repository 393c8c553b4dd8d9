"""The documented value lists, read from the schemas (never restated in a test)."""

from __future__ import annotations

from flux2_spec.validation import schema_set


def choices(name: str) -> list[str]:
    """Return the enum of `common.json#/$defs/<name>`, in the schema's order."""
    values: list[str] = schema_set().schema("common.json")["$defs"][name]["enum"]
    return list(values)


MODES = choices("mode")
RATIOS = choices("aspectRatio")
RESOLUTIONS = choices("resolution")
STATES = choices("state")  # pending, processing, success, failed: the lifecycle's order
TEXT_MODES = [m for m in MODES if m.endswith("-text-to-image")]
