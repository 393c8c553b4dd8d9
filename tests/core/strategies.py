"""Hypothesis strategies of request bodies: arbitrary JSON, and JSON near the schema."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def request_like() -> st.SearchStrategy[Any]:
    """Bodies near the schema: real keys with arbitrary values, so deeper rules are reached."""
    inner = st.fixed_dictionaries({}, optional={
        "mode": json_values() | st.sampled_from(["pro-image-to-image", "flex-text-to-image"]),
        "prompt": json_values() | st.text(min_size=3, max_size=20),
        "image_urls": json_values() | st.lists(st.text(max_size=20), max_size=10),
        "aspect_ratio": json_values(), "resolution": json_values()})
    return st.fixed_dictionaries({}, optional={
        "request_type": st.sampled_from(["async", "callback"]) | json_values(),
        "callback_url": json_values() | st.just("http://127.0.0.1:9/cb"),
        "input": inner | json_values()})
