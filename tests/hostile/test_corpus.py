"""At least 150 hostile requests on real sockets: each a 4xx JSON envelope, the server well."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.support.serve import ServeProcess, submit, text_request

from .conftest import port_of, raw_exchange
from .corpus import OTHER_KEY, Hostile, corpus

CORPUS = list(corpus())


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    served = ServeProcess("--store", "memory", "--api-key", "flux2-mock-key", "--api-key",
                          OTHER_KEY).start()
    try:
        yield served
    finally:
        served.kill()


def test_the_corpus_is_large_and_every_name_is_unique() -> None:
    assert len(CORPUS) >= 150
    assert len({h.name for h in CORPUS}) == len(CORPUS)


@pytest.mark.e2e
def test_every_hostile_request_is_a_4xx_envelope_and_the_server_stays_well(
        server: ServeProcess) -> None:
    port = port_of(server)
    wrong: list[str] = []
    for hostile in CORPUS:
        answer = raw_exchange(port, hostile.data, timeout=20)
        problem = verdict(hostile, answer.status, answer.headers, answer.body)
        if problem:
            wrong.append(f"{hostile.name}: {problem}")
    assert wrong == [], "\n".join(wrong)
    assert requests.get(server.url("/_mock/health"), timeout=5).json()["ready"] is True
    accepted = submit(server.base_url, text_request())
    assert accepted.status_code == 200 and accepted.json()["data"]["taskId"]
    assert not any("Traceback" in line for line in server.output), "".join(server.output)
    assert server.proc is not None and server.proc.poll() is None


def verdict(hostile: Hostile, status: int, headers: dict[str, str], body: bytes) -> str | None:
    """Return what is wrong with an answer, or None."""
    if not 400 <= status < 500:
        return f"status {status}: {body[:200]!r}"
    if hostile.status is not None and status != hostile.status:
        return f"status {status}, expected {hostile.status}: {body[:200]!r}"
    if not headers.get("content-type", "").startswith("application/json"):
        return f"content type {headers.get('content-type')!r}: {body[:120]!r}"
    try:
        envelope = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:200]!r}"
    if envelope.get("code") != status or not isinstance(envelope.get("message"), str):
        return f"not the envelope: {envelope}"
    error = (envelope.get("data") or {}).get("error")
    if not isinstance(error, str) or not error:
        return f"no error named: {envelope}"
    return None
