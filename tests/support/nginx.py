"""Debian's nginx as a round-robin balancer in front of loopback upstreams, for tests.

Everything nginx writes (pid, logs, temp files) stays under its own temporary
prefix: no root-owned default path is touched. `.ci/run` installs `nginx`.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import requests

from .postgres import free_port

CONFIG = """\
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream mocks {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://mocks;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""


def find_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if found is None:
        raise RuntimeError("nginx is not installed: apt-get install -y nginx (.ci/run does this)")
    return found


class Balancer:
    """One nginx process, round-robin over `upstreams` (host:port), on a free loopback port."""

    def __init__(self, upstreams: Sequence[str]) -> None:
        self.prefix = Path(tempfile.mkdtemp(prefix="flux2-nginx-"))
        self.port = free_port()
        servers = "\n".join(f"        server {u} max_fails=0;" for u in upstreams)
        (self.prefix / "nginx.conf").write_text(
            CONFIG.format(prefix=self.prefix, servers=servers, port=self.port))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> Balancer:
        # -e: the error log before the config is read (else /var/log/nginx/error.log).
        self.proc = subprocess.Popen(
            [find_nginx(), "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
             "-e", str(self.prefix / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited:\n" + self.error_log())
            try:
                requests.get(self.base_url + "/_mock/health", timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start:\n" + self.error_log())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def error_log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.prefix / "error.log").read_text(errors="replace")[-4000:]
        return ""

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)


@contextlib.contextmanager
def balancing(upstreams: Sequence[str]) -> Iterator[Balancer]:
    """nginx in front of `upstreams` for the block, stopped and removed after."""
    balancer = Balancer(upstreams)
    try:
        yield balancer.start()
    finally:
        balancer.destroy()
