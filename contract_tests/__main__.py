"""`python -m contract_tests`."""

from __future__ import annotations

from .cli import entry

if __name__ == "__main__":
    entry()
