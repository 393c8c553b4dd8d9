"""docs/control-plane.md stays true: its examples run against a real server, its table is whole."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import requests

from mock_server.control.views import bp
from tests.support.serve import serving

pytestmark = pytest.mark.e2e
DOC = (Path(__file__).resolve().parents[2] / "docs" / "control-plane.md").read_text("utf-8")
BLOCKS = re.findall(r"```sh\n(.*?)```", DOC, re.DOTALL)
DOC_URL = "http://127.0.0.1:8000"


def run(script: str, base_url: str) -> str:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script.replace(DOC_URL, base_url)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"example failed:\n{script}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_every_curl_example_works_in_order(tmp_path: Path) -> None:
    examples = [b for b in BLOCKS if "flux2-mock serve" not in b]
    assert len(examples) >= 5
    with serving("--seed", "4", store=tmp_path / "tasks.sqlite3") as server:
        out = run("\n".join(examples), server.base_url)
        assert '"ready":true' in out
        assert '"scenario":"fail:NSFW; processing=100","remaining":2' in out
        assert '"failCode":"CONTENT_VIOLATION"' in out and '"timeline"' in out
        assert 'flux2_mock_tasks{state="failed"} 1' in out
        assert '"reset":[' in out
        queue = requests.get(server.url("/_mock/scenario-queue"), timeout=10).json()
        assert queue["queue"] == []  # the example's reset emptied it


def test_the_admin_token_example_works(tmp_path: Path) -> None:
    (block,) = [b for b in BLOCKS if "flux2-mock serve" in b]
    serve_line, *rest = [line for line in block.splitlines() if not line.startswith("#")]
    args = shlex.split(serve_line)[2:]
    with serving(*args, store=tmp_path / "tasks.sqlite3") as server:
        assert '"tasks":[]' in run("\n".join(rest), server.base_url)
        assert requests.get(server.url("/_mock/tasks"), timeout=10).status_code == 401


def test_every_control_route_is_in_the_endpoint_table() -> None:
    from flask import Flask

    app = Flask(__name__)
    app.register_blueprint(bp)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("control."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{taskId}", rule.rule)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                assert f"`{method} {path}" in DOC, f"{method} {path} is not documented"
