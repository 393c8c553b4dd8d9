"""Authentication: 'All API requests require authentication using a Bearer token'."""

from __future__ import annotations

import base64

from ..context import Context
from ..payloads import quickstart_text_to_image
from ..registry import CheckFailed, CheckSkipped, check
from ..verdicts import accepted_task_id, body_code, expect_rejected, is_rejected, summary

SECTION = "Authentication"
QUOTE = ("All API requests require authentication using a Bearer token in the Authorization "
         "header: Authorization: Bearer YOUR_API_KEY")


def _unknown_task_id(ctx: Context) -> str:
    return f"task_contract_unknown_{ctx.rng.getrandbits(48):012x}"


def _bad_headers(ctx: Context) -> dict[str, dict[str, str]]:
    key = ctx.options.api_key
    basic = base64.b64encode(f"{key}:".encode()).decode()
    return {
        "no Authorization header": {},
        "Authorization: Basic <the key>": {"Authorization": f"Basic {basic}"},
        "Authorization: Bearer (no token)": {"Authorization": "Bearer"},
        "Authorization: Bearer <a bogus key>":
            {"Authorization": f"Bearer flux2-contract-bogus-{ctx.rng.getrandbits(64):016x}"},
    }


def _reject_on_both(ctx: Context, label: str, headers: dict[str, str], task_id: str) -> None:
    expect_rejected(ctx.submit(quickstart_text_to_image(), headers=headers),
                    f"a submission with {label}")
    expect_rejected(ctx.status(task_id, headers=headers), f"a status query with {label}")


@check(section=SECTION, quote=QUOTE)
def auth_missing_rejected(ctx: Context, _: None) -> None:
    """Both endpoints reject a request without an Authorization header."""
    _reject_on_both(ctx, "no Authorization header", {}, _unknown_task_id(ctx))


@check(section=SECTION, quote=QUOTE)
def auth_malformed_rejected(ctx: Context, _: None) -> None:
    """Both endpoints reject an Authorization header that is not 'Bearer <key>'."""
    for label, headers in list(_bad_headers(ctx).items())[1:3]:
        _reject_on_both(ctx, label, headers, _unknown_task_id(ctx))


@check(section=SECTION, quote=QUOTE)
def auth_bogus_key_rejected(ctx: Context, _: None) -> None:
    """Both endpoints reject a well-formed Bearer header with a key that is not valid."""
    label, headers = list(_bad_headers(ctx).items())[3]
    _reject_on_both(ctx, label, headers, _unknown_task_id(ctx))


@check(phase="task", section=SECTION, quote=QUOTE)
def status_requires_auth(ctx: Context, _: None) -> None:
    """The status of a real task is refused without valid credentials."""
    task_id = ctx.reference_task_id()
    for label, headers in _bad_headers(ctx).items():
        expect_rejected(ctx.status(task_id, headers=headers),
                        f"a status query for an existing task with {label}")


@check(phase="task", section=SECTION, quote=QUOTE)
def api_key_accepted(ctx: Context, _: None) -> None:
    """The given key is accepted by both endpoints."""
    exchange = ctx.reference_task()[0]
    if is_rejected(exchange):
        raise CheckFailed(f"a submission with the given key was refused "
                          f"({summary(exchange)})", exchange)
    task_id = accepted_task_id(exchange)
    if task_id is None:
        raise CheckSkipped("the submission with the given key carried no usable taskId "
                           "(see submit_answer)")
    status = ctx.status(task_id)
    if is_rejected(status) or body_code(status) not in (None, 200):
        raise CheckFailed("a status query with the given key for the task it just created "
                          f"was refused ({summary(status)})", status)
