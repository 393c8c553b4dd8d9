"""The request journal: what it keeps of each request, masked, in memory and in SQLite."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain.journal_entries import JournalEntry, entry_row
from mock_server.domain.keys import key_id, mask_headers, mask_key
from mock_server.journal.buffer import Journal
from mock_server.storage.memory.journal import MemorySink
from mock_server.storage.sqlite.journal import SQLiteSink
from mock_server.storage.sqlite.tasks import SQLiteStore
from tests.support.mock_client import MakeMock

KEY = "flux2-mock-key"
SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(("key", "shown"), [
    ("flux2-mock-key", "flu…key"), (SECRET, "sk-l…cdef"), ("abcdefgh", "ab…gh"),
    ("abc", "…" + key_id("abc")[:6]), ("", "")])
def test_a_key_is_masked_to_at_most_a_quarter(key: str, shown: str) -> None:
    assert mask_key(key) == shown
    assert len(shown.replace("…", "")) <= max(len(key) // 2, 6)


def test_credential_headers_are_masked_and_others_kept() -> None:
    masked = mask_headers([("Authorization", f"Bearer {SECRET}"), ("X-Api-Key", SECRET),
                           ("Cookie", f"session={SECRET}"), ("User-Agent", "my-client/1.0")])
    assert masked == {"Authorization": "Bearer sk-l…cdef", "X-Api-Key": "sk-l…cdef",
                      "Cookie": "sess…cdef", "User-Agent": "my-client/1.0"}


def journaled(app: Any) -> list[JournalEntry]:
    entries: list[JournalEntry] = app.extensions["flux2_mock"].journal.entries()
    return entries


@pytest.fixture
def app(make_mock: MakeMock) -> Any:
    return make_mock(seed=1, start_ms=1_700_000_000_000).app


def test_each_request_is_journaled_with_what_the_mock_answered(app: Any) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {KEY}", "X-Mock-Scenario": "success"}
    task_id = client.post("/api/v1/generateTask/flux-2", headers=headers, json={
        "request_type": "async", "input": {"prompt": "a red fox"}}).get_json()["data"]["taskId"]
    client.get("/api/v1/statusTask/flux-2", query_string={"taskId": task_id}, headers=headers)
    client.post("/api/v1/generateTask/flux-2", headers=headers,
                json={"request_type": "async", "input": {"prompt": "x"}})
    client.get(f"/output/{task_id}/0.jpg")
    client.get("/_mock/health")  # the control plane is not the client's traffic
    submitted, polled, rejected, downloaded = journaled(app)
    assert (submitted.method, submitted.path, submitted.status, submitted.task_id) == \
        ("POST", "/api/v1/generateTask/flux-2", 200, task_id)
    assert (polled.query, polled.state, polled.task_id) == (f"taskId={task_id}", "success",
                                                            task_id)
    assert rejected.status == 400 and rejected.errors[0]["field"] == "input.prompt"
    assert rejected.errors[0]["rule"] == "minLength"
    assert (downloaded.path, downloaded.status, downloaded.task_id, downloaded.key_id) == \
        (f"/output/{task_id}/0.jpg", 200, task_id, "")
    assert submitted.key_id == key_id(KEY) and submitted.key_hint == "flu…key"
    assert submitted.headers["X-Mock-Scenario"] == "success"
    assert submitted.time_ms == 1_700_000_000_000


def test_no_key_appears_in_full_anywhere_in_the_journal(app: Any) -> None:
    client = app.test_client()
    client.get("/api/v1/statusTask/flux-2", query_string={"taskId": "t", "apiKey": SECRET},
               headers={"Authorization": f"Bearer {SECRET}", "X-Api-Key": SECRET})
    client.get("/api/v1/statusTask/flux-2?taskId=t", headers={"Authorization": SECRET})
    text = json.dumps([e.as_dict() for e in journaled(app)])
    assert SECRET not in text
    assert journaled(app)[0].query == "taskId=t&apiKey=sk-l…cdef"
    assert journaled(app)[1].headers["Authorization"] == "sk-l…cdef"


def test_with_error_status_200_the_envelope_code_is_journaled(make_mock: MakeMock) -> None:
    quiet = make_mock(error_status="200").app
    response = quiet.test_client().get("/api/v1/statusTask/flux-2?taskId=t",
                                       headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    assert journaled(quiet)[0].status == 404


def test_entries_filter_by_key_and_by_task_and_reset_per_key() -> None:
    journal = Journal(MemorySink(), buffered=False)
    for n, (key, task) in enumerate([("a-key-000", "t1"), ("b-key-000", "t2"), ("", "t1")]):
        journal.record(JournalEntry(n, "GET", "/p", 200, key_id(key), mask_key(key), task))
    assert [e.time_ms for e in journal.entries(api_keys=["a-key-000"])] == [0]
    assert [e.time_ms for e in journal.entries(api_keys=["a-key-000"], task_ids=["t1"])] == \
        [0, 2]
    assert [e.seq for e in journal.entries()] == [1, 2, 3]
    journal.reset(api_key="a-key-000")
    assert [e.time_ms for e in journal.entries()] == [1, 2]


def wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.01)


def test_sqlite_journal_is_written_in_the_background_and_read_back(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    journal = Journal(SQLiteSink(store), flush_interval_s=0.02)
    entry = JournalEntry(5, "POST", "/api/v1/generateTask/flux-2", 400, key_id(KEY),
                         mask_key(KEY), None, None,
                         ({"field": "input", "rule": "required", "message": "m"},),
                         {"Authorization": "Bearer flu…key"}, "", 0)
    journal.record(entry)
    other = SQLiteSink(SQLiteStore(tmp_path / "t.db"))  # as another worker process would
    wait_for(lambda: len(other.read()) == 1)
    (read,) = other.read(key_ids=[key_id(KEY)])
    assert entry_row(read) == entry_row(entry) and read.seq == 1
    assert other.read(key_ids=["nobody"]) == []
    journal.close()


def test_the_journal_keeps_only_the_newest_entries(tmp_path: Path) -> None:
    for sink in (MemorySink(max_entries=5),
                 SQLiteSink(SQLiteStore(tmp_path / "t.db"), max_entries=5)):
        journal = Journal(sink, buffered=False)
        for n in range(1200):  # the SQLite table is trimmed every 1000 rows written
            journal.record(JournalEntry(n, "GET", "/p", 200))
        kept = [e.time_ms for e in journal.entries()]
        assert kept[-5:] == [1195, 1196, 1197, 1198, 1199]
        assert len(kept) <= 5 + 1000
        assert kept[0] >= 995
