"""`python -m contract_tests --base-url URL --api-key KEY [options]`: exit 0, 1, or 2."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

import click

from .options import (
    CADENCES,
    ERROR_CONTENT_TYPES,
    EXAMPLE_FIELDS,
    FAIL_CODES,
    FAILURE_ENVELOPES,
    HYPOTHESIS_PROFILES,
    I2I_IMAGE_URLS,
    OMITTED_FIELDS,
    SUCCESS_MESSAGES,
    Options,
    UsageError,
)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--base-url", envvar="FLUX2_BASE_URL",
              help="The target, e.g. http://127.0.0.1:8000 or https://api.apixo.ai "
                   "[env FLUX2_BASE_URL].")
@click.option("--api-key", envvar="FLUX2_API_KEY",
              help="A valid key for the target [env FLUX2_API_KEY].")
@click.option("--max-tasks", type=click.IntRange(min=0),
              help="Most tasks the run may create [default: 30 for a live target, none on "
                   "loopback].")
@click.option("--max-spend", type=click.FloatRange(min=0), metavar="USD",
              help="Most USD the run may spend, priced per submission [default: 2.00 for a "
                   "live target, none on loopback].")
@click.option("--seed", type=int, help="Reproduce a run (Hypothesis and every random choice).")
@click.option("--callback-url", help="A public URL that forwards to the local callback "
                                     "receiver (needed for callbacks from a live target).")
@click.option("--junitxml", type=click.Path(dir_okay=False), help="Write a JUnit XML report.")
@click.option("--html", "html", type=click.Path(dir_okay=False),
              help="Write an HTML report: every check, its sentence, verdict, evidence, curl.")
@click.option("--hypothesis-profile", type=click.Choice(HYPOTHESIS_PROFILES),
              help="Example counts [default: dev on loopback, live otherwise].")
@click.option("--cadence", type=click.Choice(CADENCES),
              help="Polling: docs (15 s, then every 5 s) or fast [default: fast on loopback].")
@click.option("--select", "select", multiple=True, metavar="TEXT",
              help="Run only checks whose name contains TEXT (repeatable).")
@click.option("--failure-callback-envelope", type=click.Choice(FAILURE_ENVELOPES),
              default="flux-2", show_default=True,
              help="Failure callback: 400/failed (Flux-2 page) or 200/success (webhooks page).")
@click.option("--omitted-fields", type=click.Choice(OMITTED_FIELDS), default="either",
              show_default=True, help="Omitted mode/aspect_ratio/resolution: default applies, "
                                      "rejected, or not checked.")
@click.option("--i2i-image-urls", type=click.Choice(I2I_IMAGE_URLS), default="either",
              show_default=True, help="image_urls in image-to-image modes.")
@click.option("--fail-codes", type=click.Choice(FAIL_CODES), default="legacy",
              show_default=True, help="The failCode vocabulary.")
@click.option("--image-url", default="https://example.com/input.jpg", show_default=True,
              help="Reference image URL sent in image-to-image requests.")
@click.option("--scenarios/--no-scenarios", default=True, show_default=True,
              help="Ask for failed, slow and stuck tasks with X-Mock-Scenario.")
@click.option("--fetch-remote-results", is_flag=True,
              help="Fetch result URLs off loopback even when the target is on loopback.")
@click.option("--success-message", type=click.Choice(SUCCESS_MESSAGES), default="success",
              show_default=True, help='message of code 200 envelopes: the examples\' "success" '
                                      "or any string.")
@click.option("--error-content-type", type=click.Choice(ERROR_CONTENT_TYPES), default="json",
              show_default=True, help="Content-Type of error answers: JSON, or not judged.")
@click.option("--example-fields", type=click.Choice(EXAMPLE_FIELDS), default="examples",
              show_default=True, help="Status fields required in each state: those every "
                                      "example shows, or only the Response Fields table's.")
@click.option("--terminal-watch", type=click.FloatRange(min=0), metavar="SECONDS",
              help="How long a finished task is still polled to see it stay finished "
                   "[default: 0.25 on loopback, 4 polling intervals (20 s) otherwise].")
@click.option("--terminal-polls", type=click.IntRange(min=1), default=4, show_default=True,
              help="How many polls watch a finished task over --terminal-watch.")
@click.option("--callback-wait", type=click.FloatRange(min=0), metavar="SECONDS",
              help="How long to wait for a callback after completion [default: 10 / 60].")
@click.option("--task-timeout", type=float, default=180.0, show_default=True,
              metavar="SECONDS", help="Give up on a task after this long (at most the "
                                      "documented 3 minutes).")
@click.option("--list", "list_only", is_flag=True, help="List the checks and exit.")
def main(**values: Any) -> None:
    """Check a Flux-2 server against every documented statement."""
    from . import report
    from .progress import for_stderr
    from .runner import run

    list_only = values.pop("list_only")
    html = values.pop("html")
    junit = values.get("junitxml")
    if values["seed"] is None:
        values["seed"] = random.SystemRandom().randrange(2**31)
    values["select"] = tuple(values["select"])
    if list_only:  # listing contacts no target: it needs neither
        values["base_url"] = values["base_url"] or "http://127.0.0.1:8000"
        values["api_key"] = values["api_key"] or "unused"
    for name, env in (("base_url", "FLUX2_BASE_URL"), ("api_key", "FLUX2_API_KEY")):
        if not values[name]:
            flag = "--" + name.replace("_", "-")
            raise click.UsageError(f"Missing option '{flag}' (or env {env}).")
    try:
        options = Options(**values)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    if list_only:
        from . import runner  # noqa: F401  (registers the checks)
        from .registry import CHECKS

        for spec in CHECKS.values():
            if options.selected(spec.name):
                reading = f" (reading: --{spec.reading.replace('_', '-')})" \
                    if spec.reading else ""
                click.echo(f"{spec.name}  [{spec.section}]{reading} {spec.quote}")
        return
    click.echo(f"flux2 contract suite -> {options.base_url} (seed {options.seed}, "
               f"{'loopback' if options.loopback else 'live'} target, "
               f"cadence {options.cadence or ('fast' if options.loopback else 'docs')})")
    try:
        result = run(options, log=click.echo, progress=for_stderr())
    except UsageError as exc:
        click.echo(f"refusing to start: {exc}", err=True)
        sys.exit(2)
    click.echo(report.render(result))
    if junit:
        Path(junit).write_bytes(report.junit_xml(result))
    if html:
        from .html_report import render_html

        Path(html).write_text(render_html(result), encoding="utf-8")
    sys.exit(0 if result.ok else 1)


def entry() -> None:
    """Run the command; click's usage errors exit 2."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main()
