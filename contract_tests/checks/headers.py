"""Headers are part of the contract: answers and callbacks declare the JSON they carry."""

from __future__ import annotations

from ..context import Context, NotApplicable
from ..registry import CheckFailed, check
from ..transport import Exchange
from ..verdicts import body_code
from .callbacks import CallbackCase, callback_failure, deliveries_of

SECTION = "Response Format"


def is_json_media_type(value: str | None) -> bool:
    """Return whether a Content-Type names JSON (application/json or a +json type)."""
    media = (value or "").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                          and media.endswith("+json"))


def _is_success(exchange: Exchange) -> bool:
    return exchange.status == 200 and body_code(exchange) == 200


@check(on="exchange", section=SECTION, reading="error_content_type",
       quote='Response Format: the answers are JSON ({"code": 200, "message": "success", '
             '"data": {...}}), so Content-Type: application/json; error answers too unless '
             "--error-content-type any (the Flux-2 page shows no error answer)")
def answers_content_type_json(ctx: Context, exchange: Exchange) -> None:
    """An answer of either endpoint declares a JSON Content-Type."""
    if exchange.error:
        raise NotApplicable
    if not _is_success(exchange) and ctx.options.error_content_type == "any":
        raise NotApplicable
    if not is_json_media_type(exchange.content_type):
        what = "a success answer" if _is_success(exchange) else f"an error answer " \
            f"(HTTP {exchange.status})"
        raise CheckFailed(f"{what} came with Content-Type "
                          f"{exchange.content_type or '(none)'!r}; application/json expected",
                          exchange)


@check(on="callback", section="Callback Response", needs="callbacks",
       quote="the system will send a POST request to your callBackUrl in the following format: "
             '{"code": 200, "message": "success", "data": {...}} (JSON, so Content-Type: '
             "application/json)")
def callback_content_type_json(ctx: Context, case: CallbackCase) -> None:
    """Each callback declares a JSON Content-Type."""
    for delivery in deliveries_of(case):
        value = next((v for k, v in delivery.headers.items() if k.lower() == "content-type"),
                     None)
        if not is_json_media_type(value):
            raise callback_failure(f"the callback came with Content-Type {value or '(none)'!r};"
                                   f" application/json expected", delivery, case)
