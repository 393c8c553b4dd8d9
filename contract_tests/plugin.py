"""The pytest face of the suite: `pytest --pyargs contract_tests --flux2-base-url URL ...`.

Registered as a pytest11 plugin so that its options exist before collection; it only adds
options and does nothing unless contract_tests' own tests are collected. Options:
--flux2-base-url / --flux2-api-key (or env FLUX2_BASE_URL / FLUX2_API_KEY) and the same
choices as the command line, prefixed --flux2-. One test per documented statement.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from . import options as choices
from .options import Options, UsageError

RESULT_KEY = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flux2", "Flux-2 contract suite")
    group.addoption("--flux2-base-url", default=os.environ.get("FLUX2_BASE_URL"),
                    help="the target's base URL [env FLUX2_BASE_URL]")
    group.addoption("--flux2-api-key", default=os.environ.get("FLUX2_API_KEY"),
                    help="a valid API key for the target [env FLUX2_API_KEY]")
    group.addoption("--flux2-max-tasks", type=int, default=None)
    group.addoption("--flux2-max-spend", type=float, default=None, metavar="USD")
    group.addoption("--flux2-seed", type=int, default=None)
    group.addoption("--flux2-callback-url", default=None)
    group.addoption("--flux2-select", action="append", default=[])
    group.addoption("--flux2-hypothesis-profile", choices=choices.HYPOTHESIS_PROFILES, default=None)
    group.addoption("--flux2-failure-callback-envelope", choices=choices.FAILURE_ENVELOPES,
                    default="flux-2")
    group.addoption("--flux2-omitted-fields", choices=choices.OMITTED_FIELDS, default="either")
    group.addoption("--flux2-i2i-image-urls", choices=choices.I2I_IMAGE_URLS, default="either")
    group.addoption("--flux2-fail-codes", choices=choices.FAIL_CODES, default="legacy")
    group.addoption("--flux2-no-scenarios", action="store_true", default=False)
    group.addoption("--flux2-cadence", choices=choices.CADENCES, default=None)
    group.addoption("--flux2-image-url", default="https://example.com/input.jpg")
    group.addoption("--flux2-task-timeout", type=float, default=180.0, metavar="SECONDS")
    group.addoption("--flux2-fetch-remote-results", action="store_true", default=False)
    group.addoption("--flux2-success-message", choices=choices.SUCCESS_MESSAGES,
                    default="success")
    group.addoption("--flux2-error-content-type", choices=choices.ERROR_CONTENT_TYPES,
                    default="json")
    group.addoption("--flux2-example-fields", choices=choices.EXAMPLE_FIELDS,
                    default="examples")
    group.addoption("--flux2-terminal-watch", type=float, default=None, metavar="SECONDS")
    group.addoption("--flux2-terminal-polls", type=int, default=4)
    group.addoption("--flux2-html", default=None, metavar="PATH",
                    help="write the suite's HTML report (every check, evidence, curl)")


def options_from(config: pytest.Config) -> Options:
    """Build the run's Options from the command line; a missing URL or key is a usage error."""
    get = config.getoption
    if not get("flux2_base_url") or not get("flux2_api_key"):
        raise pytest.UsageError("the contract suite needs --flux2-base-url and --flux2-api-key "
                                "(or env FLUX2_BASE_URL and FLUX2_API_KEY)")
    seed = get("flux2_seed")
    try:
        return Options(
            base_url=get("flux2_base_url"), api_key=get("flux2_api_key"),
            max_tasks=get("flux2_max_tasks"), max_spend=get("flux2_max_spend"),
            seed=random.SystemRandom().randrange(2**31) if seed is None else seed,
            callback_url=get("flux2_callback_url"), select=tuple(get("flux2_select")),
            hypothesis_profile=get("flux2_hypothesis_profile"),
            failure_callback_envelope=get("flux2_failure_callback_envelope"),
            omitted_fields=get("flux2_omitted_fields"),
            i2i_image_urls=get("flux2_i2i_image_urls"), fail_codes=get("flux2_fail_codes"),
            scenarios=not get("flux2_no_scenarios"), cadence=get("flux2_cadence"),
            image_url=get("flux2_image_url"), task_timeout=get("flux2_task_timeout"),
            fetch_remote_results=get("flux2_fetch_remote_results"),
            success_message=get("flux2_success_message"),
            error_content_type=get("flux2_error_content_type"),
            example_fields=get("flux2_example_fields"),
            terminal_watch=get("flux2_terminal_watch"), terminal_polls=get("flux2_terminal_polls"),
        )
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def _runs_suite(config: pytest.Config) -> bool:
    return any(str(arg).split("::")[0].replace("/", ".").rstrip(".").startswith(
        "contract_tests") for arg in config.args)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RESULT_KEY] = None
    if _runs_suite(config):
        options_from(config)  # fail fast, before collection, on a bad command line


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "statement" in metafunc.fixturenames:
        from . import runner  # noqa: F401  (registers every check)
        from .registry import CHECKS

        options = options_from(metafunc.config)
        names = [n for n in CHECKS if options.selected(n)]
        metafunc.parametrize("statement", names, ids=names)


class _ReporterStream:
    """Progress lines through pytest's terminal, past its capture of the fixture's output."""

    def __init__(self, config: pytest.Config, reporter: Any) -> None:
        self.reporter = reporter
        self.capture = config.pluginmanager.get_plugin("capturemanager")

    def write(self, text: str) -> int:
        self.say(text.rstrip("\n"))
        return len(text)

    def say(self, line: str) -> None:
        """Write one line of its own (after the test's dots, if any)."""
        if self.capture is None:
            self.reporter.write_line(line)
        else:
            with self.capture.global_and_fixture_disabled():
                self.reporter.write_line(line)

    def flush(self) -> None:
        pass


@pytest.fixture(scope="session")
def contract_run(request: pytest.FixtureRequest) -> Any:
    """Run the whole suite once against the target; each test reads its statement's row."""
    from .progress import Lines
    from .runner import run

    config = request.config
    options = options_from(config)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    stream = _ReporterStream(config, reporter) if reporter else None
    try:
        result = run(options, log=stream.say if stream else None,
                     progress=Lines(stream) if stream else None)
    except UsageError as exc:
        pytest.exit(f"refusing to start: {exc}", returncode=2)
    config.stash[RESULT_KEY] = result
    if config.getoption("flux2_html"):
        from pathlib import Path

        from .html_report import render_html

        Path(config.getoption("flux2_html")).write_text(render_html(result), encoding="utf-8")
    return result


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    from . import report

    result = config.stash.get(RESULT_KEY, None)
    if result is None:
        return
    terminalreporter.section("Flux-2 contract")
    terminalreporter.write_line(report.render(result))
