"""The web playground at `/`, end to end in headless Chromium against the real server."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.support import images
from tests.support.browser import chromium, needs_chromium
from tests.support.videos import person_frames, read_clip, write_clip

pytestmark = [pytest.mark.slow, needs_chromium]  # a browser and the server


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser, server: str) -> Iterator[object]:
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.goto(f"{server}/")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    page.problems = problems
    yield page
    page.close()


def _wait_done(page) -> None:
    page.wait_for_selector("body[data-state=done]", timeout=60_000)


def test_upload_shows_result_and_downloads_it(page, tmp_path: Path, artifacts_dir: Path) -> None:
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(images.astronaut_jpeg())
    assert "selfie" in page.locator("#model option").all_inner_texts()
    assert page.input_value("#type") == "foreground"

    page.set_input_files("#file", str(photo))
    _wait_done(page)

    assert page.is_visible("#result") and not page.is_visible("#error")
    size = page.eval_on_selector("#after", "img => [img.naturalWidth, img.naturalHeight]")
    assert size == [512, 512]
    assert page.eval_on_selector("#before", "img => img.naturalWidth") == 512
    assert "512 × 512 px" in page.inner_text("#meta")

    page.fill("#slider", "25")
    assert page.eval_on_selector("#compare", "e => e.style.getPropertyValue('--pos')") == "25%"
    page.screenshot(path=str(artifacts_dir / "playground.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == "astronaut-foreground.png"
    cutout = Image.open(download.path())
    assert cutout.format == "PNG" and cutout.mode == "RGBA" and cutout.size == (512, 512)
    head, corners = images.person_region_alpha(np.asarray(cutout)[:, :, 3])
    assert head > 0.9 and corners < 0.1
    assert page.problems == []


def test_changing_type_or_model_reruns(page, tmp_path: Path) -> None:
    photo = tmp_path / "portrait.png"
    photo.write_bytes(images.encode(images.astronaut().resize((300, 200)), "PNG"))
    page.set_input_files("#file", str(photo))
    _wait_done(page)
    page.evaluate("document.body.dataset.state = ''")
    page.select_option("#type", "")
    _wait_done(page)
    href = page.get_attribute("#download", "download")
    assert href == "portrait-matte.png"
    data = page.evaluate(
        """async () => {
            const blob = await (await fetch(document.getElementById('download').href)).blob();
            const bytes = new Uint8Array(await blob.arrayBuffer());
            return btoa(String.fromCharCode(...bytes));
        }"""
    )
    matte = Image.open(io.BytesIO(base64.b64decode(data)))
    assert matte.mode == "L" and matte.size == (300, 200)

    page.evaluate("document.body.dataset.state = ''")
    page.select_option("#model", "selfie-landscape")
    _wait_done(page)
    assert "selfie-landscape" in page.inner_text("#meta")


def test_dropped_file_is_segmented(page) -> None:
    jpeg = base64.b64encode(images.astronaut_jpeg()).decode()
    page.evaluate(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], 'dropped.jpg', {type: 'image/jpeg'}));
            const drop = document.getElementById('drop');
            drop.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true}));
        }""",
        jpeg,
    )
    _wait_done(page)
    assert page.get_attribute("#download", "download") == "dropped-foreground.png"


def test_pasted_url_is_fetched_by_the_server(page, file_server: str) -> None:
    page.fill("#url", f"{file_server}/files/astronaut.jpg")
    page.click("#url-form button")
    _wait_done(page)
    assert page.eval_on_selector("#after", "img => img.naturalWidth") == 512


