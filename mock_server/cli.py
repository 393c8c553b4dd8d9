"""The `flux2-mock` command."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any, NoReturn

import click

from mock_server import __version__
from mock_server.config import load_settings
from mock_server.domain.profiles import profile_names
from mock_server.settings import SettingsError


class ProfileName(click.ParamType):
    """A built-in profile's name, or `recorded:DIR` (docs/proxy-and-replay.md)."""

    name = "profile"

    def get_metavar(self, param: click.Parameter, *args: Any, **kwargs: Any) -> str:
        return "[" + "|".join(profile_names()) + "|recorded:DIR]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if str(value) in profile_names() or str(value).startswith("recorded:"):
            return str(value)
        self.fail(f"{value!r} is not one of {', '.join(profile_names())} or recorded:DIR",
                  param, ctx)


@click.group()
@click.version_option(__version__, prog_name="flux2-mock")
def main() -> None:
    """A mock server for the Flux-2 image-generation API."""


@main.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML file of settings (keys as in docs/configuration.md).")
@click.option("--host", help="Address to bind. [default: 127.0.0.1]")
@click.option("--port", type=int, help="Port to bind; 0 picks a free one. [default: 8000]")
@click.option("--workers", type=int, help="Worker processes. [default: 2]")
@click.option("--profile", type=ProfileName(),
              help="Timing profile, or recorded:DIR to draw from a recording. [default: fast]")
@click.option("--pending-ms", type=int, help="Fixed time every task spends pending.")
@click.option("--processing-ms", type=int, help="Fixed time every task spends processing.")
@click.option("--seed", type=int, help="Seed for task ids, timings and outcomes.")
@click.option("--store", help="SQLite file, 'memory' for a throwaway run, or a "
              "postgresql://user@host:port/db URL that several servers share.")
@click.option("--api-key", "api_keys", multiple=True, help="Accepted API key (repeatable).")
@click.option("--failure-rate", type=float, help="Share of tasks that fail, 0 to 1. [default: 0]")
@click.option("--access-log/--no-access-log", default=None, help="Log one line per request.")
@click.option("--plan", "key_plans", multiple=True, metavar="KEY=PLAN",
              help="Rate-limit plan of a key: free, pro or unlimited (repeatable).")
@click.option("--balance", "key_balances", multiple=True, metavar="KEY=USD",
              help="Starting credit balance of a key, or 'unlimited' (repeatable).")
@click.option("--fault-rate", type=float,
              help="Share of API requests answered with a server fault, 0 to 1. [default: 0]")
@click.option("--admin-token", help="Bearer token the control plane /_mock/ requires; "
              "needed when --host is not a loopback address.")
@click.option("--callback-exempt-hosts", "conformance_callback_exempt_hosts", multiple=True,
              metavar="HOSTS",
              help="Callback hosts the conformance report does not flag as unreachable or "
                   "plain http: 'loopback', names, IPs or CIDRs (repeatable).")
@click.option("--result-url-ttl-s", type=int,
              help="Seconds a result URL lives (then 410, and result-never-downloaded may "
                   "fire). [default: 86400]")
@click.option("--fresh", is_flag=True, expose_value=False,
              callback=lambda ctx, _param, value: ctx.meta.__setitem__("fresh", value),
              help="Start from an empty store: forget earlier tasks, journal, callbacks and "
                   "the clock offset.")
@click.option("--replay", "replay_dir", type=click.Path(file_okay=False, exists=True),
              help="Answer recorded tasks from this recording folder (flux2-mock proxy "
              "--record), on their recorded timelines.")
@click.option("--replay-fallback", type=click.Choice(["plan"]),
              help="With --replay: plan an unmatched request as usual instead of a 404.")
def serve(**options: Any) -> None:
    """Serve the mock API until SIGINT or SIGTERM."""
    from mock_server.serving.preflight import SharedStoreError, port_problem, prepare_store
    from mock_server.serving.server import serve as run_server
    from mock_server.storage import StorageUnavailable

    replay_dir, fallback = options.pop("replay_dir"), options.pop("replay_fallback")
    if fallback and not replay_dir:
        raise click.UsageError("--replay-fallback needs --replay DIR")
    config_file = options.pop("config_file")
    fresh = bool(click.get_current_context().meta.get("fresh"))  # not a setting: one start's
    for name in ("api_keys", "key_plans", "key_balances", "conformance_callback_exempt_hosts"):
        if not options[name]:  # an empty repeatable flag must not replace the config's list
            options.pop(name)
    try:
        settings = load_settings(config_file=config_file, overrides=options)
    except SettingsError as exc:
        fail(str(exc), "flux2-mock serve --help lists the options; docs/configuration.md "
             "the settings.")
    problem = port_problem(settings.host, settings.port)
    if problem:
        fail(problem)
    if replay_dir:
        from mock_server.proxy.cli import replay_serve

        replay_serve(settings, replay_dir, fallback)
        return
    try:
        contents = prepare_store(settings, fresh=fresh)
    except SharedStoreError as exc:
        fail(str(exc))
    except StorageUnavailable as exc:
        fail(str(exc), "Pass --store PATH (a writable SQLite file) or --store memory.")
    except (OSError, sqlite3.Error) as exc:
        fail(f"cannot use store {settings.store_path}: {exc}",
             "Pass --store PATH (a writable SQLite file) or --store memory.")
    run_server(settings, contents)


