"""Result URLs: real JPEGs at the documented size, `auto` sizing, and expiry."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from flux2_spec.resources import load
from tests.support.mock_client import MakeMock, MockClient, body
from tests.support.spec import RATIOS, RESOLUTIONS

SIZES = load("sizes")["sizes"]
CASES = [(ratio, res) for ratio in SIZES for res in RESOLUTIONS]


def result_url(mock: MockClient, task_id: str) -> str:
    url: str = json.loads(mock.data(task_id)["resultJson"])["resultUrls"][0]
    return url


def fetch_image(mock: MockClient, url: str) -> Image.Image:
    response = mock.client.get(url)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "JPEG"
    return image


@pytest.fixture
def instant(make_mock: MakeMock) -> MockClient:
    return make_mock(profile="instant", seed=1)


def test_size_table_holds_every_documented_ratio_in_multiples_of_16() -> None:
    assert set(SIZES) == set(RATIOS) - {"auto"}  # auto takes the first input image's ratio
    for ratio, by_res in SIZES.items():
        w, h = map(int, ratio.split(":"))
        for width, height in by_res.values():
            assert width % 16 == 0 and height % 16 == 0
            assert abs(width / height - w / h) < 0.03, ratio
        assert by_res["2K"][0] * by_res["2K"][1] > by_res["1K"][0] * by_res["1K"][1]


@pytest.mark.parametrize(("ratio", "resolution"), CASES)
def test_result_is_a_jpeg_at_the_documented_size(instant: MockClient, ratio: str,
                                                 resolution: str) -> None:
    task_id = instant.task(body(aspect_ratio=ratio, resolution=resolution))
    image = fetch_image(instant, result_url(instant, task_id))
    assert image.size == tuple(SIZES[ratio][resolution])


def test_results_of_different_tasks_differ(instant: MockClient) -> None:
    first = instant.client.get(result_url(instant, instant.task(body("A red fox")))).data
    second = instant.client.get(result_url(instant, instant.task(body("A blue whale")))).data
    assert first != second


@pytest.mark.parametrize(("ratio", "resolution"), [("16:9", "1K"), ("2:3", "2K"), ("3:4", "1K")])
def test_auto_follows_the_mocks_own_input_image(instant: MockClient, ratio: str,
                                                resolution: str) -> None:
    source = result_url(instant, instant.task(body(aspect_ratio=ratio)))
    task_id = instant.task(body(mode="pro-image-to-image", image_urls=[source],
                                aspect_ratio="auto", resolution=resolution))
    image = fetch_image(instant, result_url(instant, task_id))
    assert image.size == tuple(SIZES[ratio][resolution])


@pytest.mark.parametrize("urls", [None, ["https://example.com/input.jpg"],
                                  ["http://localhost/output/task_0123456789abcdef/0.jpg"]])
def test_auto_without_a_known_input_is_square(instant: MockClient, urls: list[str] | None) -> None:
    task_id = instant.task(body(image_urls=urls, aspect_ratio="auto", resolution="2K"))
    assert fetch_image(instant, result_url(instant, task_id)).size == tuple(SIZES["1:1"]["2K"])


def test_auto_uses_only_the_first_input_image(instant: MockClient) -> None:
    wide = result_url(instant, instant.task(body(aspect_ratio="16:9")))
    tall = result_url(instant, instant.task(body(aspect_ratio="9:16")))
    task_id = instant.task(body(image_urls=[tall, wide], aspect_ratio="auto"))
    assert fetch_image(instant, result_url(instant, task_id)).size == tuple(SIZES["9:16"]["1K"])


def test_result_is_404_until_the_task_succeeds(mock: MockClient) -> None:
    task_id = mock.task()
    url = f"/output/{task_id}/0.jpg"
    assert mock.client.get(url).status_code == 404
    mock.clock.advance(3)
    assert mock.client.get(url).status_code == 200
    assert mock.client.get(f"/output/{task_id}/1.jpg").status_code == 404
    failed = mock.task(scenario="fail")
    mock.clock.advance(3)
    response = mock.client.get(f"/output/{failed}/0.jpg")
    assert response.status_code == 404 and response.get_json()["code"] == 404


def test_result_url_expires_after_the_ttl(make_mock: MakeMock) -> None:
    mock = make_mock(pending_ms=0, processing_ms=1000, result_url_ttl_s=60)
    task_id = mock.task()
    mock.clock.advance(1)
    url = result_url(mock, task_id)
    mock.clock.advance(59.999)
    assert mock.client.get(url).status_code == 200
    mock.clock.advance(0.001)
    response = mock.client.get(url)
    assert response.status_code == 410
    answer = response.get_json()
    assert (answer["code"], answer["message"]) == (410, "Result URL expired")
    assert "60 s" in answer["data"]["error"]
    assert mock.data(task_id)["state"] == "success"  # the task itself still answers


def test_default_ttl_is_24_hours(mock: MockClient) -> None:
    task_id = mock.task()
    mock.clock.advance(3 + 86_399)
    assert mock.client.get(f"/output/{task_id}/0.jpg").status_code == 200
    mock.clock.advance(1)
    assert mock.client.get(f"/output/{task_id}/0.jpg").status_code == 410


def test_the_image_shows_the_prompt() -> None:
    from mock_server.domain.images import render

    first = Image.open(io.BytesIO(render("task_same", "A red fox in the snow", 832, 1248)))
    second = Image.open(io.BytesIO(render("task_same", "A blue whale at sea", 832, 1248)))
    blank = Image.open(io.BytesIO(render("task_same", "", 832, 1248)))
    assert first.size == second.size == (832, 1248)
    # Same task (same colours), different prompts: only the text can make the pixels differ.
    assert first.tobytes() != second.tobytes()
    assert first.tobytes() != blank.tobytes()
