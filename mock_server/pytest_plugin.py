"""pytest plugin (entry point `pytest11`): the `flux2_mock` fixture.

Loaded in every pytest run where flux2-mock is installed, so it imports nothing
heavy and does nothing until a test asks for the fixture.

    def test_my_client(flux2_mock):
        client = MyClient(flux2_mock.base_url, flux2_mock.api_key, sleep=flux2_mock.advance)
        flux2_mock.queue("fail:NSFW")                 # the next submit fails
        client.generate("a red fox")
        assert flux2_mock.count_requests("status") >= 1
        flux2_mock.assert_conformant()

The same test file runs against a mock already serving (`--flux2-mock-url URL`): every
helper goes through the control plane, in-process too, so both give the same answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_server.testing.fixture import MockHandle

URL_ENV = "PYTEST_FLUX2_MOCK_URL"
KEY_ENV = "PYTEST_FLUX2_MOCK_API_KEY"
ADMIN_ENV = "PYTEST_FLUX2_MOCK_ADMIN_TOKEN"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flux2-mock", "flux2-mock fixture")
    group.addoption("--flux2-mock-url", default=None, metavar="URL",
                    help=f"use the flux2-mock already running at URL instead of starting one "
                         f"in-process (env {URL_ENV})")
    group.addoption("--flux2-mock-api-key", default=None, metavar="KEY",
                    help=f"API key for --flux2-mock-url (env {KEY_ENV}; default: the mock's "
                         f"default key)")
    group.addoption("--flux2-mock-admin-token", default=None, metavar="TOKEN",
                    help=f"admin token of the control plane at --flux2-mock-url (env "
                         f"{ADMIN_ENV}), when it is not bound to loopback")


@pytest.fixture(scope="session")
def flux2_mock_settings() -> dict[str, Any]:
    """Settings of the in-process mock (override this fixture to change them)."""
    return {}


@pytest.fixture(scope="session")
def flux2_mock_server(request: pytest.FixtureRequest,
                      flux2_mock_settings: dict[str, Any]) -> Iterator[MockHandle]:
    """One mock for the whole session: in a thread on a free loopback port, or a remote one."""
    from mock_server.testing.fixture import InProcessMock, RemoteMock

    config = request.config
    url = config.getoption("flux2_mock_url") or os.environ.get(URL_ENV)
    handle: MockHandle
    if url:
        handle = RemoteMock(url, config.getoption("flux2_mock_api_key")
                            or os.environ.get(KEY_ENV),
                            config.getoption("flux2_mock_admin_token")
                            or os.environ.get(ADMIN_ENV))
    else:
        handle = InProcessMock.start(flux2_mock_settings)
    try:
        yield handle
    finally:
        handle.close()


@pytest.fixture
def flux2_mock(flux2_mock_server: MockHandle) -> MockHandle:
    """The session's mock with every task, journal entry and callback forgotten."""
    flux2_mock_server.reset()
    return flux2_mock_server
