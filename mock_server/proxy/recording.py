"""Recordings (--record DIR): every exchange and every task's lifecycle as JSON files.

Format 1 (docs/proxy-and-replay.md):
  DIR/format.json                 {"format": "flux2-mock-recording", "version": 1, ...}
  DIR/exchanges/<time>-<pid>-<n>.json   one forwarded request and its answer, or one callback
  DIR/tasks/<taskId>.json          one task: request, submit answer, distinct status answers
                                  on its timeline, lifecycle, result images, callbacks
Keys are masked (and identified by a short hash); URLs lose user info and secret query
values; nothing holds a credential, so a recording is safe to commit as a fixture.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from mock_server.domain.recorded import FORMAT, VERSION, read_format
from mock_server.proxy.exchange import Exchange, mask_url
from mock_server.proxy.observed import TaskSeen
from mock_server.proxy.timeline import timeline_of

log = logging.getLogger(__name__)
MAX_IMAGE_BYTES = 32 * 1024 * 1024
_COUNTER = itertools.count(1)


def task_document(seen: TaskSeen, upstream: str) -> dict[str, Any]:
    """The task file of format 1."""
    done = seen.terminal_data or {}
    return {
        "format": "flux2-mock-task", "version": VERSION, "upstream": upstream,
        "taskId": seen.task_id, "keyId": seen.key_id, "submittedAt": seen.submitted_ms,
        "request": seen.request, "submit": seen.submit, "answers": seen.answers,
        "lifecycle": {
            "firstSeenMs": seen.first_seen, "lastUnfinishedMs": seen.last_unfinished_ms,
            "terminalSeenMs": seen.terminal_ms,
            "createTime": done.get("createTime", seen.create_time),
            "completeTime": done.get("completeTime"), "costTime": done.get("costTime"),
            **timeline_of(seen).as_json(),
        },
        "results": seen.results, "callbacks": seen.callbacks,
    }


class Recorder:
    """Writes a recording folder; every file is written whole (temp file, then rename)."""

    def __init__(self, folder: str | os.PathLike[str], upstream: str, created_ms: int) -> None:
        self.folder = Path(folder)
        self.upstream = upstream
        for sub in ("exchanges", "tasks"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        if (self.folder / "format.json").exists():
            read_format(self.folder)  # appending to a recording of another format: refuse
        else:
            self._write(self.folder / "format.json", {
                "format": FORMAT, "version": VERSION, "upstream": upstream,
                "createdAt": created_ms, "docs": "docs/proxy-and-replay.md",
                "files": {"exchanges/": "one forwarded exchange or callback per file",
                          "tasks/": "one task lifecycle per file, named by taskId"}})

    def exchange(self, ex: Exchange, *, kind: str, task_id: str | None) -> None:
        name = f"{ex.time_ms:013d}-{os.getpid()}-{next(_COUNTER):06d}.json"
        self._write(self.folder / "exchanges" / name,
                    {"version": VERSION, "kind": kind, "taskId": task_id, **ex.record()})

    def callback(self, at_ms: int, task_id: str | None, payload: Any, status: int) -> None:
        name = f"{at_ms:013d}-{os.getpid()}-{next(_COUNTER):06d}.json"
        self._write(self.folder / "exchanges" / name,
                    {"version": VERSION, "kind": "callback", "taskId": task_id, "time": at_ms,
                     "request": {"method": "POST", "body": payload},
                     "response": {"status": status}})

    def task(self, seen: TaskSeen) -> None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in seen.task_id)[:120]
        self._write(self.folder / "tasks" / f"{safe}.json", task_document(seen, self.upstream))

    def _write(self, path: Path, document: dict[str, Any]) -> None:
        scratch = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        scratch.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
        os.replace(scratch, path)


def probe_results(urls: list[str], *, timeout_s: float = 20.0) -> list[dict[str, Any]]:
    """Download each result image once to note its size (bytes and pixels)."""
    import requests
    from PIL import Image

    found = []
    for url in urls[:8]:
        entry: dict[str, Any] = {"url": mask_url(url)}
        try:
            with requests.get(url, timeout=timeout_s, stream=True) as response:
                body = response.raw.read(MAX_IMAGE_BYTES, decode_content=True)
                entry.update(status=response.status_code, bytes=len(body),
                             contentType=response.headers.get("Content-Type"))
            with Image.open(io.BytesIO(body)) as image:
                entry["width"], entry["height"] = image.size
        except Exception as exc:  # a result host that fails must not cost the recording
            entry["error"] = f"{type(exc).__name__}: {exc}"[:200]
        found.append(entry)
    return found
