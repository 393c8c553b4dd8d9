"""How many examples a property test draws under the loaded Hypothesis profile."""

from __future__ import annotations

from hypothesis import settings

# The profile a test's own count is written for: tests/conftest.py registers `ci` at 100.
CI_EXAMPLES = 100


def scaled(ci_examples: int) -> int:
    """Return `ci_examples` scaled by the loaded profile (`dev`: a quarter, `ci`: all of it)."""
    return max(10, ci_examples * settings().max_examples // CI_EXAMPLES)
