"""Project-wide test set-up.

Whenever the mock runs under our tests, its callback sender may only reach loopback:
fuzzers and property tests invent callback URLs on any host. In-process apps get it from
`tests.support.apps.LOOPBACK_ONLY`; `flux2-mock serve` processes from the harness's
environment (tests/support/serve.py), and this variable is the safety net for any other
process a test starts.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["tests.support.fixtures"]

os.environ["FLUX2_MOCK_CALLBACK_ALLOWED_HOSTS"] = "loopback"

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# Fixtures that start real servers (a `flux2-mock serve`, PostgreSQL): a test using one is
# end-to-end, whatever folder it is in, and `make test-fast` leaves it out.
SERVER_FIXTURES = frozenset({"served", "postgres_server", "pg_dsn", "make_served_mock_process"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if fixtures & SERVER_FIXTURES or params.get("open_instance") == "postgres":
            item.add_marker(pytest.mark.e2e)
