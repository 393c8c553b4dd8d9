"""One pytest test per documented statement, read from a single run of the suite."""

from __future__ import annotations

from typing import Any

import pytest


def test_documented_statement(contract_run: Any, statement: str) -> None:
    outcome = next(o for o in contract_run.outcomes if o.check.name == statement)
    if outcome.status == "skipped":
        pytest.skip(outcome.reason(contract_run.unavailable))
    if outcome.status == "failed":
        pytest.fail(f"{outcome.check.quote}\n\n"
                    + "\n\n".join(f.details() for f in outcome.failures), pytrace=False)
    assert outcome.passed > 0


def test_suite_ran_without_errors(contract_run: Any) -> None:
    assert not contract_run.errors, "\n".join(contract_run.errors)
