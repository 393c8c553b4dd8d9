"""Test support for the proxy: serving a WSGI app on loopback, the proxy in-process or as
`flux2-mock proxy`, and a small client that polls as the docs advise (scaled)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from mock_server.config import load_settings
from mock_server.proxy import ProxyOptions, create_proxy_app
from tests.support.serve import DEFAULT_KEY, ServeProcess, auth

SUBMIT = "/api/v1/generateTask/flux-2"
STATUS = "/api/v1/statusTask/flux-2"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve a WSGI app on a free 127.0.0.1 port for the block; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def proxy_in_process(upstream: str, store: Path, *, public_url: bool | str | None = None,
                     settings: dict[str, Any] | None = None, **options: Any) -> Iterator[str]:
    """The proxy app (one process, real sockets) in front of `upstream`; yield its URL.

    `public_url=True` makes the proxy's own URL its public one (callbacks relayed).
    """
    holder: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    with served(app) as url:
        # Real time by default, as in front of the real API: the 3-minute limit and the
        # polling advice stay far from anything a busy test machine does.
        values = load_settings(overrides={"store": str(store), "profile": "realistic",
                                          **(settings or {})})
        public = url if public_url is True else (public_url or None)
        holder["app"] = create_proxy_app(ProxyOptions(upstream, public, **options), values)
        yield url


class ProxyProcess(ServeProcess):
    """`python -m mock_server proxy ...` as a real process, with ServeProcess's life cycle."""

    command = "proxy"


@contextmanager
def running(command: str, *args: str, env: dict[str, str] | None = None
            ) -> Iterator[ServeProcess]:
    """`flux2-mock <command> --port 0 ARGS` for the block, killed after whatever happens."""
    process = ProxyProcess(*args, env=env) if command == "proxy" else ServeProcess(*args, env=env)
    process.start(timeout=60.0)
    try:
        yield process
    finally:
        process.kill()


def proxying(*args: str, env: dict[str, str] | None = None) -> Any:
    return running("proxy", *args, env=env)


def serving(*args: str, env: dict[str, str] | None = None) -> Any:
    return running("serve", *args, env=env)


def submit(base: str, body: dict[str, Any], *, key: str = DEFAULT_KEY,
           scenario: str | None = None) -> requests.Response:
    headers = auth(key)
    if scenario:
        headers["X-Mock-Scenario"] = scenario
    return requests.post(base + SUBMIT, json=body, headers=headers, timeout=10)


def poll(base: str, task_id: str, *, key: str = DEFAULT_KEY) -> requests.Response:
    return requests.get(base + STATUS, params={"taskId": task_id}, headers=auth(key),
                        timeout=10)


def request_body(prompt: str = "A lighthouse at dusk, oil painting", **extra: Any
                 ) -> dict[str, Any]:
    return {"request_type": "async", **extra,
            "input": {"mode": "pro-text-to-image", "prompt": prompt, "aspect_ratio": "1:1",
                      "resolution": "1K"}}


def client_flow(base: str, bodies: list[dict[str, Any]], *, poll_at_s: list[float],
                scenario: str | None = None) -> list[list[tuple[int, Any]]]:
    """Submit each body, then poll every task at the given seconds after its submission.

    Returns, per task, every (HTTP status, JSON body) the client got, submit first.
    """
    seen: list[list[tuple[int, Any]]] = []
    for body in bodies:
        started = time.monotonic()
        answer = submit(base, body, scenario=scenario)
        answers = [(answer.status_code, answer.json())]
        task_id = (answer.json().get("data") or {}).get("taskId")
        for at in poll_at_s if task_id else []:
            time.sleep(max(0.0, started + at - time.monotonic()))
            got = poll(base, task_id)
            answers.append((got.status_code, got.json()))
        seen.append(answers)
    return seen


def client_flows(base: str, bodies: list[dict[str, Any]], *, poll_at_s: list[float]
                 ) -> list[list[tuple[int, Any]]]:
    """`client_flow` for each body at once (one thread each), answers in body order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda body: client_flow(base, [body], poll_at_s=poll_at_s)[0],
                             bodies))


def upstream_findings(base: str) -> dict[str, Any]:
    report: dict[str, Any] = requests.get(base + "/_mock/upstream", timeout=10).json()
    return report


def broken_rules(base: str) -> set[str]:
    return {f["rule"] for f in upstream_findings(base)["findings"]}