def fail(problem: str, fix: str = "") -> NoReturn:
    """Print a problem (and its fix) in a line or two, no traceback, and exit 2."""
    click.echo(f"flux2-mock: {problem}", err=True)
    if fix:
        click.echo(f"  {fix}", err=True)
    sys.exit(2)


@main.command()
@click.option("--store", envvar="FLUX2_MOCK_STORE", required=True,
              help="The postgresql://user@host:port/db URL to migrate.")
def migrate(store: str) -> None:
    """Bring a PostgreSQL store's schema up to date (serve does this on start too)."""
    from mock_server.storage.postgres import StoreError, is_postgres_dsn
    from mock_server.storage.postgres import migrate as apply

    if not is_postgres_dsn(store):
        raise click.UsageError("--store must be a postgresql:// URL: SQLite files need no "
                               "migration")
    try:
        applied = apply(store)
    except StoreError as exc:
        click.echo(f"flux2-mock: {exc}", err=True)
        sys.exit(2)
    click.echo(f"applied schema versions {', '.join(map(str, applied))}" if applied
               else "schema up to date")


@main.command()
@click.option("--base-url", required=True, help="Where the mock runs, e.g. http://127.0.0.1:8000.")
@click.option("--api-key", help="Report on this API key only. [default: every key]")
@click.option("--admin-token", envvar="FLUX2_MOCK_ADMIN_TOKEN",
              help="The control plane's admin token, when it needs one.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--upstream", "upstream", is_flag=True,
              help="Print a proxy's upstream findings instead; exit 1 on any breach.")
def report(base_url: str, api_key: str | None, admin_token: str | None, as_json: bool,
           upstream: bool) -> None:
    """Print the conformance report; exit 1 when any error-severity rule is broken (for CI)."""
    import json

    if upstream:
        from mock_server.proxy.cli import upstream_report

        sys.exit(upstream_report(base_url, admin_token=admin_token, as_json=as_json))

    from mock_server.conformance.evaluation import render_table
    from mock_server.conformance.report import ReportUnavailable, fetch_report, fetch_spend

    check_reachable(base_url)
    try:
        found = fetch_report(base_url, api_key=api_key, admin_token=admin_token)
    except ReportUnavailable as exc:
        fail(f"report: {exc}")
    spend = fetch_spend(base_url, api_key=api_key, admin_token=admin_token)
    if as_json:
        click.echo(json.dumps({**found, "spend": spend}, indent=2))
    else:
        if spend is not None:  # first: the table ends with the verdict
            click.echo(f"spend: ${spend['totalUsd']:.2f} for {spend['taskCount']} tasks: what the "
                       f"real API would have charged (saved by the mock)")
        click.echo(render_table(found))
    sys.exit(0 if found["conformant"] else 1)


def check_reachable(base_url: str) -> None:
    """Exit 2 with what to do when nothing answers at `base_url` (a stopped mock)."""
    import requests

    try:
        requests.get(base_url.rstrip("/") + "/_mock/health", timeout=10)
    except requests.exceptions.InvalidURL:
        fail(f"report: {base_url!r} is not a URL.", "Pass --base-url http://127.0.0.1:8000.")
    except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        fail(f"report: {base_url!r} is not an http URL.",
             "Pass --base-url http://127.0.0.1:8000.")
    except requests.ConnectionError:
        fail(f"report: cannot reach {base_url.rstrip('/')}/_mock/conformance: nothing answers "
             f"there (is the mock stopped?).",
             "Start it with `make run` (or .venv/bin/flux2-mock serve), or pass the "
             "--base-url it prints.")
    except requests.Timeout:
        fail(f"report: {base_url} did not answer within 10 s.",
             "Check that the mock there is running and not stopped in a debugger.")


def _add_proxy_commands() -> None:
    """`proxy` (with the serving options of `serve`) and `calibrate` (docs/proxy-and-replay.md)."""
    import copy

    from mock_server.proxy.cli import calibrate, proxy

    shared = ("config_file", "host", "port", "workers", "profile", "store", "access_log",
              "admin_token")
    params = [copy.copy(p) for p in serve.params if p.name in shared]
    for param in params:
        if param.name == "profile" and isinstance(param, click.Option):
            # For the proxy the profile is the upstream's speed: the real API's by default.
            param.help = "The upstream's speed, for conformance thresholds and callback " \
                         "retries. [default: realistic]"
    proxy.params[:0] = params
    main.add_command(proxy)
    main.add_command(calibrate)


_add_proxy_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
