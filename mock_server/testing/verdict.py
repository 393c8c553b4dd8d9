"""The message a failing `assert_conformant()` raises: what failed first, then the evidence."""

from __future__ import annotations

from typing import Any

from mock_server.conformance.evaluation import render_table


def conformance_failure(report: dict[str, Any], failing: list[dict[str, Any]], *,
                        warnings: bool) -> str:
    """Return a message that names each failing rule first and ends with the failing count.

    The report's own verdict line is left out: it counts errors only, and would read
    "CONFORMANT" when warnings alone failed the assertion.
    """
    errors = sum(1 for f in failing if f["severity"] == "error")
    warned = len(failing) - errors
    names = ", ".join(f"{f['rule']} ({f['severity']}: {f['message']})" for f in failing)
    table = render_table(report).rstrip().splitlines()
    if table and table[-1].startswith(("CONFORMANT", "NOT CONFORMANT")):
        table = table[:-1]
    hint = ("warnings count here: assert_conformant(warnings=False) lets them pass, "
            "ignore=(rule, ...) skips a rule" if warned and warnings
            else "ignore=(rule, ...) skips a rule")
    return "\n".join([
        f"the client does not use the API as documented: {names}",
        "",
        *table,
        "",
        f"FAILED: {len(failing)} rule(s) broken: {errors} error(s), {warned} warning(s) ({hint})",
    ])
