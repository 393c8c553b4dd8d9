"""The proxy's commands: `flux2-mock proxy`, `flux2-mock calibrate`, and the parts of
`serve --replay` and `report --upstream` (mock_server/cli.py adds them to the group).

Kept light: nothing heavy is imported until a command runs.
"""

from __future__ import annotations

from typing import Any

import click


def _settings(options: dict[str, Any], *, default_profile: str | None = None) -> Any:
    from mock_server.config import load_settings
    from mock_server.settings import Settings, SettingsError

    config_file = options.pop("config_file", None)
    try:
        settings = load_settings(config_file=config_file, overrides=options)
        if default_profile and options.get("profile") is None \
                and settings.profile == Settings.profile:
            settings = settings.updated({"profile": default_profile}, source="proxy default")
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    return settings


@click.command()
@click.option("--upstream", required=True, metavar="URL",
              help="The API to forward to, e.g. https://api.apixo.ai (http or https only).")
@click.option("--public-url", metavar="URL",
              help="Where the upstream can reach this proxy: callback_url is rewritten to it, "
              "and callbacks are judged and forwarded. Without it callbacks pass untouched.")
@click.option("--max-spend", "max_spend_usd", type=float, metavar="USD",
              help="Refuse submits that would take the forwarded tasks' price past USD.")
@click.option("--record", "record_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write every exchange and task lifecycle under DIR (safe to commit).")
def proxy(upstream: str, public_url: str | None, max_spend_usd: float | None,
          record_dir: str | None, **options: Any) -> None:
    """Forward the API to an upstream, judging both sides, until SIGINT or SIGTERM."""
    from mock_server.proxy.options import ProxyOptionError, ProxyOptions
    from mock_server.proxy.server import serve_proxy

    try:
        proxy_options = ProxyOptions(upstream, public_url, max_spend_usd, record_dir)
    except ProxyOptionError as exc:
        raise click.UsageError(str(exc)) from None
    # The real API runs in real time: its conformance thresholds are the docs' own numbers.
    settings = _settings(options, default_profile="realistic")
    if "://" in settings.store:
        raise click.UsageError(f"--store {settings.store}: the proxy keeps its state in a "
                               f"SQLite file (or memory), not a database server")
    serve_proxy(settings, proxy_options)


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the sample draws shown.")
@click.option("--draws", type=int, default=1000, show_default=True,
              help="Draws from the recorded profile to summarise.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def calibrate(folder: str, seed: int, draws: int, as_json: bool) -> None:
    """Print a recording's timing and outcome distribution beside the `realistic` profile."""
    import json

    from mock_server.domain.recorded import RecordingError
    from mock_server.proxy.calibration import calibration, render_calibration

    try:
        found = calibration(folder, seed=seed, draws=draws)
    except RecordingError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(json.dumps(found, indent=2) if as_json else render_calibration(found))


def replay_serve(settings: Any, folder: str, fallback: str | None) -> None:
    """Serve the mock answering recorded tasks first (`serve --replay DIR`)."""
    from mock_server.domain.recorded import RecordingError
    from mock_server.proxy.replay import load_book
    from mock_server.proxy.server import serve_replay

    try:
        load_book(folder)  # a bad folder is a usage error now, not a worker crash later
    except RecordingError as exc:
        raise click.UsageError(str(exc)) from None
    serve_replay(settings, folder, fallback)


def upstream_report(base_url: str, *, admin_token: str | None, as_json: bool) -> int:
    """Print a proxy's upstream findings; return the exit code (1 on any breach)."""
    import json

    import requests

    from mock_server.proxy.findings import render_upstream

    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    url = base_url.rstrip("/") + "/_mock/upstream"
    try:
        response = requests.get(url, headers=headers, timeout=30)
        found = response.json()
    except (requests.RequestException, ValueError) as exc:
        click.echo(f"flux2-mock report: cannot read {url}: {exc}", err=True)
        return 2
    if response.status_code != 200 or "findings" not in found:
        click.echo(f"flux2-mock report: {url} answered {response.status_code}: "
                   f"{response.text[:300]}", err=True)
        return 2
    click.echo(json.dumps(found, indent=2) if as_json else render_upstream(found))
    return 0 if found["conformant"] else 1


__all__ = ["calibrate", "proxy", "replay_serve", "upstream_report"]
