"""Reading an answer: was the request accepted, was it rejected, what does the envelope say."""

from __future__ import annotations

from typing import Any

from .registry import CheckFailed, CheckSkipped
from .transport import Exchange


def body_code(exchange: Exchange) -> int | None:
    """Return the envelope's integer `code`, if the answer is an envelope."""
    body = exchange.json
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def is_rejected(exchange: Exchange) -> bool:
    """A 4xx: as the HTTP status, or as the envelope's code under HTTP 200 (docs are silent)."""
    if 400 <= exchange.status <= 499:
        return True
    code = body_code(exchange)
    return exchange.status == 200 and code is not None and 400 <= code <= 499


def success_data(exchange: Exchange) -> dict[str, Any] | None:
    """Return `data` of a success envelope (HTTP 200, code 200), else None."""
    body = exchange.json
    if exchange.status != 200 or not isinstance(body, dict) or body_code(exchange) != 200:
        return None
    data = body.get("data")
    return data if isinstance(data, dict) else None


def accepted_task_id(exchange: Exchange) -> str | None:
    data = success_data(exchange)
    task_id = data.get("taskId") if data else None
    return task_id if isinstance(task_id, str) and task_id else None


def summary(exchange: Exchange) -> str:
    """Say in a few words what came back."""
    if exchange.error:
        return f"no answer ({exchange.error})"
    code = body_code(exchange)
    shown = f"HTTP {exchange.status}"
    return shown + (f" with code {code}" if code is not None else "")


def _rate_limited(exchange: Exchange, what: str) -> None:
    # A 429 says nothing about the request itself: neither a rejection nor an acceptance.
    if exchange.status == 429:
        raise CheckSkipped(f"{what}: the target still answered 429 (rate limit) after "
                           f"waiting and retrying")


def expect_rejected(exchange: Exchange, what: str) -> None:
    """Fail unless the target answered a 4xx."""
    _rate_limited(exchange, what)
    if not is_rejected(exchange):
        raise CheckFailed(f"{what}: expected a rejection (a 4xx, as the HTTP status or as the "
                          f"envelope's code), got {summary(exchange)}", exchange)


def expect_accepted(exchange: Exchange, what: str) -> str:
    """Fail unless the target accepted the submission; return the taskId."""
    _rate_limited(exchange, what)
    task_id = accepted_task_id(exchange)
    if task_id is None:
        raise CheckFailed(f"{what}: expected it to be accepted (HTTP 200, code 200, "
                          f"data.taskId), got {summary(exchange)}", exchange)
    return task_id
