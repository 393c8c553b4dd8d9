"""`pip install .` (not editable) gives a working `flux2-mock serve`, schemas and data included."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest
import requests

from tests.support.serve import auth, text_request

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def run(*cmd: str | Path, cwd: Path, timeout: float = 300) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, ROOT, cwd=out)
    (found,) = out.glob("flux2_mock-*.whl")
    return found


def test_wheel_holds_schemas_data_and_py_typed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {p.name for p in (ROOT / "schemas").glob("*.json")}
    data = {p.name for p in (ROOT / "mock_server" / "data").glob("*.json")}
    tables = {p.name for p in (ROOT / "flux2_spec" / "data").glob("*.json")}
    assert {f"flux2_spec/schemas/{n}" for n in schemas} <= names
    assert {f"mock_server/data/{n}" for n in data} <= names
    assert {f"flux2_spec/data/{n}" for n in tables} <= names
    assert {"mock_server/py.typed", "flux2_spec/py.typed", "contract_tests/py.typed"} <= names
    assert any(n.startswith("mock_server/control/static/") for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "flux2-mock = mock_server.cli:main" in zipfile.ZipFile(wheel).read(
        entry_points).decode()


def test_installed_wheel_serves_from_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    env_dir, elsewhere = tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel,
        cwd=elsewhere, timeout=600)
    where = run(python, "-c", "import flux2_spec.resources as r; print(r.__file__); "
                "print(r.schemas_dir())", cwd=elsewhere).split()
    assert all(str(env_dir) in line for line in where), where

    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([env_dir / "bin" / "flux2-mock", "serve", "--port", "0",
                                 "--store", "memory", "--profile", "instant"], cwd=elsewhere,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base_url = ""
        deadline = time.monotonic() + 60
        while not base_url and time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"serving (http://\S+)", log.read_text())
            base_url = found.group(1) if found else ""
            time.sleep(0.1)
        assert base_url, log.read_text()
        answer = requests.post(f"{base_url}/api/v1/generateTask/flux-2", json=text_request(),
                               headers=auth(), timeout=10).json()
        task_id = answer["data"]["taskId"]
        data = requests.get(f"{base_url}/api/v1/statusTask/flux-2", params={"taskId": task_id},
                            headers=auth(), timeout=10).json()["data"]
        assert data["state"] == "success"
        bad = requests.post(f"{base_url}/api/v1/generateTask/flux-2",
                            json=text_request("ab"), headers=auth(), timeout=10).json()
        assert bad["data"]["error"] == "input.prompt must be between 3 and 5000 characters, got 2"
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
