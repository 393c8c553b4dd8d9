"""Input rules at their boundaries: what must be rejected, and what must be accepted."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..facts import input_facts
from ..payloads import (
    NEAR_MISSES,
    ascii_prompt,
    enum_coverage,
    image_urls,
    multibyte_prompt,
    request,
    without,
)
from ..registry import CheckFailed, check
from ..transport import Exchange, now_ms
from ..verdicts import expect_accepted, expect_rejected, is_rejected, success_data

SECTION = "Request Parameters"
PROMPT = "prompt | string | Yes | - | Image description (Must be between 3 and 5,000 characters)"
IMAGE_URLS = "image_urls | string[] | No | - | Up to 8 reference image URLs for image-to-image " \
             "editing"


def _i2i() -> str:
    return input_facts().image_to_image_modes[0]


@check(section=SECTION, quote=PROMPT)
def prompt_length_bounds_rejected(ctx: Context, _: None) -> None:
    """Prompts of 2 and 5,001 characters are rejected, ASCII and multi-byte alike."""
    facts = input_facts()
    for length in (facts.prompt_min - 1, facts.prompt_max + 1):
        for kind, make in (("ASCII", ascii_prompt), ("multi-byte", multibyte_prompt)):
            expect_rejected(ctx.submit(request(prompt=make(length))),
                            f"a prompt of {length} {kind} characters")


def _plan_prompt(options: Any) -> list[Any]:
    return [request() for _ in range(4)]


@check(phase="task", section=SECTION, quote=PROMPT, plan=_plan_prompt)
def prompt_length_bounds_accepted(ctx: Context, _: None) -> None:
    """Prompts of 3 and 5,000 characters are accepted, counted in characters, not bytes."""
    facts = input_facts()
    for length in (facts.prompt_min, facts.prompt_max):
        for kind, make in (("ASCII", ascii_prompt), ("multi-byte", multibyte_prompt)):
            expect_accepted(ctx.submit(request(prompt=make(length))),
                            f"a prompt of {length} {kind} characters")


@check(section=SECTION, quote=IMAGE_URLS)
def image_urls_over_max_rejected(ctx: Context, _: None) -> None:
    """Nine image URLs are rejected."""
    count = input_facts().image_urls_max + 1
    payload = request(mode=_i2i(), image_urls=image_urls(count, ctx.options.image_url))
    expect_rejected(ctx.submit(payload), f"{count} image_urls")


def _plan_one_i2i(options: Any) -> list[Any]:
    return [request(mode=_i2i())]


@check(phase="task", section=SECTION, quote=IMAGE_URLS, plan=_plan_one_i2i)
def image_urls_max_accepted(ctx: Context, _: None) -> None:
    """Eight image URLs are accepted in an image-to-image mode."""
    count = input_facts().image_urls_max
    payload = request(mode=_i2i(), image_urls=image_urls(count, ctx.options.image_url))
    expect_accepted(ctx.submit(payload), f"{count} image_urls with mode {_i2i()}")


ENUMS = ("mode | ... | pro-text-to-image or pro-image-to-image or flex-text-to-image or "
         "flex-image-to-image; aspect_ratio | Output ratio: 1:1, 9:16, 16:9, 4:3, 3:4, 3:2, 2:3, "
         "auto; resolution | 1K or 2K; request_type | async (poll results) or callback")


@check(section=SECTION, quote=ENUMS)
def enum_near_misses_rejected(ctx: Context, _: None) -> None:
    """A value one step outside each enum is rejected."""
    for name, values in NEAR_MISSES.items():
        for value in values:
            payload = request()
            if name == "request_type":
                payload["request_type"] = value
            else:
                payload["input"][name] = value
            expect_rejected(ctx.submit(payload), f"{name} {value!r}")


def _plan_enums(options: Any) -> list[Any]:
    return enum_coverage(options.image_url)


@check(phase="task", section=SECTION, quote=ENUMS, plan=_plan_enums)
def enum_members_accepted(ctx: Context, _: None) -> None:
    """Every mode, aspect ratio and resolution is accepted (request_type async here; callback
    in callback_mode_accepted)."""
    for payload in enum_coverage(ctx.options.image_url):
        params = payload["input"]
        expect_accepted(ctx.submit(payload), f"mode {params['mode']}, aspect_ratio "
                        f"{params['aspect_ratio']}, resolution {params['resolution']}")


@check(section=SECTION,
       quote="callback_url | string | No | Webhook URL for callback mode; request_type: "
             "callback (webhook notification)")
def callback_without_url_rejected(ctx: Context, _: None) -> None:
    """Callback mode without a callback_url is rejected."""
    payload = request()
    payload["request_type"] = "callback"
    expect_rejected(ctx.submit(payload), "request_type callback without callback_url")


@check(section=SECTION,
       quote="request_type | Required: Yes; input | Required: Yes; prompt | Required: Yes | "
             "Default: -")
def required_fields_rejected_when_missing(ctx: Context, _: None) -> None:
    """A request without request_type, without input, or without a prompt is rejected."""
    for path in (("request_type",), ("input",), ("input", "prompt")):
        expect_rejected(ctx.submit(without(request(), *path)),
                        f"a request without {'.'.join(path)}")


@check(section=SECTION,
       quote="Type column: request_type string, input object, prompt string, "
             "image_urls string[]")
def field_types_enforced(ctx: Context, _: None) -> None:
    """Fields of the wrong JSON type are rejected."""
    cases: list[tuple[str, Any]] = []
    wrong_prompt = request()
    wrong_prompt["input"]["prompt"] = 12345
    cases.append(("prompt as a number", wrong_prompt))
    wrong_input = request()
    wrong_input["input"] = ["A beautiful sunset over the mountains"]
    cases.append(("input as an array", wrong_input))
    wrong_type = request()
    wrong_type["request_type"] = 1
    cases.append(("request_type as a number", wrong_type))
    wrong_urls = request(mode=_i2i(), image_urls={"url": ctx.options.image_url})
    cases.append(("image_urls as an object", wrong_urls))
    for label, payload in cases:
        expect_rejected(ctx.submit(payload), label)


@check(section="Request Body Structure",
       quote="Request Body Structure: a JSON object (Content-Type: application/json)")
def malformed_body_rejected(ctx: Context, _: None) -> None:
    """A body that is not JSON, or not a JSON object, is a 4xx, never a 5xx."""
    for label, raw in (("a truncated JSON body", b'{"request_type": "async", "input": {'),
                       ("a body that is not JSON", b"request_type=async"),
                       ("a JSON array body", b"[]")):
        expect_rejected(ctx.submit(None, raw=raw), label)


def _answered_either_way(exchange: Exchange, what: str) -> None:
    """Fail unless the target accepted (200, code 200, taskId) or rejected (a 4xx)."""
    if is_rejected(exchange):
        expect_rejected(exchange, what)  # a 429 is not an answer either way
        return
    expect_accepted(exchange, f"{what}: it must be accepted or rejected with a 4xx; it")


OMITTABLE = ("mode", "aspect_ratio", "resolution")


def _plan_omitted(options: Any) -> list[Any]:
    count = {"default": len(OMITTABLE), "either": 1, "reject": 0}[options.omitted_fields]
    return [request()] * count


@check(phase="task", section=SECTION, plan=_plan_omitted, reading="omitted_fields",
       quote="mode, aspect_ratio, resolution | Required: Yes | Default: pro-text-to-image, "
             "1:1, 1K (a reading: --omitted-fields either|default|reject)")
def omitted_fields_reading(ctx: Context, _: None) -> None:
    """Omitting mode, aspect_ratio or resolution is accepted or rejected, as chosen (by
    default either, never a 5xx)."""
    reading = ctx.options.omitted_fields
    if reading == "either":
        # One request omitting all three (at most one paid task): any 4xx or an acceptance.
        payload = request()
        for name in OMITTABLE:
            payload = without(payload, "input", name)
        _answered_either_way(ctx.submit(payload), "a request without input.mode, "
                             "aspect_ratio and resolution")
        return
    for name in OMITTABLE:
        exchange = ctx.submit(without(request(), "input", name))
        if reading == "reject":
            expect_rejected(exchange, f"a request without input.{name}")
        else:
            expect_accepted(exchange, f"a request without input.{name} (default applies)")


def _plan_i2i_reading(options: Any) -> list[Any]:
    return [request()] if options.i2i_image_urls != "required" else []


@check(phase="task", section=SECTION, plan=_plan_i2i_reading, reading="i2i_image_urls",
       quote="image_urls | Required: No | Up to 8 reference image URLs for image-to-image "
             "editing (a reading: --i2i-image-urls either|required|optional)")
def i2i_image_urls_reading(ctx: Context, _: None) -> None:
    """Image-to-image without image_urls is rejected or accepted, as chosen (by default
    either, never a 5xx)."""
    reading = ctx.options.i2i_image_urls
    payload = without(request(mode=_i2i()), "input", "image_urls")
    exchange = ctx.submit(payload)
    what = f"mode {_i2i()} without image_urls"
    if reading == "required":
        expect_rejected(exchange, what)
        empty = request(mode=_i2i(), image_urls=[])
        expect_rejected(ctx.submit(empty), f"mode {_i2i()} with an empty image_urls list")
    elif reading == "optional":
        expect_accepted(exchange, what)
    else:
        _answered_either_way(exchange, what)


@check(section="Query Task Status",
       quote="GET /api/v1/statusTask/flux-2?taskId={taskId}; data.taskId | Unique task "
             "identifier")
def unknown_task_not_reported(ctx: Context, _: None) -> None:
    """A taskId the target never issued is not answered as an existing task (no code 200
    with data, no state)."""
    task_id = f"task_contract_never_issued_{now_ms()}_{ctx.rng.getrandbits(32):08x}"
    exchange = ctx.status(task_id)
    body = exchange.json
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and data.get("state") in input_facts().states:
        raise CheckFailed(f"an unknown taskId was answered as a task in state "
                          f"{data.get('state')!r}", exchange)
    if success_data(exchange) is not None:
        raise CheckFailed("an unknown taskId was answered with HTTP 200, code 200 and a data "
                          "object, as if the task existed", exchange)
