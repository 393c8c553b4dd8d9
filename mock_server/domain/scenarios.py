"""Scenario control: the `X-Mock-Scenario` header and the `[mock:...]` prompt marker.

Grammar (DESIGN.md): tokens separated by `;`, each one of
`success` | `fail` | `fail:<FAIL_CODE>` | `stuck` | `pending=<ms>` | `processing=<ms>`;
callback chaos: `callback-delay=<ms>` | `callback-duplicate` | `callback-drop`;
server faults: `http=<status>` | `latency=<ms>` | `close` | `truncate` | `malformed`.
Each token is a row of TOKENS: adding a token is adding a row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

MARKER = re.compile(r"\[mock:([^\]]*)\]", re.IGNORECASE)
FAIL_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_DURATION_MS = 7 * 24 * 3600 * 1000
_DIGITS = re.compile(r"^[0-9]{1,12}$")


class ScenarioError(ValueError):
    """A scenario string that does not follow the grammar."""


@dataclass(frozen=True)
class Scenario:
    """What a submission asked the mock to do with its task; None means 'as the profile says'."""

    outcome: str | None = None
    fail_code: str | None = None
    pending_ms: int | None = None
    processing_ms: int | None = None
    callback_delay_ms: int | None = None
    callback_duplicate: bool | None = None
    callback_drop: bool | None = None
    http_status: int | None = None
    latency_ms: int | None = None
    fault: str | None = None

    @property
    def has_fault(self) -> bool:
        """Whether the request itself (not its task) is to be answered with a fault."""
        return self.http_status is not None or self.fault is not None \
            or self.latency_ms is not None

    def merged(self, other: Scenario) -> Scenario:
        """Return this scenario with every field `other` sets taking precedence."""
        changes = {f.name: getattr(other, f.name) for f in fields(other)}
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _duration(name: str, value: str | None) -> int:
    if value is None or not _DIGITS.match(value.strip()):  # isdigit() takes "²": int() not
        raise ScenarioError(f"scenario token {name}=<ms> needs a whole number of milliseconds, "
                            f"got {value!r}")
    ms = int(value)
    if ms > MAX_DURATION_MS:
        raise ScenarioError(f"scenario token {name}= must be at most {MAX_DURATION_MS} ms, "
                            f"got {ms}")
    return ms


def _no_value(name: str, value: str | None) -> None:
    if value is not None:
        raise ScenarioError(f"scenario token {name} takes no value, got {value!r}")


def _success(value: str | None) -> dict[str, Any]:
    _no_value("success", value)
    return {"outcome": "success"}


def _stuck(value: str | None) -> dict[str, Any]:
    _no_value("stuck", value)
    return {"outcome": "stuck"}


def _fail(value: str | None) -> dict[str, Any]:
    if value is None:
        return {"outcome": "failed"}
    if not FAIL_CODE.match(value):
        raise ScenarioError(f"scenario token fail:<FAIL_CODE> needs a code of letters, digits "
                            f"and underscores, got {value!r}")
    return {"outcome": "failed", "fail_code": value}


def _pending(value: str | None) -> dict[str, Any]:
    return {"pending_ms": _duration("pending", value)}


def _processing(value: str | None) -> dict[str, Any]:
    return {"processing_ms": _duration("processing", value)}


def _flag(name: str, field: str, value: Any = True) -> Callable[[str | None], dict[str, Any]]:
    def parse_flag(raw: str | None) -> dict[str, Any]:
        _no_value(name, raw)
        return {field: value}

    return parse_flag


def _http(value: str | None) -> dict[str, Any]:
    if value is None or not _DIGITS.match(value.strip()) or not 400 <= int(value) <= 599:
        raise ScenarioError(f"scenario token http=<status> needs an HTTP error status from 400 "
                            f"to 599, got {value!r}")
    return {"http_status": int(value)}


# token name -> parser of its value (after `:` or `=`) into Scenario fields
TOKENS: dict[str, Callable[[str | None], dict[str, Any]]] = {
    "success": _success,
    "fail": _fail,
    "stuck": _stuck,
    "pending": _pending,
    "processing": _processing,
    "callback-delay": lambda v: {"callback_delay_ms": _duration("callback-delay", v)},
    "callback-duplicate": _flag("callback-duplicate", "callback_duplicate"),
    "callback-drop": _flag("callback-drop", "callback_drop"),
    "http": _http,
    "latency": lambda v: {"latency_ms": _duration("latency", v)},
    "close": _flag("close", "fault", "close"),
    "truncate": _flag("truncate", "fault", "truncate"),
    "malformed": _flag("malformed", "fault", "malformed"),
}


def _split(token: str) -> tuple[str, str | None]:
    for sep in (":", "="):
        if sep in token:
            name, value = token.split(sep, 1)
            return name.strip().lower(), value.strip()
    return token.strip().lower(), None


def parse(text: str | None, *, source: str = "X-Mock-Scenario") -> Scenario:
    """Parse one scenario string; raise ScenarioError that names the offending token."""
    scenario_fields: dict[str, Any] = {}
    for raw in (text or "").split(";"):
        token = raw.strip()
        if not token:
            continue
        name, value = _split(token)
        if name not in TOKENS:
            known = ", ".join(sorted(TOKENS))
            raise ScenarioError(f"{source}: unknown scenario token {token!r} (known: {known})")
        try:
            parsed = TOKENS[name](value)
        except ScenarioError as exc:
            raise ScenarioError(f"{source}: {exc}") from None
        for exclusive in ("outcome", "fault"):
            if exclusive in parsed and exclusive in scenario_fields:
                raise ScenarioError(f"{source}: more than one {exclusive} token "
                                    f"({scenario_fields[exclusive]} and {parsed[exclusive]})")
        scenario_fields.update(parsed)
    return Scenario(**scenario_fields)


def from_prompt(prompt: str) -> Scenario:
    """Parse every `[mock:...]` marker in a prompt, later markers overriding earlier ones."""
    scenario = Scenario()
    for match in MARKER.finditer(prompt):
        scenario = scenario.merged(parse(match.group(1), source="[mock:] prompt marker"))
    return scenario


def strip_markers(prompt: str) -> str:
    """Return the prompt without its `[mock:...]` markers (what the image shows)."""
    return MARKER.sub("", prompt).strip()


def resolve(header: str | None, prompt: str) -> Scenario:
    """Return the scenario of a submission: the prompt marker, overridden by the header."""
    return from_prompt(prompt).merged(parse(header))
