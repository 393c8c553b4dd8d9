"""How a task ends: resultJson and its images on success, failCode and failMsg on failure."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flux2_spec.resources import load

from ..context import Context, NotApplicable
from ..options import is_loopback_url
from ..registry import CheckFailed, CheckSkipped, check
from ..tracker import Finished, Observation

SECTION = "Response Fields"
RESULT = "data.resultJson | string | JSON string with resultUrls array (on success)"


def result_urls(data: dict[str, Any]) -> list[Any]:
    """Return resultUrls decoded from resultJson (raises ValueError when it cannot)."""
    raw = data.get("resultJson")
    if not isinstance(raw, str):
        raise ValueError(f"resultJson must be a string holding JSON, got {raw!r}")
    decoded = json.loads(raw)
    urls = decoded.get("resultUrls") if isinstance(decoded, dict) else None
    if not isinstance(urls, list) or not urls:
        raise ValueError(f"resultJson must decode to an object with a non-empty resultUrls "
                         f"array, got {raw[:200]!r}")
    return urls


def _absolute(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@check(on="poll", section=SECTION, needs="success-task", quote=RESULT)
def success_result_json(ctx: Context, observation: Observation) -> None:
    """A success answer carries resultJson: a string decoding to absolute resultUrls."""
    if observation.state != "success" or observation.data is None:
        raise NotApplicable
    try:
        urls = result_urls(observation.data)
    except ValueError as exc:
        raise CheckFailed(str(exc), observation.exchange) from None
    bad = [u for u in urls if not _absolute(u)]
    if bad:
        raise CheckFailed(f"resultUrls must be absolute http(s) URLs, got {bad[:3]!r}",
                          observation.exchange)


@check(on="finished", section="Resource Management", needs="success-task",
       quote="data.resultJson: resultUrls (on success); Image URLs may be temporary - "
             "download and store important results")
def result_urls_serve_images(ctx: Context, finished: Finished) -> None:
    """Each result URL answers 200 with an image/* content type."""
    last = finished.task.last
    if finished.timed_out or last is None or last.state != "success" or last.data is None:
        raise NotApplicable
    try:
        urls = [u for u in result_urls(last.data) if _absolute(u)]
    except ValueError:
        raise NotApplicable from None
    for url in urls[:3]:
        if ctx.options.loopback and not is_loopback_url(url) \
                and not ctx.options.fetch_remote_results:
            raise CheckSkipped(f"the result URL {url} is not on loopback while the target is; "
                               f"pass --fetch-remote-results to fetch it")
        exchange = ctx.transport.fetch(url)
        kind = exchange.content_type.split(";")[0].strip().lower()
        if exchange.status != 200 or not kind.startswith("image/") or not exchange.content:
            raise CheckFailed(f"the result URL {url} answered HTTP {exchange.status} "
                              f"({kind or 'no Content-Type'}, {len(exchange.content)} bytes); "
                              f"an image was expected", exchange)


@check(on="poll", section=SECTION, needs="failed-task",
       quote="data.failCode | string | Error code (on failure); data.failMsg | string | "
             "Error message (on failure)")
def failed_has_code_and_message(ctx: Context, observation: Observation) -> None:
    """A failed answer carries a non-empty string failCode and a string failMsg."""
    if observation.state != "failed" or observation.data is None:
        raise NotApplicable
    code, message = observation.data.get("failCode"), observation.data.get("failMsg")
    if not isinstance(code, str) or not code:
        raise CheckFailed(f"failCode must be a non-empty string, got {code!r}",
                          observation.exchange)
    if not isinstance(message, str):
        raise CheckFailed(f"failMsg must be a string, got {message!r}", observation.exchange)


def fail_codes(choice: str) -> set[str] | None:
    """Return the failCodes a --fail-codes choice allows (None: any string)."""
    vocabularies = load("fail_codes")["vocabularies"]
    if choice == "any":
        return None
    if choice == "documented":
        return {c for table in vocabularies.values() for c in table}
    return set(vocabularies[choice])


@check(on="poll", section=SECTION, needs="failed-task",
       quote='"failCode": "CONTENT_VIOLATION" (the vocabulary is an interpretation: '
             "--fail-codes legacy|current|documented|any)")
def fail_code_vocabulary(ctx: Context, observation: Observation) -> None:
    """failCode belongs to the chosen vocabulary (the Flux-2 page's SCREAMING_SNAKE by default)."""
    if observation.state != "failed" or observation.data is None:
        raise NotApplicable
    allowed = fail_codes(ctx.options.fail_codes)
    if allowed is None:
        raise CheckSkipped("--fail-codes any accepts every failCode")
    code = observation.data.get("failCode")
    if code not in allowed:
        raise CheckFailed(f"failCode {code!r} is not in the {ctx.options.fail_codes} "
                          f"vocabulary ({', '.join(sorted(allowed)[:6])}, ...)",
                          observation.exchange)
