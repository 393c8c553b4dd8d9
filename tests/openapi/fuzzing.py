"""Schemathesis against the served /openapi.json of a real `flux2-mock serve`.

The test suite runs it bounded (tests/openapi/test_served_document.py); `make fuzz`
runs at least 10,000 cases: `python -m tests.openapi.fuzzing --min-cases 10000`.
The server's callback sender may reach loopback only, so fuzzed callback URLs never
leave the machine (and names outside the allowlist are never looked up).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.serve import DEFAULT_KEY, ServeProcess

CONFIG = Path(__file__).with_name("schemathesis.toml")
_GENERATED = re.compile(r"(\d+) generated")


@dataclass(frozen=True)
class FuzzRun:
    """What one Schemathesis run printed and counted."""

    returncode: int
    generated: int
    output: str


def fuzz(max_examples: int, *, seed: int | None = None, workers: int = 1,
         max_time: float | None = None) -> FuzzRun:
    """Start a server, run Schemathesis against its document, stop the server."""
    env = {"FLUX2_MOCK_CALLBACK_ALLOWED_HOSTS": "loopback"}
    server = ServeProcess("--store", "memory", env=env).start()
    try:
        cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
               server.url("/openapi.json"), "--header", f"Authorization: Bearer {DEFAULT_KEY}",
               "--max-examples", str(max_examples), "--workers", str(workers),
               "--request-timeout", "30", "--no-color"]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        if max_time is not None:
            cmd += ["--max-time", str(int(max_time))]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env={**os.environ, **env, "SCHEMATHESIS_HOOKS": ""})
    finally:
        server.kill()
    output = done.stdout + done.stderr
    generated = sum(int(n) for n in _GENERATED.findall(output.split("SUMMARY")[-1]))
    return FuzzRun(done.returncode, generated, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=250)
    parser.add_argument("--min-cases", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    run = fuzz(args.max_examples, seed=args.seed, workers=args.workers)
    print(run.output)
    print(f"fuzz: {run.generated} cases generated, Schemathesis exit code {run.returncode}")
    if run.returncode != 0:
        return run.returncode
    if run.generated < args.min_cases:
        print(f"fuzz: fewer than {args.min_cases} cases; raise --max-examples")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
