"""Two `flux2-mock serve` instances on one PostgreSQL database, nginx round-robin in front."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from tests.support.nginx import Balancer, balancing
from tests.support.serve import ServeProcess

FAST_RETRIES = {"FLUX2_MOCK_CALLBACK_RETRY_S": "0.2,0.2,0.2",
                "FLUX2_MOCK_CALLBACK_TIMEOUT_S": "1"}


@dataclass
class Cluster:
    """The instances and the balancer's address."""

    instances: list[ServeProcess]
    balancer: Balancer

    @property
    def url(self) -> str:
        return self.balancer.base_url


class PatientServe(ServeProcess):
    """ServeProcess that waits out a slow first answer (a loaded machine) instead of failing.

    ServeProcess.start polls /_mock/health with a 2 s read time-out and lets a
    ReadTimeout escape; the server is up by then, merely slow to answer.
    """

    def start(self, timeout: float = 60.0) -> PatientServe:
        try:
            super().start(timeout)
            return self
        except requests.ReadTimeout:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    if requests.get(self.url("/_mock/health"), timeout=10).ok:
                        return self
                except requests.RequestException:
                    time.sleep(0.2)
            self.kill()
            raise


def instance(dsn: str, args: Sequence[str], env: dict[str, str] | None) -> ServeProcess:
    return PatientServe("--workers", "2", *args, store=dsn, env=env).start()


@contextmanager
def cluster(dsn: str, *args: str, env: dict[str, str] | None = None,
            count: int = 2) -> Iterator[Cluster]:
    """Start `count` instances on `dsn` and nginx before them; stop everything after."""
    with ExitStack() as stack:
        servers: list[ServeProcess] = []
        for _ in range(count):
            server = instance(dsn, args, env)
            stack.callback(server.kill)
            servers.append(server)
        upstreams = [urlsplit(s.base_url).netloc for s in servers]
        yield Cluster(servers, stack.enter_context(balancing(upstreams)))


def route_count(base_url: str, route: str, method: str = "GET", status: int = 200,
                *, scope: str | None = None) -> int:
    """Return one instance's count of answered requests of a route (its /_mock/metrics)."""
    params = {"instances": scope} if scope else {}
    text = requests.get(f"{base_url}/_mock/metrics", params=params, timeout=10).text
    labels = f'route="{re.escape(route)}",method="{method}",status="{status}"'
    pattern = re.compile(r"^flux2_mock_requests_total\{" + labels + r"\} (\d+)$", re.M)
    match = pattern.search(text)
    return int(match.group(1)) if match else 0
