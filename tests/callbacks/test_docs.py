"""docs/callbacks.md stays true: its examples run, its tables name every token and setting."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from flux2_spec.validation import schema_set
from mock_server.domain.scenarios import TOKENS
from mock_server.settings import Settings
from tests.support.receiver import Receiver
from tests.support.serve import serving

from .test_serve import journal

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "callbacks.md").read_text("utf-8")
DOC_URL, DOC_RECEIVER = "http://127.0.0.1:8000", "http://127.0.0.1:9000/hook"


def block(lang: str) -> str:
    (found,) = re.findall(rf"```{lang}\n(.*?)```", DOC, re.DOTALL)
    return str(found)


@pytest.mark.e2e
def test_the_curl_example_works(tmp_path: Path, receiver: Receiver) -> None:
    with serving("--profile", "instant", store=tmp_path / "tasks.sqlite3") as server:
        script = block("sh").replace(DOC_URL, server.base_url).replace(DOC_RECEIVER,
                                                                       receiver.url)
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.rstrip().endswith('"delivery":3,"state":"waiting"}')
        ids = {r.json()["data"]["taskId"] for r in receiver.wait_for(3)}
        (task_id,) = ids
        deliveries = journal(server.base_url, task_id)["deliveries"]
        assert [(d["reason"], d["state"]) for d in deliveries] == [
            ("completion", "delivered"), ("duplicate", "delivered"), ("redeliver", "delivered")]


def test_the_python_example_works(receiver: Receiver) -> None:
    exec(block("python").replace(DOC_RECEIVER, receiver.url), {})
    assert len(receiver.wait_for(1)) == 1


def test_every_callback_token_and_setting_is_documented() -> None:
    for token in (t for t in TOKENS if t.startswith("callback")):
        assert f"`{token}" in DOC
    for name in (f.name for f in fields(Settings) if f.name.startswith("callback")):
        assert f"`{name}" in DOC


def test_the_payload_examples_are_valid() -> None:
    bodies = re.findall(r"```json\n(.*?)```", DOC, re.DOTALL)
    assert len(bodies) == 2
    success, failure = (json.loads(b.replace("…", "1")) for b in bodies)
    assert schema_set().errors("callback-success.json", success) == []
    assert schema_set().errors("callback-failure.json", failure) == []
