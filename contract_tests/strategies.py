"""Hypothesis strategies for generation requests, built from the schema files' enums and bounds."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .facts import input_facts
from .payloads import DOCS_IMAGE_URL

# Printable characters of the Basic Multilingual Plane without combining marks: every
# reasonable count of "characters" (code points, UTF-16 units, NFC) agrees on their length.
PROMPT_ALPHABET = st.characters(
    min_codepoint=0x20, max_codepoint=0xFFFF,
    exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Mc", "Me", "Zl", "Zp"),
)


def _tidy(text: str) -> str:
    """Keep the length, but no blank ends (a server may trim) and no `[mock:` marker."""
    text = text.replace("[", "(")
    if text and not text[0].strip():
        text = "a" + text[1:]
    if text and not text[-1].strip():
        text = text[:-1] + "a"
    return text


def prompts(*, min_size: int | None = None, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Prompts of documented length: 3 to 5,000 characters by default."""
    facts = input_facts()
    low = facts.prompt_min if min_size is None else min_size
    high = facts.prompt_max if max_size is None else max_size
    return st.text(PROMPT_ALPHABET, min_size=low, max_size=high).map(_tidy)


def image_url_lists(*, base: str = DOCS_IMAGE_URL, min_size: int = 1,
                    max_size: int | None = None) -> st.SearchStrategy[list[str]]:
    high = input_facts().image_urls_max if max_size is None else max_size
    return st.lists(st.integers(0, 10_000).map(lambda n: f"{base}?v={n}"),
                    min_size=min_size, max_size=high)


def valid_inputs(*, image_url: str = DOCS_IMAGE_URL,
                 allow_omitted: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """The `input` object of a valid request (mode, aspect_ratio, resolution always given
    unless `allow_omitted`, image_urls with 1 to 8 URLs in image-to-image modes only)."""
    facts = input_facts()

    def for_mode(mode: str) -> st.SearchStrategy[dict[str, Any]]:
        required: dict[str, st.SearchStrategy[Any]] = {"mode": st.just(mode),
                                                         "prompt": prompts()}
        optional: dict[str, st.SearchStrategy[Any]] = {}
        enums = {"aspect_ratio": st.sampled_from(facts.aspect_ratios),
                 "resolution": st.sampled_from(facts.resolutions)}
        (optional if allow_omitted else required).update(enums)
        if facts.is_image_to_image(mode):
            required["image_urls"] = image_url_lists(base=image_url)
        return st.fixed_dictionaries(required, optional=optional)

    return st.sampled_from(facts.modes).flatmap(for_mode)


def valid_requests(*, image_url: str = DOCS_IMAGE_URL,
                   allow_omitted: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Valid async generation requests."""
    return st.fixed_dictionaries({"request_type": st.just("async"),
                                  "input": valid_inputs(image_url=image_url,
                                                        allow_omitted=allow_omitted)})


def _outside(members: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Strings no lenient server could take for a member (not even after case and trim)."""
    folded = {m.casefold() for m in members}
    return st.text(max_size=20).filter(lambda s: s.strip().casefold() not in folded)


def _not_a(kind: type) -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        st.text(max_size=5), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
    return scalars.filter(lambda v: not isinstance(v, kind))


def invalid_requests(*, image_url: str = DOCS_IMAGE_URL, omitted_rejected: bool = False,
                     i2i_urls_required: bool = False) -> st.SearchStrategy[tuple[str, Any]]:
    """(what is wrong, request) pairs: a valid request with exactly one documented rule broken."""
    facts = input_facts()
    i2i = st.sampled_from(facts.image_to_image_modes)

    def broken(draw: Any) -> tuple[str, Any]:
        payload: dict[str, Any] = draw(valid_requests(image_url=image_url))
        params = payload["input"]
        rules = ["short prompt", "long prompt", "enum", "too many image_urls", "missing",
                 "type", "callback without callback_url"]
        if omitted_rejected:
            rules.append("omitted field")
        if i2i_urls_required:
            rules.append("image-to-image without image_urls")
        rule = draw(st.sampled_from(rules))
        if rule == "short prompt":
            params["prompt"] = draw(prompts(min_size=0, max_size=facts.prompt_min - 1))
        elif rule == "long prompt":
            extra = draw(prompts(min_size=1, max_size=50))
            params["prompt"] = ("x" * facts.prompt_max + extra)[: facts.prompt_max + len(extra)]
        elif rule == "enum":
            name = draw(st.sampled_from(["mode", "aspect_ratio", "resolution", "request_type"]))
            members = {"mode": facts.modes, "aspect_ratio": facts.aspect_ratios,
                       "resolution": facts.resolutions, "request_type": facts.request_types}
            value = draw(_outside(members[name]))
            (payload if name == "request_type" else params)[name] = value
            rule = f"{name} {value!r}"
        elif rule == "too many image_urls":
            params["mode"] = draw(i2i)
            params["image_urls"] = draw(image_url_lists(
                base=image_url, min_size=facts.image_urls_max + 1,
                max_size=facts.image_urls_max + 4))
        elif rule == "missing":
            name = draw(st.sampled_from(["request_type", "input", "prompt"]))
            (params if name == "prompt" else payload).pop(name)
            rule = f"missing {name}"
        elif rule == "type":
            name = draw(st.sampled_from(["prompt", "input", "request_type", "image_urls"]))
            wanted = {"prompt": str, "input": dict, "request_type": str, "image_urls": list}
            value = draw(_not_a(wanted[name]))
            if name == "image_urls":
                # null could pass for "absent", which the Flux-2 page allows
                value = value if value is not None else 0
                params["mode"] = draw(i2i)
            (payload if name in ("input", "request_type") else params)[name] = value
            rule = f"{name} of the wrong type ({value!r})"
        elif rule == "callback without callback_url":
            payload["request_type"] = "callback"
        elif rule == "omitted field":
            name = draw(st.sampled_from(["mode", "aspect_ratio", "resolution"]))
            params.pop(name, None)
            if name == "mode":
                params.pop("image_urls", None)
        else:
            params["mode"] = draw(i2i)
            params.pop("image_urls", None)
        return rule, payload

    return st.composite(lambda draw: broken(draw))()
