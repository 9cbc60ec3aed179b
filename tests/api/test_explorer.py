"""The API explorer works with no outside connection: every non-loopback request is blocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.browser import block_outside_requests, chromium, needs_chromium

pytestmark = [pytest.mark.slow, needs_chromium]  # a browser and the server


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, list[str]]]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context, block_outside_requests(context)


def test_assets_are_served_by_the_package(client: httpx.Client) -> None:
    page = client.get("/docs").text
    assert "/static/api-docs/swagger-ui-bundle.js" in page and "https://" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        response = client.get(f"/static/api-docs/{asset}")
        assert response.status_code == 200 and len(response.content) > 100_000, asset
    assert "https://" not in client.get("/redoc").text


def test_try_it_out_works_offline(offline, server: str, artifacts_dir: Path) -> None:
    context, blocked = offline
    page = context.new_page()
    page.goto(f"{server}/docs")
    operation = page.locator(
        "#operations-segmentation-human_image_segmentation_human_image_segmentation_post"
    )
    operation.wait_for(timeout=30_000)
    assert page.locator(".opblock").count() >= 5  # every route, not only the seed

    operation.locator(".opblock-summary").click()
    # "Try it out" is on from the start (tryItOutEnabled): Execute is there at once
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=60_000)
    assert status.inner_text().strip() == "200"
    body = operation.locator(".live-responses-table tbody .response-col_description pre").first
    assert '"result"' in body.inner_text()
    page.screenshot(path=str(artifacts_dir / "api-explorer.png"), full_page=False)
    assert blocked == []
    page.close()


def test_redoc_renders_offline(offline, server: str, artifacts_dir: Path) -> None:
    context, blocked = offline
    page = context.new_page()
    page.goto(f"{server}/redoc")
    page.locator("h2", has_text="Segment the person in a photo").wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts_dir / "api-redoc.png"))
    assert blocked == []
    page.close()
