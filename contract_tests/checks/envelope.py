"""Checks on every answer of the two endpoints: JSON, the envelope, the submit answer."""

from __future__ import annotations

from typing import Any

from flux2_spec.validation import schema_set

from ..context import Context, NotApplicable
from ..payloads import quickstart_image_to_image, quickstart_text_to_image
from ..registry import CheckFailed, check
from ..transport import Exchange
from ..verdicts import body_code, expect_accepted, success_data, summary

SECTION = "Response Format"


@check(on="exchange", section=SECTION,
       quote='Response Format: every answer is a JSON object such as {"code": 200, '
             '"message": "success", "data": {...}}')
def answers_are_json(ctx: Context, exchange: Exchange) -> None:
    """An answer of either endpoint is a JSON object."""
    if exchange.error:
        raise CheckFailed(f"the target sent no answer: {exchange.error}", exchange)
    if not isinstance(exchange.json, dict):
        raise CheckFailed(f"the answer is not a JSON object ({summary(exchange)})", exchange)


@check(on="exchange", section=SECTION,
       quote="code | integer | HTTP status code (200 = success); every answer carries "
             "code, message and data")
def envelope_fields_typed(ctx: Context, exchange: Exchange) -> None:
    """`code` is an integer and `message` a string; a success answer carries a `data` object."""
    body = exchange.json
    if not isinstance(body, dict):
        raise NotApplicable
    if body_code(exchange) is None:
        raise CheckFailed(f"code must be an integer, got {body.get('code')!r}", exchange)
    if not isinstance(body.get("message"), str):
        raise CheckFailed(f"message must be a string, got {body.get('message')!r}", exchange)
    if body["code"] == 200 and not isinstance(body.get("data"), dict):
        raise CheckFailed(f"a code 200 answer must carry a data object, got "
                          f"{body.get('data')!r}", exchange)


@check(on="exchange", section=SECTION,
       quote="code | integer | HTTP status code (200 = success)")
def code_is_http_status(ctx: Context, exchange: Exchange) -> None:
    """A code 200 comes with HTTP 200, and an HTTP error carries its own status as code.

    The docs are silent on whether errors use the HTTP status or only the body's code, so an
    error answered as HTTP 200 with a 4xx code passes.
    """
    code = body_code(exchange)
    if code is None or exchange.error:
        raise NotApplicable
    if code == 200 and exchange.status != 200:
        raise CheckFailed(f"code 200 (success) came with HTTP {exchange.status}", exchange)
    if exchange.status != 200 and code != exchange.status:
        raise CheckFailed(f"HTTP {exchange.status} carried code {code}; code is the HTTP "
                          f"status code", exchange)


def _plan_reference(options: Any) -> list[Any]:
    return [quickstart_text_to_image()]


@check(phase="task", section="Task Submission Response", plan=_plan_reference,
       quote='Task Submission Response: {"code": 200, "message": "success", '
             '"data": {"taskId": "task_12345678"}}')
def submit_answer(ctx: Context, _: None) -> None:
    """Quick Start 1 is answered with code 200 and a non-empty string taskId."""
    exchange, _task_id = ctx.reference_task()
    expect_accepted(exchange, "the docs' Quick Start text-to-image request")
    problems = [p for p in schema_set().errors("submit-response.json", exchange.json)
                if p.field != "message"]  # message is envelope_fields_typed's
    if problems:
        raise CheckFailed("the submit answer does not match the documented shape: "
                          + "; ".join(p.message for p in problems), exchange)


def _plan_quickstart(options: Any) -> list[Any]:
    return [quickstart_image_to_image(options.image_url)]


@check(phase="task", section="Quick Start", plan=_plan_quickstart,
       quote="Quick Start: 1. Text-to-Image Generation ... 3. Image-to-Image Editing "
             "(the docs' example requests)")
def quickstart_examples_accepted(ctx: Context, _: None) -> None:
    """Both Quick Start requests, sent as the docs show them, are accepted (the shape of the
    answer is submit_answer's)."""
    exchange, _task_id = ctx.reference_task()
    if success_data(exchange) is None:
        raise CheckFailed(f"Quick Start 1 (text-to-image): expected it to be accepted (HTTP "
                          f"200, code 200), got {summary(exchange)}", exchange)
    second = ctx.submit(quickstart_image_to_image(ctx.options.image_url))
    expect_accepted(second, "Quick Start 3 (image-to-image)")
