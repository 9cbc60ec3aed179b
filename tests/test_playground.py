"""The web playground at `/`, end to end in headless Chromium against the real server."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import images
import numpy as np
import pytest
from browser import chromium, needs_chromium
from PIL import Image

pytestmark = needs_chromium


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
