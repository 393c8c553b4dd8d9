"""What a run is pointed at and how it reads the documentation's ambiguous points."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# The choices a user makes where the docs can be read more than one way (docs/contract-suite.md).
FAILURE_ENVELOPES = ("flux-2", "webhooks", "either")
OMITTED_FIELDS = ("either", "default", "reject")
I2I_IMAGE_URLS = ("either", "required", "optional")
FAIL_CODES = ("legacy", "current", "documented", "any")
HYPOTHESIS_PROFILES = ("dev", "ci", "live")
CADENCES = ("docs", "fast")
SUCCESS_MESSAGES = ("success", "any")
ERROR_CONTENT_TYPES = ("json", "any")
EXAMPLE_FIELDS = ("examples", "table")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


class UsageError(ValueError):
    """Options the suite cannot run with; the message says which and why."""


@dataclass(frozen=True)
class Cadence:
    """When to poll a task: first after `first_s`, then every `every_s`, giving up at `limit_s`."""

    first_s: float
    every_s: float
    limit_s: float = 180.0


DOCS_CADENCE = Cadence(15.0, 5.0)  # "Wait 15 seconds before first poll, then poll every 5 seconds"
FAST_CADENCE = Cadence(0.02, 0.05)


def is_loopback_host(host: str | None) -> bool:
    """Return whether a host name or address is this machine (127/8, ::1, localhost)."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname)


@dataclass(frozen=True)
class Options:
    """Everything one run needs; the base URL is the one place the target is chosen."""

    base_url: str
    api_key: str
    max_tasks: int | None = None
    max_spend: float | None = None
    seed: int = 0
    callback_url: str | None = None
    junitxml: str | None = None
    hypothesis_profile: str | None = None
    cadence: str | None = None
    select: tuple[str, ...] = ()
    failure_callback_envelope: str = "flux-2"
    omitted_fields: str = "either"
    i2i_image_urls: str = "either"
    fail_codes: str = "legacy"
    image_url: str = "https://example.com/input.jpg"
    scenarios: bool = True
    fetch_remote_results: bool = False
    request_timeout_s: float = 30.0
    callback_wait: float | None = None
    task_timeout: float = 180.0
    success_message: str = "success"
    error_content_type: str = "json"
    example_fields: str = "examples"
    terminal_watch: float | None = None
    terminal_polls: int = 4
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--base-url must be an absolute http(s) URL, got {self.base_url!r}")
        if parts.query or parts.fragment:
            raise UsageError("--base-url must not carry a query or fragment")
        if not self.api_key.strip():
            raise UsageError("--api-key must not be empty")
        for name, value, choices in (
            ("--failure-callback-envelope", self.failure_callback_envelope, FAILURE_ENVELOPES),
            ("--omitted-fields", self.omitted_fields, OMITTED_FIELDS),
            ("--i2i-image-urls", self.i2i_image_urls, I2I_IMAGE_URLS),
            ("--fail-codes", self.fail_codes, FAIL_CODES),
            ("--success-message", self.success_message, SUCCESS_MESSAGES),
            ("--error-content-type", self.error_content_type, ERROR_CONTENT_TYPES),
            ("--example-fields", self.example_fields, EXAMPLE_FIELDS),
        ):
            if value not in choices:
                raise UsageError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        if self.hypothesis_profile not in (None, *HYPOTHESIS_PROFILES):
            raise UsageError(f"--hypothesis-profile must be one of "
                             f"{', '.join(HYPOTHESIS_PROFILES)}")
        if self.cadence not in (None, *CADENCES):
            raise UsageError(f"--cadence must be one of {', '.join(CADENCES)}")
        if not 0 < self.task_timeout <= DOCS_CADENCE.limit_s:
            raise UsageError(f"--task-timeout must be above 0 and at most the documented "
                             f"{DOCS_CADENCE.limit_s:.0f} s")
        if self.terminal_watch is not None and self.terminal_watch < 0:
            raise UsageError("--terminal-watch must not be negative")
        if self.terminal_polls < 1:
            raise UsageError("--terminal-polls must be at least 1")
        if self.max_tasks is not None and self.max_tasks < 0:
            raise UsageError("--max-tasks must not be negative")
        if self.max_spend is not None and self.max_spend < 0:
            raise UsageError("--max-spend must not be negative")
        if self.callback_url and urlsplit(self.callback_url).scheme not in ("http", "https"):
            raise UsageError("--callback-url must be an absolute http(s) URL")

    @property
    def loopback(self) -> bool:
        """Whether the target is this machine (free, fast cadence) rather than a live API."""
        return is_loopback_url(self.base_url)

    @property
    def poll_cadence(self) -> Cadence:
        choice = self.cadence or ("fast" if self.loopback else "docs")
        cadence = FAST_CADENCE if choice == "fast" else DOCS_CADENCE
        return Cadence(cadence.first_s, cadence.every_s, self.task_timeout)

    @property
    def profile(self) -> str:
        return self.hypothesis_profile or ("dev" if self.loopback else "live")

    @property
    def task_cap(self) -> int | None:
        """The most tasks the run may create; a live target is capped small by default."""
        if self.max_tasks is not None:
            return self.max_tasks
        return None if self.loopback else LIVE_DEFAULT_MAX_TASKS

    @property
    def spend_cap(self) -> float | None:
        if self.max_spend is not None:
            return self.max_spend
        return None if self.loopback else LIVE_DEFAULT_MAX_SPEND

    @property
    def callback_wait_s(self) -> float:
        """How long to wait for a callback once its task is complete."""
        if self.callback_wait is not None:
            return self.callback_wait
        return 10.0 if self.loopback else 60.0

    @property
    def terminal_watch_s(self) -> float:
        """How long a finished task is still watched (several polls) to see that it stays so."""
        if self.terminal_watch is not None:
            return self.terminal_watch
        return 0.25 if self.poll_cadence.every_s < 1 else 4 * self.poll_cadence.every_s

    def selected(self, name: str) -> bool:
        return not self.select or any(s in name for s in self.select)


LIVE_DEFAULT_MAX_TASKS = 30
LIVE_DEFAULT_MAX_SPEND = 2.00
