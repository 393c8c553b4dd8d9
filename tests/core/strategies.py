"""Hypothesis strategies of request bodies: arbitrary JSON, and JSON near the schema."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.support.spec import MODES, RATIOS, RESOLUTIONS, STATES, TEXT_MODES


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


def _maybe(values: list[Any]) -> st.SearchStrategy[Any]:
    """One of `values` (boundary and near-miss cases), or any JSON value."""
    return st.sampled_from(values) | json_values()


URL = "https://example.com/in.jpg"
NEAR_MISSES: dict[str, list[Any]] = {
    "mode": ["pro-text-to-Image", "text-to-image", None, 1],
    "prompt": ["ab", "x" * 5001, "", 123, None],
    "image_urls": [[URL] * 9, ["/rel.jpg"], [URL, 5], URL, {}],
    "aspect_ratio": ["16:10", "1K", "Auto", 1.0],
    "resolution": ["1k", "4K", "", True],
    "request_type": ["sync", "", None],
    "callback_url": ["ftp://x/y", "", "/cb", 5],
    "provider": ["other", None],
}


@st.composite
def near_valid_requests(draw: st.DrawFn) -> Any:
    """A valid request, or one that misses by one rule: where a checker's verdict is decided."""
    i2i = draw(st.booleans())
    params: dict[str, Any] = {"prompt": draw(st.sampled_from(["abc", "x" * 5000, "\U0001f308" * 3])
                                             | st.text(min_size=3, max_size=30))}
    if i2i or draw(st.booleans()):
        params["mode"] = draw(st.sampled_from(
            [m for m in MODES if m not in TEXT_MODES] if i2i else TEXT_MODES))
    if i2i or draw(st.booleans()):
        params["image_urls"] = draw(st.sampled_from([[URL], [URL] * 8] + ([] if i2i else [[]])))
    for name, choices in (("aspect_ratio", RATIOS), ("resolution", RESOLUTIONS)):
        if draw(st.booleans()):
            params[name] = draw(st.sampled_from(choices))
    request: dict[str, Any] = {"request_type": "async", "input": params}
    if draw(st.booleans()):
        request.update(request_type="callback", callback_url="http://127.0.0.1:9/cb")
    if draw(st.booleans()):
        field = draw(st.sampled_from(sorted(NEAR_MISSES)))
        target = request if field in ("request_type", "callback_url", "provider") else params
        target[field] = draw(st.sampled_from(NEAR_MISSES[field]))
    return request


def answers() -> st.SearchStrategy[Any]:
    """Status answers, callbacks and error envelopes, right and slightly wrong."""
    number = st.sampled_from([0, 12000, -1, 1.0, 1.5, True, "12000", None])
    data = st.fixed_dictionaries({}, optional={
        "taskId": _maybe(["task_12345678", "", 5]),
        "state": _maybe([*STATES, "done"]),
        "resultJson": _maybe(['{"resultUrls":["https://a/b.jpg"]}', 5]),
        "failCode": _maybe(["CONTENT_VIOLATION", ""]),
        "failMsg": _maybe(["bad", 3]),
        "costTime": number, "createTime": number, "completeTime": number,
        "error": _maybe(["Missing required field: input.prompt", 1]),
    })
    return st.fixed_dictionaries({}, optional={
        "code": _maybe([200, 200.0, 400, 401, 404, 599, 600, 399, True, "200"]),
        "message": _maybe(["success", "failed", "Invalid request", 1]),
        "data": data | json_values(),
    })
