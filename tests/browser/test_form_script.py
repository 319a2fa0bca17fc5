"""app.js's form guard on a bare page: the pressed button's name and value are sent, with the
camera's still when the form has a camera, once however often it is pressed; and a page the
browser brings back from its back/forward cache can be sent again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserType, Page, Route, expect

from tests.browser.conftest import ARGS, CHROMIUM

HTML = "text/html; charset=utf-8"
CAMERA = """<div data-camera><video muted playsinline hidden></video><canvas hidden></canvas>
<img class="still" alt="" hidden><p data-camera-status></p><input name="photo" type="file"></div>"""


def bare_page(*, camera: bool) -> str:
    kind = "data-camera-form" if camera else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"></head><body>
<form method="post" action="/sent" enctype="multipart/form-data" {kind}>
<input name="note" value="说明">{CAMERA if camera else ""}
<button name="decision" value="uphold">成立</button>
<button name="decision" value="reject">驳回</button></form>
<script src="/static/app.js"></script></body></html>"""


class Posts(list[bytes]):
    """The bodies the bare page posted (served by the test, not the app)."""

    def serve(self, page: Page, live_server: str, *, camera: bool) -> None:
        def answer(route: Route) -> None:
            self.append(route.request.post_data_buffer or b"")
            route.fulfill(body="<!doctype html><p id=sent>sent</p>", content_type=HTML)

        page.route(
            f"{live_server}/form",
            lambda route: route.fulfill(body=bare_page(camera=camera), content_type=HTML),
        )
        page.route(f"{live_server}/sent", answer)
        page.goto(f"{live_server}/form")
        expect(page.locator("html")).to_have_attribute("data-ready", "1")


def field(body: bytes, name: str) -> bytes | None:
    """The value of one multipart field (None: not sent)."""
    head = f'name="{name}"\r\n\r\n'.encode()
    if head not in body:
        return None
    start = body.index(head) + len(head)
    return body[start : body.index(b"\r\n", start)]


def test_the_pressed_button_is_sent_once(page: Page, live_server: str) -> None:
    posts = Posts()
    posts.serve(page, live_server, camera=False)
    page.get_by_role("button", name="驳回").dblclick()
    expect(page.locator("#sent")).to_be_visible()
    assert len(posts) == 1
    assert (field(posts[0], "decision"), field(posts[0], "note")) == (b"reject", "说明".encode())


def test_a_camera_form_sends_the_still_with_the_pressed_button_once(
    page: Page, live_server: str
) -> None:
    posts = Posts()
    posts.serve(page, live_server, camera=True)
    expect(page.locator("[data-camera]")).to_have_attribute("data-live", "1", timeout=10_000)
    page.get_by_role("button", name="驳回").dblclick()
    expect(page.locator("#sent")).to_be_visible()
    assert len(posts) == 1
    assert field(posts[0], "decision") == b"reject"
    assert b'filename="camera.jpg"\r\nContent-Type: image/jpeg' in posts[0]


@pytest.fixture
def caching_browser(browser_type: BrowserType) -> Iterator[Browser]:
    """Chromium as people run it: Playwright turns the back/forward cache off by default."""
    browser = browser_type.launch(
        executable_path=str(CHROMIUM),
        args=ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    yield browser
    browser.close()


def test_a_form_brought_back_from_the_cache_can_be_sent_again(
    caching_browser: Browser, live_server: str
) -> None:
    page = caching_browser.new_page()
    posts = Posts()
    posts.serve(page, live_server, camera=False)
    page.evaluate("window.keptInCache = true")
    page.get_by_role("button", name="成立").click()
    expect(page.locator("#sent")).to_be_visible()
    page.go_back(wait_until="commit")  # a page from the cache fires no load event
    assert page.evaluate("window.keptInCache === true")  # the same page, not loaded again
    expect(page.locator("form")).not_to_have_attribute("data-sent", "1")
    page.get_by_role("button", name="驳回").click()
    expect(page.locator("#sent")).to_be_visible()
    assert [field(p, "decision") for p in posts] == [b"uphold", b"reject"]
