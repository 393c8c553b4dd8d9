"""A small reference client of the Flux-2 API that follows the documentation's advice.

An example to copy into your own project (it needs only `requests`): the mock's tests
show it conformant in every mode. Import it as `mock_server.examples.flux2_client`.

Polling mode (flux-2.txt, Best Practices): wait 15 s before the first poll, then poll
every 5 s, give up after 3 minutes, download the result images at once (their URLs
are temporary). Callback mode: a receiver answers every callback with 200 at once,
de-duplicates on taskId, and the client falls back to one status poll if no
callback comes.

`time_scale` shrinks every wait for a mock running a faster timing profile (0.01
for flux2-mock's `fast` profile); `sleep` and `clock` let a test run it on virtual
time (the pytest fixture's `advance` and `now`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

FIRST_POLL_S = 15.0  # "Wait 15 seconds before first poll"
POLL_EVERY_S = 5.0  # "then poll every 5 seconds"
MAX_WAIT_S = 180.0  # "Set maximum wait time to 3 minutes"
TERMINAL = ("success", "failed")


class Flux2Error(Exception):
    """The API answered with an error envelope."""


class TaskFailed(Flux2Error):
    """The task ended in state `failed`."""


class TaskTimedOut(Flux2Error):
    """The task did not finish within the maximum wait."""


@dataclass
class Flux2Client:
    """Submit, wait (poll or callback), download."""

    base_url: str
    api_key: str
    time_scale: float = 1.0
    sleep: Callable[[float], Any] = time.sleep
    clock: Callable[[], float] = time.monotonic
    session: requests.Session = field(default_factory=requests.Session)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def _answer(self, response: requests.Response) -> dict[str, Any]:
        body = response.json()
        if response.status_code != 200 or body.get("code") != 200:
            raise Flux2Error(f"{response.request.method} {response.url}: {body.get('code')} "
                             f"{body.get('message')}: {body.get('data')}")
        data: dict[str, Any] = body["data"]
        return data

    def submit(self, prompt: str, *, callback_url: str | None = None,
               scenario: str | None = None, **params: Any) -> str:
        """Submit a task and return its taskId (log it: support asks for it)."""
        body: dict[str, Any] = {
            "request_type": "callback" if callback_url else "async",
            "input": {"mode": "pro-text-to-image", "prompt": prompt, "aspect_ratio": "1:1",
                      "resolution": "1K", **params},
        }
        if callback_url:
            body["callback_url"] = callback_url
        headers = self._headers()
        if scenario:  # flux2-mock only; the real API ignores unknown headers
            headers["X-Mock-Scenario"] = scenario
        response = self.session.post(f"{self.base_url}/api/v1/generateTask/flux-2", json=body,
                                     headers=headers, timeout=30)
        return str(self._answer(response)["taskId"])

    def status(self, task_id: str) -> dict[str, Any]:
        response = self.session.get(f"{self.base_url}/api/v1/statusTask/flux-2",
                                    params={"taskId": task_id}, headers=self._headers(),
                                    timeout=30)
        return self._answer(response)

    def wait(self, task_id: str) -> dict[str, Any]:
        """Poll as the docs advise until the task finishes; raise TaskTimedOut after 3 min."""
        started = self.clock()
        deadline = started + MAX_WAIT_S * self.time_scale
        self.sleep(FIRST_POLL_S * self.time_scale)
        while True:
            data = self.status(task_id)
            if data["state"] in TERMINAL:  # always check state: failures are answers too
                return data
            every = POLL_EVERY_S * self.time_scale
            if self.clock() + every > deadline:
                raise TaskTimedOut(f"task {task_id} still {data['state']} after "
                                   f"{MAX_WAIT_S * self.time_scale:g} s")
            self.sleep(every)

    def download(self, data: dict[str, Any]) -> list[bytes]:
        """Fetch every result image now: result URLs are temporary."""
        if data["state"] != "success":
            raise TaskFailed(f"task {data['taskId']} failed: {data.get('failCode')}: "
                             f"{data.get('failMsg')}")
        urls = json.loads(data["resultJson"])["resultUrls"]
        images = []
        for url in urls:
            response = self.session.get(url, timeout=60)
            response.raise_for_status()
            images.append(response.content)
        return images

    def generate(self, prompt: str, **params: Any) -> list[bytes]:
        """Polling mode, start to finish: the images of one prompt."""
        return self.download(self.wait(self.submit(prompt, **params)))

    def generate_with_callback(self, prompt: str, receiver: CallbackReceiver,
                               **params: Any) -> list[bytes]:
        """Callback mode: wait for the receiver to get the task's callback, else poll once."""
        task_id = self.submit(prompt, callback_url=receiver.url, **params)
        waited, every = 0.0, POLL_EVERY_S * self.time_scale
        while waited < MAX_WAIT_S * self.time_scale:
            payload = receiver.payload(task_id)
            if payload is not None:
                return self.download(payload["data"])
            self.sleep(every)
            waited += every
        # Deliveries can be lost: the status endpoint still answers (wider docs, Webhooks).
        data = self.status(task_id)
        if data["state"] not in TERMINAL:
            raise TaskTimedOut(f"task {task_id} still {data['state']} and no callback came")
        return self.download(data)


class CallbackReceiver:
    """An HTTP receiver on loopback: answers 200 at once, keeps one payload per taskId."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        payloads: dict[str, dict[str, Any]] = {}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length))
                    task_id = body["data"]["taskId"]
                except (ValueError, KeyError, TypeError):
                    self.send_response(400)
                    self.end_headers()
                    return
                with lock:
                    payloads.setdefault(task_id, body)  # deliveries can repeat: keep the first
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._payloads, self._lock = payloads, lock
        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/flux2-callback"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def payload(self, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._payloads.get(task_id)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def __enter__(self) -> CallbackReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
