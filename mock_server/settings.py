"""The mock's settings: defaults, then a TOML config file, then FLUX2_MOCK_* env, then flags.

Every ambiguous point of the documentation is a setting here, with the Flux-2
page's reading as the default (docs/assumptions.md lists them).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from mock_server.domain.scenarios import FAIL_CODE

ENV_PREFIX = "FLUX2_MOCK_"
DEFAULT_API_KEY = "flux2-mock-key"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "flux2-mock"


_CHOICES: dict[str, tuple[str, ...]] = {
    "fail_code_vocabulary": ("legacy", "current"),
    "failure_callback_envelope": ("flux-2", "webhooks"),
    "error_status": ("http", "200"),
    "callback_dispatch": ("auto", "thread", "manual"),
    "insufficient_credits_form": ("402", "400", "task"),
}


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # any other name may resolve anywhere


class SettingsError(ValueError):
    """A setting with a value it cannot take; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """Everything a user can set. Field names are the config-file keys and env suffixes."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    profile: str = "fast"
    pending_ms: int | None = None
    processing_ms: int | None = None
    seed: int | None = None
    store: str = ""
    failure_rate: float = 0.0
    fail_code_vocabulary: str = "legacy"
    # The failCodes failure_rate draws from; empty = the vocabulary's list in fail_codes.json.
    fail_codes: tuple[str, ...] = ()
    failure_callback_envelope: str = "flux-2"
    strict_required: bool = False
    model_aliases: tuple[str, ...] = ()
    result_url_ttl_s: int = 86_400
    max_body_bytes: int = 1_048_576
    error_status: str = "http"
    access_log: bool = False
    # The paid part (docs/paid-and-faults.md): plans and balances per key as KEY=VALUE,
    # the form an exhausted balance takes, and server faults drawn at a rate under `seed`.
    key_plans: tuple[str, ...] = ()
    default_plan: str = "unlimited"
    key_balances: tuple[str, ...] = ()
    default_balance: float | None = None
    insufficient_credits_form: str = "402"
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = ("http=500", "http=503", "close", "truncate", "malformed")
    # The control plane under /_mock/ (docs/control-plane.md): open on loopback unless a token
    # is set; bound to any other address a token is required.
    admin_token: str = ""
    # Callbacks (docs/callbacks.md): hosts the sender may reach ('loopback', names, IPs or
    # CIDRs; empty = any), and whether submit rejects loopback/private callback URLs.
    callback_allowed_hosts: tuple[str, ...] = ()
    callback_reject_private: bool = False
    # Seconds between delivery attempts and per attempt (default: the profile's; `realistic`
    # is apixo's 30,120,600 and 30 s), retries before a delivery is abandoned, and whether a
    # background thread delivers (`auto`: unless the clock is virtual) or tests call
    # `dispatcher.deliver_due()` (`manual`).
    callback_retry_s: tuple[str, ...] | None = None
    callback_timeout_s: float | None = None
    callback_max_retries: int = 3
    callback_dispatch: str = "auto"
    # Conformance report (docs/conformance.md): the docs' numbers in real seconds, scaled by
    # the timing profile's time_scale unless conformance_time_scale is set.
    conformance_time_scale: float | None = None
    conformance_first_poll_s: float = 15.0
    conformance_poll_interval_s: float = 5.0
    conformance_max_wait_s: float = 180.0
    conformance_repolls_allowed: int = 1
    conformance_callback_timeout_s: float = 30.0
    conformance_requests_per_minute: int = 0
    conformance_max_in_flight: int = 0
    conformance_callback_exempt_hosts: tuple[str, ...] = ()
    journal_flush_ms: int = 150
    journal_max_entries: int = 100_000
    # Retention under `flux2-mock serve` (mock_server/serving/retention.py); 0 keeps forever.
    retention_s: int = 129_600
    retention_max_tasks: int = 1_000_000

    def __post_init__(self) -> None:
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise SettingsError(f"{name} must be one of {', '.join(choices)}, "
                                    f"got {getattr(self, name)!r}")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise SettingsError(f"failure_rate must be between 0 and 1, got {self.failure_rate}")
        if not self.api_keys or any(not k.strip() for k in self.api_keys):
            raise SettingsError("api_keys must hold at least one non-empty key")
        bad_codes = [c for c in self.fail_codes if not FAIL_CODE.match(c)]
        if bad_codes:
            raise SettingsError(f"fail_codes must be letters, digits and underscores starting "
                                f"with a letter, got {bad_codes[0]!r}")
        if not self.admin_token and not is_loopback(self.host):
            raise SettingsError(
                f"host {self.host} is not a loopback address, so the control plane under "
                "/_mock/ needs an admin token: set admin_token (--admin-token or "
                "FLUX2_MOCK_ADMIN_TOKEN), or bind 127.0.0.1")
        if self.admin_token and self.admin_token in self.api_keys:
            raise SettingsError("admin_token must differ from every API key")
        for name in ("port", "workers", "result_url_ttl_s", "max_body_bytes",
                     "conformance_first_poll_s", "conformance_poll_interval_s",
                     "conformance_max_wait_s", "conformance_repolls_allowed",
                     "conformance_callback_timeout_s", "conformance_requests_per_minute",
                     "conformance_max_in_flight", "journal_flush_ms", "journal_max_entries",
                     "retention_s", "retention_max_tasks"):
            if getattr(self, name) < 0 or (name == "workers" and self.workers < 1):
                raise SettingsError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def store_path(self) -> str:
        """The SQLite file, `memory`, or the default file under the state directory."""
        return self.store or str(default_state_dir() / "tasks.sqlite3")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, values: Mapping[str, Any], *, source: str) -> Settings:
        """Return a copy with `values` applied, coerced to each field's type."""
        hints = get_type_hints(Settings)
        names = {f.name for f in fields(Settings)}
        changes: dict[str, Any] = {}
        for key, raw in values.items():
            name = key.replace("-", "_")
            if name not in names:
                raise SettingsError(f"{source}: unknown setting {key!r}")
            changes[name] = _coerce(name, hints[name], raw, source)
        try:
            return replace(self, **changes)
        except SettingsError as exc:
            raise SettingsError(f"{source}: {exc}") from None


def _coerce(name: str, hint: Any, raw: Any, source: str) -> Any:
    text = str(hint)
    try:
        if raw is None:
            return None
        if "tuple" in text:
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(i).strip() for i in items if str(i).strip())
        if "bool" in text:
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).strip().lower()
            if lowered not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError
            return lowered in ("1", "true", "yes", "on")
        if "int" in text:
            if isinstance(raw, str) and raw.strip() == "" and "None" in text:
                return None
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(raw)
        if "float" in text:
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{source}: {name} must be {_KIND_WORDS[_kind(text)]}, "
                            f"got {raw!r}") from None


# How a field's type reads in an error a person sees (not "<class 'int'>").
_KIND_WORDS = {"bool": "true or false", "int": "a whole number", "float": "a number",
               "str": "text"}


def _kind(hint_text: str) -> str:
    return next((k for k in ("bool", "int", "float") if k in hint_text), "str")
