"""`message`: one judgement for the answers and the callbacks alike."""

from __future__ import annotations

from typing import Any

from ..context import Context, NotApplicable
from ..registry import CheckFailed, check
from ..transport import Exchange
from .callbacks import CallbackCase, callback_failure, deliveries_of


def expected_message(ctx: Context, body: Any) -> str | None:
    """Return the message the docs show for this envelope's code (None: any string will do)."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return None
    code = body.get("code")
    if code == 400 and isinstance(body.get("data"), dict) and body["data"].get("state") == \
            "failed":
        return "failed"  # the Flux-2 page's failure callback
    if code == 200 and ctx.options.success_message == "success":
        return "success"
    return None


@check(on="exchange", also_on=("callback",), section="Response Format",
       reading="success_message",
       quote='"code": 200, "message": "success" in every success answer and callback; "code": '
             '400, "message": "failed" in the failure callback (--success-message any: a '
             "code 200 envelope may say anything)")
def message_as_documented(ctx: Context, subject: Exchange | CallbackCase) -> None:
    """`message` is the docs' word for the envelope's code, in answers and callbacks."""
    if isinstance(subject, Exchange):
        want = expected_message(ctx, subject.json)
        if want is None:
            raise NotApplicable
        if subject.json["message"] != want:
            raise CheckFailed(f"a code {subject.json['code']} answer says message "
                              f"{subject.json['message']!r}; the docs show {want!r}", subject)
        return
    judged = False
    for delivery in deliveries_of(subject):
        want = expected_message(ctx, delivery.json)
        if want is None:
            continue
        judged = True
        if delivery.json["message"] != want:
            raise callback_failure(f"a code {delivery.json['code']} callback says message "
                                   f"{delivery.json['message']!r}; the docs show {want!r}",
                                   delivery, subject)
    if not judged:
        raise NotApplicable