def test_errors_are_sentences(page, tmp_path: Path, server: str, artifacts_dir: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    page.set_input_files("#file", str(text))
    page.wait_for_selector("#error:not([hidden])", timeout=30_000)
    expected = httpx.post(
        f"{server}/human_image_segmentation",
        json={"img": base64.b64encode(b"not a photo").decode()},
    ).json()["error"]["message"]
    assert page.inner_text("#error") == expected
    assert "{" not in expected and expected.endswith(".")
    page.screenshot(path=str(artifacts_dir / "playground-error.png"))

    page.fill("#url", "ftp://example.invalid/photo.jpg")
    page.click("#url-form button")
    page.wait_for_function(
        "document.getElementById('error').textContent.includes('ftp')", timeout=30_000
    )
    assert page.is_visible("#error")


def _requests(page) -> list[dict]:
    """The JSON bodies the page sends to the seed endpoint, in order."""
    bodies: list[dict] = []

    def record(request) -> None:
        if request.method == "POST" and request.url.endswith("/human_image_segmentation"):
            bodies.append(json.loads(request.post_data))

    page.on("request", record)
    return bodies


def _rerun(page, action: Callable[[], object], state: str = "done") -> None:
    page.evaluate("document.body.dataset.state = ''")
    action()
    page.wait_for_selector(f"body[data-state={state}]", timeout=60_000)


def _pixel(page, selector: str, x: int, y: int) -> list[int]:
    return page.eval_on_selector(
        selector,
        """(img, [x, y]) => {
            const canvas = document.createElement('canvas');
            canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
            const context = canvas.getContext('2d');
            context.drawImage(img, 0, 0);
            return Array.from(context.getImageData(x, y, 1, 1).data);
        }""",
        [x, y],
    )


def _visible_params(page) -> list[str]:
    return page.eval_on_selector_all(
        ".params", "sets => sets.filter(set => !set.hidden).map(set => set.dataset.for)"
    )


def test_every_type_with_its_parameters(page, tmp_path: Path, artifacts_dir: Path) -> None:
    bodies = _requests(page)
    photo, backdrop = tmp_path / "astronaut.jpg", tmp_path / "coffee.png"
    photo.write_bytes(images.astronaut_jpeg())
    images.coffee().save(backdrop)
    _rerun(page, lambda: page.set_input_files("#file", str(photo)))
    assert _visible_params(page) == []

    _rerun(page, lambda: page.select_option("#type", "background"))
    assert _visible_params(page) == ["background"]
    assert bodies[-1]["type"] == "background" and bodies[-1]["bg_color"] == "#2f6fed"
    assert _pixel(page, "#after", 2, 2)[:3] == [47, 111, 237]
    _rerun(page, lambda: page.fill("#bg-color", "#ff0000"))
    assert bodies[-1]["bg_color"] == "#ff0000"
    assert _pixel(page, "#after", 2, 2)[:3] == [255, 0, 0]
    _rerun(page, lambda: page.set_input_files("#bg-file", str(backdrop)))
    assert "bg_img" in bodies[-1] and "bg_color" not in bodies[-1]
    assert _pixel(page, "#after", 2, 2)[:3] != [255, 0, 0]
    page.screenshot(path=str(artifacts_dir / "playground-background.png"), full_page=True)

    _rerun(page, lambda: page.select_option("#type", "blur"))
    assert _visible_params(page) == ["blur"] and bodies[-1]["blur_strength"] == 0.5
    _rerun(page, lambda: page.fill("#blur-strength", "0.9"))
    assert bodies[-1]["blur_strength"] == 0.9 and page.inner_text("#blur-value") == "0.90"

    _rerun(page, lambda: page.select_option("#type", "crop"))
    assert bodies[-1]["crop_margin"] == "5%"
    assert page.is_visible("#side") and not page.is_visible("#compare")
    tight = page.eval_on_selector("#side-after", "img => img.naturalWidth")
    _rerun(page, lambda: (page.fill("#crop-margin", "60px"), page.press("#crop-margin", "Enter")))
    assert bodies[-1]["crop_margin"] == "60px"
    assert page.eval_on_selector("#side-after", "img => img.naturalWidth") > tight
    page.screenshot(path=str(artifacts_dir / "playground-crop.png"), full_page=True)

    _rerun(page, lambda: page.select_option("#type", "id_photo"))
    assert _visible_params(page) == ["id_photo"]
    _rerun(page, lambda: page.select_option("#id-preset", "passport"))
    _rerun(page, lambda: page.select_option("#id-color", "blue"))
    assert bodies[-1] | {"img": ""} == {
        "img": "",
        "type": "id_photo",
        "model": "auto",
        "id_preset": "passport",
        "bg_color": "blue",
    }
    size = page.eval_on_selector("#side-after", "img => [img.naturalWidth, img.naturalHeight]")
    assert size == [413, 531] and "ID photo · 413 × 531 px" in page.inner_text("#meta")
    assert page.is_visible("#side-before") and not page.is_visible("#compare")
    page.screenshot(path=str(artifacts_dir / "playground-id-photo.png"), full_page=True)

    _rerun(page, lambda: page.select_option("#type", "mask"))
    _rerun(page, lambda: page.select_option("#format", "jpeg"))
    assert bodies[-1]["format"] == "jpeg"
    assert page.get_attribute("#download", "download") == "astronaut-mask.jpg"
    assert page.is_visible("#compare") and not page.is_visible("#side")
    _rerun(page, lambda: page.select_option("#type", "foreground"))  # no JPEG with alpha
    assert page.input_value("#format") == "png" and "format" not in bodies[-1]
    assert page.eval_on_selector('#format option[value="jpeg"]', "option => option.disabled")
    assert page.problems == []


def test_no_person_is_said_plainly(page, tmp_path: Path, artifacts_dir: Path) -> None:
    cup = tmp_path / "coffee.jpg"
    cup.write_bytes(images.encode(images.coffee()))
    _rerun(page, lambda: page.set_input_files("#file", str(cup)), state="empty")
    assert "No person found" in page.inner_text("#notice")
    assert page.inner_text("#status") == "No person found."
    assert not page.is_visible("#error")
    page.screenshot(path=str(artifacts_dir / "playground-no-person.png"), full_page=True)

    _rerun(page, lambda: page.select_option("#type", "crop"), state="empty")  # 422 no_person
    assert "No person was found" in page.inner_text("#notice")
    assert not page.is_visible("#error") and not page.is_visible("#result")

    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(images.astronaut_jpeg())
    _rerun(page, lambda: page.set_input_files("#file", str(photo)))
    assert not page.is_visible("#notice")


def test_confidence_from_the_header_is_shown(page, tmp_path: Path) -> None:
    def add_confidence(route) -> None:
        response = route.fetch()
        headers = {**response.headers, "x-humanseg-confidence": "0.87"}
        route.fulfill(response=response, headers=headers)

    page.route("**/human_image_segmentation", add_confidence)
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(images.astronaut_jpeg())
    _rerun(page, lambda: page.set_input_files("#file", str(photo)))
    assert "confidence 87 %" in page.inner_text("#meta")


def test_phone_width(page, tmp_path: Path, artifacts_dir: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(images.astronaut_jpeg())
    _rerun(page, lambda: page.set_input_files("#file", str(photo)))
    page.screenshot(path=str(artifacts_dir / "playground-390-cutout.png"), full_page=True)
    _rerun(page, lambda: page.select_option("#type", "id_photo"))
    page.screenshot(path=str(artifacts_dir / "playground-390-id-photo.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    boxes = page.eval_on_selector_all(
        "#side figure", "figures => figures.map(f => f.getBoundingClientRect().top)"
    )
    assert boxes[1] > boxes[0]  # stacked, one under the other, on a narrow screen
    assert page.problems == []


def test_a_clip_becomes_a_video_that_plays(page, tmp_path: Path, artifacts_dir: Path) -> None:
    """A clip goes through the video jobs API; the result plays in the page and downloads."""
    clip = write_clip(tmp_path / "talk.webm", person_frames(6, (160, 120)))
    _rerun(page, lambda: page.set_input_files("#file", str(clip)))
    assert page.is_visible("#video") and not page.is_visible("#compare")
    page.wait_for_function("() => document.getElementById('video').readyState >= 1")
    duration = page.eval_on_selector("#video", "video => video.duration")
    assert duration == pytest.approx(0.6, abs=0.15)
    assert "foreground video" in page.inner_text("#meta") and "6 frames" in page.inner_text("#meta")
    page.screenshot(path=str(artifacts_dir / "playground-video.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == "talk-foreground.webm"
    assert read_clip(Path(download.path())).frames == 6
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(images.astronaut_jpeg())
    _rerun(page, lambda: page.set_input_files("#file", str(photo)))
    assert page.is_visible("#after") and not page.is_visible("#video")  # back to photos
    assert page.problems == []
