"""The hot routes answer exactly what Flask's path answers, and journal and count alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from mock_server.app import create_app
from mock_server.domain.clock import VirtualClock
from mock_server.serving import hot_routes
from mock_server.storage.sqlite import open_sqlite_storage

KEY = "hot-key"
GOOD = {"request_type": "async", "input": {"prompt": "a red fox"}}
SUBMIT = "/api/v1/generateTask/flux-2"
STATUS = "/api/v1/statusTask/flux-2"


def build(tmp: Path, hot: bool) -> Flask:
    app = create_app({"api_keys": (KEY,), "seed": 7, "profile": "instant",
                      "journal_flush_ms": 10},
                     storage=open_sqlite_storage(str(tmp / "t.sqlite3")),
                     clock=VirtualClock(1_000_000))
    if hot:
        hot_routes.install(app)
    return app


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# Every request in order, against both apps; the first submit makes the task_1 below.
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", SUBMIT, {"json": GOOD, "headers": auth()}),
    ("POST", SUBMIT, {"data": json.dumps(GOOD), "headers": {
        **auth(), "Content-Type": "application/json; charset=utf-8"}}),
    ("POST", SUBMIT, {"json": {"input": {}}, "headers": auth()}),
    ("POST", SUBMIT, {"data": b"{not json", "headers": {**auth(),
                                                        "Content-Type": "application/json"}}),
    ("POST", SUBMIT, {"data": b"NaN", "headers": {**auth(), "Content-Type": "application/json"}}),
    ("POST", SUBMIT, {"json": GOOD, "headers": auth("wrong")}),
    ("POST", SUBMIT, {"json": GOOD}),
    ("POST", "/api/v1/generateTask/flux-9", {"json": GOOD, "headers": auth()}),
    ("POST", SUBMIT, {"json": {**GOOD, "input": {"prompt": "x [mock:fail]"}},
                      "headers": auth()}),
    ("POST", SUBMIT, {"json": GOOD, "headers": {**auth(), "X-Mock-Scenario": "fail"}}),
    ("POST", SUBMIT, {"json": {**GOOD, "callback_url": "http://127.0.0.1:9/cb"},
                      "headers": auth()}),
    ("POST", SUBMIT, {"json": {**GOOD, "callback_url": "not a url"}, "headers": auth()}),
    ("GET", STATUS + "?taskId={task}", {"headers": auth()}),
    ("GET", STATUS + "?taskId=task_nope", {"headers": auth()}),
    ("GET", STATUS, {"headers": auth()}),
    ("GET", STATUS + "?taskId=", {"headers": auth()}),
    ("GET", STATUS + "?taskId={task}", {"headers": auth("wrong")}),
    ("GET", STATUS + "?taskId={task}&taskId=other", {"headers": auth()}),
    ("GET", STATUS + "?taskId={task}", {"headers": {**auth(), "X-Mock-Scenario": "http=503"}}),
    ("GET", "/api/v1/statusTask/flux-9?taskId={task}", {"headers": auth()}),
    ("HEAD", STATUS + "?taskId={task}", {"headers": auth()}),
]


def exchange(app: Flask) -> list[tuple[int, str | None, Any]]:
    client = app.test_client()
    answers: list[tuple[int, str | None, Any]] = []
    task = ""
    for method, path, kwargs in REQUESTS:
        answer = client.open(path.format(task=task), method=method, **kwargs)
        body = answer.get_json(silent=True) if method != "HEAD" else None
        if not task and answer.status_code == 200:
            task = body["data"]["taskId"]
        answers.append((answer.status_code, answer.headers.get("Content-Type"), body))
    return answers


def journal_and_counts(app: Flask) -> tuple[list[tuple[Any, ...]], dict[Any, int]]:
    state = app.extensions["flux2_mock"]
    entries = [(e.method, e.path, e.query, e.status, e.key_id, e.task_id, e.state, e.errors,
                e.headers) for e in state.journal.entries()]
    return entries, dict(state.metrics.local.requests)


def test_hot_routes_answer_journal_and_count_as_flask_does(tmp_path: Path) -> None:
    (tmp_path / "flask").mkdir()
    (tmp_path / "hot").mkdir()
    plain, hot = build(tmp_path / "flask", hot=False), build(tmp_path / "hot", hot=True)
    answers = exchange(plain)
    assert [a[0] for a in answers[:3]] == [200, 200, 400]  # tasks made, and refused
    assert answers[12][0] == 200 and answers[12][2]["data"]["state"] == "success"
    assert exchange(hot) == answers
    assert journal_and_counts(hot) == journal_and_counts(plain)


def test_the_hot_routes_do_serve_plain_requests(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    app = build(tmp_path, hot=True)
    handed: list[str] = []
    inner = app.wsgi_app.flask_path  # type: ignore[attr-defined]
    monkeypatch.setattr(app.wsgi_app, "flask_path",
                        lambda environ, start: handed.append(environ["PATH_INFO"])
                        or inner(environ, start))
    client = app.test_client()
    task = client.post(SUBMIT, json=GOOD, headers=auth()).get_json()["data"]["taskId"]
    assert client.get(f"{STATUS}?taskId={task}", headers=auth()).status_code == 200
    assert handed == []  # neither went through Flask
    assert client.get(f"{STATUS}?taskId=nope", headers=auth()).status_code == 404
    assert handed == [STATUS]  # an error is Flask's to answer
