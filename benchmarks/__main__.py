"""Run every benchmark section (or the ones named on the command line) and print its report."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from . import SECTIONS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("sections", nargs="*", help=f"sections to run (default: all of "
                                                    f"{', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    chosen = args.sections or SECTIONS
    unknown = [s for s in chosen if s not in SECTIONS and f"benchmarks.{s}" not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    for name in chosen:
        module = name if name in SECTIONS else f"benchmarks.{name}"
        print(f"\n=== {module} ===", flush=True)
        started = time.monotonic()
        importlib.import_module(module).run()
        print(f"({module} took {time.monotonic() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
