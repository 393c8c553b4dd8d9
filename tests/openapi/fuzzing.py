"""Schemathesis against the served /openapi.json of a real `flux2-mock serve`.

The test suite runs it bounded (tests/openapi/test_served_document.py); `make fuzz`
runs at least 10,000 cases: `python -m tests.openapi.fuzzing --min-cases 10000`.
The server's callback sender may reach loopback only, so fuzzed callback URLs never
leave the machine (and names outside the allowlist are never looked up).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.serve import DEFAULT_KEY, ServeProcess, mock_env

CONFIG = Path(__file__).with_name("schemathesis.toml")
_GENERATED = re.compile(r"(\d+) generated")


@dataclass(frozen=True)
class FuzzRun:
    """What one Schemathesis run printed and counted."""

    returncode: int
    generated: int
    output: str


def fuzz(max_examples: int, *, seed: int | None = None, workers: int = 1) -> FuzzRun:
    """Start a server, run Schemathesis against its document, stop the server."""
    env = mock_env()  # no developer FLUX2_MOCK_* settings; callbacks to loopback only
    server = ServeProcess("--store", "memory", env=env)
    try:
        server.start()
        cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
               server.url("/openapi.json"), "--header", f"Authorization: Bearer {DEFAULT_KEY}",
               "--max-examples", str(max_examples), "--workers", str(workers),
               "--request-timeout", "30", "--no-color"]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        with tempfile.TemporaryDirectory(prefix="flux2-fuzz-") as scratch:
            # Schemathesis keeps a cache in its working directory: not in the repository.
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env,
                                  cwd=scratch)
    finally:
        server.kill()
    output = done.stdout + done.stderr
    generated = sum(int(n) for n in _GENERATED.findall(output.split("SUMMARY")[-1]))
    return FuzzRun(done.returncode, generated, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=300)
    parser.add_argument("--min-cases", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    total, seed = 0, args.seed
    # Operations with few possible inputs run out of new cases: further runs (fresh server,
    # next seed) add cases until there are enough; any failure ends it.
    for _round in range(8):
        run = fuzz(args.max_examples, seed=seed, workers=args.workers)
        total += run.generated
        print(run.output.split("SUMMARY")[-1].strip())
        print(f"fuzz: seed {seed}: {run.generated} cases, exit code {run.returncode}; "
              f"{total} cases so far", flush=True)
        if run.returncode != 0:
            print(run.output)
            return run.returncode
        if total >= args.min_cases:
            print(f"fuzz: {total} cases, 0 failures")
            return 0
        seed += 1
    print(f"fuzz: only {total} cases; raise --max-examples")
    return 1


if __name__ == "__main__":
    sys.exit(main())
