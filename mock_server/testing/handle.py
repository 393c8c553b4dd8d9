"""The fixture's helpers, over the mock's control plane: the same code in-process and remote."""

from __future__ import annotations

from typing import Any

import requests as http

from mock_server.testing.records import (
    KINDS,
    CallbackAttempt,
    QueuedScenario,
    RequestRecord,
    TaskView,
)
from mock_server.testing.verdict import conformance_failure


class ControlPlaneMock:
    """Every helper, over the mock's control plane under /_mock/: in-process or remote alike.

    Both kinds of handle go through the same HTTP endpoints, so a test file passes or fails
    the same way in a thread of its own session and against `flux2-mock serve`.
    """

    base_url: str
    api_key: str
    http: http.Session

    def url(self, path: str) -> str:
        """Return the absolute URL of `path` on the mock."""
        return self.base_url + "/" + path.lstrip("/")

    def _scope(self) -> dict[str, str]:
        """The query that narrows a read to this handle's part of the mock (all, or one key)."""
        return {"apiKey": self.api_key}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.url(path), timeout=60, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} {path} on {self.base_url} answered "
                               f"{response.status_code}: {response.text[:300]}")
        return response.json()

    # -- time ----------------------------------------------------------------------------

    def now(self) -> float:
        """Return the mock's time, in seconds since the epoch."""
        return float(self._call("GET", "/_mock/clock")["now"]) / 1000

    def advance(self, seconds: float) -> None:
        """Move time for every task, and return once the callbacks that fell due were made.

        Each callback due by the new time has been delivered, or has failed and waits for
        its retry, when this returns.
        """
        self._call("POST", "/_mock/clock/advance", json={"seconds": seconds})
        self.deliver_due()

    def deliver_due(self) -> int:
        """Make every callback attempt due now and return how many were made."""
        return int(self._call("POST", "/_mock/callbacks/deliver-due")["attempts"])

    # -- tasks ---------------------------------------------------------------------------

    def tasks(self) -> list[dict[str, Any]]:
        """Every task, oldest first, as `GET /_mock/tasks` lists it.

        In-process that is every task of the session's mock; against a running mock, those
        of the fixture's key (the handle's part of a mock others may share).
        """
        found: list[dict[str, Any]] = []
        after: int | None = 0
        while after is not None:
            page = self._call("GET", "/_mock/tasks", params={
                **self._scope(), "limit": 500, "after": after})
            found += page["tasks"]
            after = page.get("next")
        return found

    def task(self, task_id: str) -> TaskView:
        """Return one task: its state, plan, timeline and every callback attempt."""
        return TaskView.of(self._call("GET", f"/_mock/tasks/{task_id}"))

    def force(self, task_id: str, outcome: str, fail_code: str | None = None) -> TaskView:
        """End a task now (`success`, or `failed` with `fail_code`) or make it `stuck`."""
        body: dict[str, Any] = {"outcome": outcome}
        if fail_code is not None:
            body["failCode"] = fail_code
        self._call("POST", f"/_mock/tasks/{task_id}/force", json=body)
        self.deliver_due()  # a forced end makes its callback due now
        return self.task(task_id)

    def queue(self, scenario: str, count: int = 1) -> QueuedScenario:
        """Give the fixture key's next `count` submissions `scenario` (e.g. "fail:NSFW")."""
        return QueuedScenario.of(self._call("POST", "/_mock/scenario-queue", json={
            "scenario": scenario, "count": count, "apiKey": self.api_key}))

    # -- callbacks -----------------------------------------------------------------------

    def callback_attempts(self, task_id: str) -> list[CallbackAttempt]:
        """Return every attempt to deliver `task_id`'s callback, oldest first."""
        found = self._call("GET", f"/_mock/tasks/{task_id}/callbacks")
        attempts = [CallbackAttempt.of(task_id, a) for d in found["deliveries"]
                    for a in d["attempts"]]
        return sorted(attempts, key=lambda a: a.time_ms)

    def callbacks(self) -> list[dict[str, Any]]:
        """Every callback delivery attempt of the key's tasks (with the payload), oldest first."""
        attempts = []
        for task in self.tasks():
            if task.get("requestType") != "callback":
                continue
            found = self._call("GET", f"/_mock/tasks/{task['taskId']}/callbacks")
            for delivery in found["deliveries"]:
                attempts += [{"taskId": task["taskId"], **a} for a in delivery["attempts"]]
        return sorted(attempts, key=lambda a: a["time"])

    # -- requests ------------------------------------------------------------------------

    def requests(self, kind: str | None = None, *,
                 task_id: str | None = None) -> list[RequestRecord]:
        """Return the API requests, oldest first: of one `kind` and/or about one task.

        `kind` is "submit", "status", "balance" or "result" (a result image download).
        """
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if task_id:  # the journal answers a key's entries OR a task's: ask for the task's only
            return [r for r in self._journal({"taskId": task_id})
                    if r.task_id == task_id and (kind is None or r.kind == kind)]
        found = {r.seq: r for r in self._journal(self._scope())}
        if self._scope() and kind in (None, "result"):
            # Result images are fetched without a key: they are the key's through its tasks.
            for task in self.tasks():
                found.update((r.seq, r) for r in self._journal({"taskId": task["taskId"]})
                             if r.kind == "result")
        return [r for _, r in sorted(found.items()) if kind is None or r.kind == kind]

    def _journal(self, query: dict[str, str]) -> list[RequestRecord]:
        found: list[RequestRecord] = []
        after: int | None = 0
        while after is not None:
            page = self._call("GET", "/_mock/journal",
                              params={**query, "limit": 1000, "after": after})
            found += [RequestRecord.of(e) for e in page["entries"]]
            after = page.get("next")
        return found

    def count_requests(self, kind: str | None = None, *, task_id: str | None = None) -> int:
        """Count the API requests of one `kind` and/or about one task."""
        return len(self.requests(kind, task_id=task_id))

    # -- conformance ---------------------------------------------------------------------

    def conformance(self) -> dict[str, Any]:
        """Return the conformance report: of every key in-process, of the fixture's key remote."""
        # The key travels in a header, never in a URL a log may keep.
        headers = {"X-Flux2-Api-Key": key} if (key := self._scope().get("apiKey")) else {}
        report: dict[str, Any] = self._call("GET", "/_mock/conformance", headers=headers)
        return report

    def findings(self, *, warnings: bool = True,
                 ignore: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Return the findings that fail assert_conformant."""
        return [f for f in self.conformance()["findings"] if f["rule"] not in ignore
                and (warnings or f["severity"] == "error")]

    def assert_conformant(self, *, warnings: bool = True, ignore: tuple[str, ...] = ()) -> None:
        """Fail naming each broken rule, its evidence and the docs (warnings count, unless off)."""
        __tracebackhide__ = True
        report = self.conformance()
        failing = [f for f in report["findings"] if f["rule"] not in ignore
                   and (warnings or f["severity"] == "error")]
        if failing:
            raise AssertionError(conformance_failure(report, failing, warnings=warnings))

    # -- the whole mock ------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the key's tasks, requests, callbacks, queued scenarios, rates and charges."""
        self._call("POST", "/_mock/reset", params={"apiKey": self.api_key})

    def close(self) -> None:
        self.http.close()
