"""What `flux2-mock serve` prints once it listens: where, which key, the dashboard, the store."""

from __future__ import annotations

from dataclasses import dataclass

from mock_server import __version__
from mock_server.settings import Settings


@dataclass(frozen=True)
class StoreContents:
    """What a store held when the server started: tasks from earlier runs and the clock offset."""

    tasks: int
    offset_ms: int

    @property
    def empty(self) -> bool:
        return self.tasks == 0 and self.offset_ms == 0


def url_of(host: str, port: int) -> str:
    """Return the base URL of a server bound to `host` and `port`."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def store_note(contents: StoreContents) -> list[str]:
    """Say what an earlier run left in the store, and how to start clean; nothing if empty."""
    if contents.empty:
        return []
    held = []
    if contents.tasks:
        held.append(f"{contents.tasks} task{'s' if contents.tasks != 1 else ''} "
                    f"from earlier runs (answered as before)")
    if contents.offset_ms:
        held.append(f"the clock {contents.offset_ms / 1000:g} s ahead of real time "
                    f"(advanced earlier)")
    return [f"  the store holds {' and '.join(held)}",
            "  start clean: restart with --fresh, or POST /_mock/reset"]


def banner(settings: Settings, port: int, store_label: str,
           contents: StoreContents | None = None) -> str:
    """Return the start banner: the URL first (tests and scripts read it), then how to use it."""
    url = url_of(settings.host, port)
    lines = [f"flux2-mock {__version__} serving {url}",
             f"  API key: {', '.join(settings.api_keys)}",
             f"  profile: {settings.profile}  store: {store_label}  workers: {settings.workers}",
             f"  dashboard: {url}/_mock/ui",
             *store_note(contents or StoreContents(0, 0)),
             "  stop: Ctrl-C"]
    return "\n".join(lines)
