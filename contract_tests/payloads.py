"""Requests the probes send: the docs' own examples and variations at each rule's boundary."""

from __future__ import annotations

import copy
from typing import Any

from .facts import input_facts

QUICKSTART_PROMPT = "A beautiful sunset over the mountains"
DOCS_IMAGE_URL = "https://example.com/input.jpg"
# Two-byte and three-byte UTF-8 characters from the Basic Multilingual Plane: one character
# by any count of characters (code points or UTF-16 units), several by a count of bytes.
MULTIBYTE = "éßñøü日本語猫空"


def quickstart_text_to_image() -> dict[str, Any]:
    """Return Quick Start 1, exactly as the docs show it."""
    return {"request_type": "async", "input": {
        "mode": "pro-text-to-image", "prompt": QUICKSTART_PROMPT,
        "aspect_ratio": "1:1", "resolution": "1K"}}


def quickstart_image_to_image(image_url: str = DOCS_IMAGE_URL) -> dict[str, Any]:
    """Return Quick Start 3, exactly as the docs show it (image URL replaceable)."""
    return {"request_type": "async", "input": {
        "mode": "pro-image-to-image", "prompt": "Transform into a watercolor painting style",
        "image_urls": [image_url], "aspect_ratio": "16:9", "resolution": "1K"}}


def request(*, image_url: str = DOCS_IMAGE_URL, **fields: Any) -> dict[str, Any]:
    """Return a valid async request with input `fields` changed (None removes a field)."""
    params: dict[str, Any] = {"mode": "pro-text-to-image", "prompt": QUICKSTART_PROMPT,
                              "aspect_ratio": "1:1", "resolution": "1K"}
    params.update(fields)
    if input_facts().is_image_to_image(params["mode"]) and "image_urls" not in fields:
        params["image_urls"] = [image_url]
    return {"request_type": "async",
            "input": {k: v for k, v in params.items() if v is not None}}


def without(payload: dict[str, Any], *path: str) -> dict[str, Any]:
    """Return a copy of `payload` with the field at `path` removed."""
    out = copy.deepcopy(payload)
    node = out
    for part in path[:-1]:
        node = node[part]
    node.pop(path[-1], None)
    return out


def ascii_prompt(length: int) -> str:
    """Return a prompt of exactly `length` printable ASCII characters, no blank at either end
    (a server that trims must count the same length)."""
    text = "A lighthouse on a cliff at dusk, oil painting. "
    prompt = (text * (length // len(text) + 1))[:length]
    return prompt[:-1] + "x" if prompt.endswith(" ") else prompt


def multibyte_prompt(length: int) -> str:
    """Return a prompt of exactly `length` characters, every one several bytes in UTF-8."""
    return (MULTIBYTE * (length // len(MULTIBYTE) + 1))[:length]


def image_urls(count: int, base: str = DOCS_IMAGE_URL) -> list[str]:
    """Return `count` distinct image URLs."""
    return [base if i == 0 else f"{base}?n={i}" for i in range(count)]


def enum_coverage(image_url: str = DOCS_IMAGE_URL) -> list[dict[str, Any]]:
    """Return requests that together use every mode, aspect ratio and resolution once at least."""
    facts = input_facts()
    count = max(len(facts.modes) * len(facts.resolutions), len(facts.aspect_ratios))
    out = []
    for i in range(count):
        out.append(request(
            image_url=image_url,
            mode=facts.modes[i % len(facts.modes)],
            aspect_ratio=facts.aspect_ratios[i % len(facts.aspect_ratios)],
            resolution=facts.resolutions[(i // len(facts.modes)) % len(facts.resolutions)],
        ))
    return out


# Values one step outside each enum (never a case or whitespace variant, which a lenient
# server may reasonably accept).
NEAR_MISSES: dict[str, list[str]] = {
    "mode": ["pro-text-to-video", "text-to-image"],
    "aspect_ratio": ["21:9", "1:2"],
    "resolution": ["4K", "3K"],
    "request_type": ["sync", "webhook"],
}
