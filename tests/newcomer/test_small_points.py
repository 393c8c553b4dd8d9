"""The smaller points a first hour runs into, each held true here."""

from __future__ import annotations

from pathlib import Path

import requests

from mock_server.cli import serve
from mock_server.config import load_settings
from mock_server.serving.banner import StoreContents, banner
from mock_server.settings import Settings
from mock_server.testing.fixture import InProcessMock

ROOT = Path(__file__).resolve().parents[2]


def test_the_banner_names_the_dashboard_and_what_the_store_holds() -> None:
    text = banner(Settings(), 8000, "tasks.sqlite3", StoreContents(tasks=3, offset_ms=90_000))
    lines = text.splitlines()
    assert lines[0].endswith("serving http://127.0.0.1:8000")  # scripts read this line
    assert "  dashboard: http://127.0.0.1:8000/_mock/ui" in lines
    assert any("3 tasks from earlier runs" in line and "90 s ahead" in line for line in lines)
    assert any("--fresh" in line for line in lines)
    assert "the store holds" not in banner(Settings(), 8000, "x", StoreContents(0, 0))


def test_serve_takes_the_callback_exemption_and_the_result_ttl_as_flags() -> None:
    context = serve.make_context("serve", ["--callback-exempt-hosts", "loopback",
                                           "--result-url-ttl-s", "60", "--fresh"])
    options = {k: v for k, v in context.params.items() if k != "config_file" and v != ()}
    settings = load_settings(env={}, overrides=options)
    assert settings.conformance_callback_exempt_hosts == ("loopback",)
    assert settings.result_url_ttl_s == 60
    assert context.meta["fresh"] is True


def test_result_never_downloaded_fires_a_ttl_after_completion() -> None:
    mock = InProcessMock.start({"result_url_ttl_s": 60})
    try:
        headers = {"Authorization": f"Bearer {mock.api_key}"}
        requests.post(mock.url("/api/v1/generateTask/flux-2"), headers=headers, timeout=10,
                      json={"request_type": "async", "input": {"prompt": "kept too long"}})
        mock.advance(40)  # done (realistic: 20-30 s), and its URL still fresh
        assert "result-never-downloaded" not in [f["rule"] for f in mock.findings()]
        mock.advance(60)
        assert "result-never-downloaded" in [f["rule"] for f in mock.findings()]
    finally:
        mock.close()


def test_fixed_timings_give_the_documented_time_scale() -> None:
    mock = InProcessMock.start({"pending_ms": 500, "processing_ms": 2000})
    try:
        thresholds = mock.conformance()["thresholds"]
    finally:
        mock.close()
    assert thresholds["timeScale"] == 0.1 and thresholds["firstPollMs"] == 1500
    doc = (ROOT / "docs" / "conformance.md").read_text("utf-8")
    assert "`--pending-ms 500 --processing-ms 2000` gives 0.1" in doc


def test_the_readme_says_what_the_browser_tests_need() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "chromium-driver" in readme and "tests/browser/" in readme


def test_a_shared_postgresql_store_is_left_to_reset_and_refuses_fresh() -> None:
    import pytest

    from mock_server.serving.preflight import SharedStoreError, prepare_store

    shared = Settings(store="postgresql://mock@127.0.0.1:1/flux2")  # never connected to
    assert prepare_store(shared).empty
    with pytest.raises(SharedStoreError, match="POST /_mock/reset"):
        prepare_store(shared, fresh=True)
