"""The flux2-mock contract suite: checks that any server behaves as the Flux-2 docs say.

`python -m contract_tests --base-url URL --api-key KEY`, `pytest --pyargs contract_tests`,
or from Python: `run(Options(base_url=..., api_key=...))`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .options import Options, UsageError

if TYPE_CHECKING:
    from .runner import RunResult


def run(options: Options, **kwargs: Any) -> RunResult:
    """Run the suite (imported late: the pytest plugin loads this package in every session)."""
    from .runner import run as run_suite

    return run_suite(options, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "RunResult":
        from .runner import RunResult

        return RunResult
    raise AttributeError(name)


__all__ = ["Options", "RunResult", "UsageError", "run"]
