"""A real headless Chromium (Debian's, WebGL2 through SwiftShader) driven by Playwright."""

from __future__ import annotations

import io
import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, FloatRect, Page, Request, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import free_port, private_paths, serving
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def launch_browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright; one per session (the ``browser`` fixture of tests/conftest.py), since a
    second sync Playwright cannot start while the first one runs."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@dataclass
class PageWatch:
    """What a page did that a test must fail on: console errors and requests to other origins."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.foreign_requests == [], self.foreign_requests


@contextmanager
def watched_page(
    browser: Browser, base_url: str, tmp_path: Path, request: pytest.FixtureRequest, **context_options: Any
) -> Iterator[tuple[Page, PageWatch]]:
    """A fresh page that records console errors and requests leaving ``base_url``'s origin.

    A screenshot is kept under ``tmp_path`` when the test fails. ``context_options`` go to Playwright's
    ``new_context`` (a phone: ``viewport``, ``has_touch``, ``is_mobile``).
    """
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **context_options})
    pg = context.new_page()
    watch = PageWatch(base_url)
    origin = urlsplit(base_url).netloc

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            watch.console_errors.append(msg.text)

    def on_request(req: Request) -> None:
        if urlsplit(req.url).netloc != origin and not req.url.startswith(("data:", "blob:")):
            watch.foreign_requests.append(req.url)

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: watch.console_errors.append(f"page error: {exc}"))
    pg.on("request", on_request)
    try:
        yield pg, watch
    finally:
        if request.node.stash.get(_FAILED, False):
            shot = tmp_path / "failure.png"
            pg.screenshot(path=shot)
            print(f"screenshot of the failure: {shot}")
        context.close()


def drawn_pixels(page: Page, selector: str = "#deck-container") -> np.ndarray:
    """The RGB pixels of ``selector`` (int16, so differences may go negative) once the latest change is drawn:
    deck.gl draws in its animation frame after a change, and the second frame from now comes after that."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
    shot = page.locator(selector).screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def click_until(page: Page, box: FloatRect, x: float, y: float, condition: str, *, attempts: int = 3) -> None:
    """Click at canvas pixel (x, y) until the JavaScript ``condition`` holds.

    A click that lands during a seconds-long software-rendered frame can be missed, as it can be by a person.
    """
    for _attempt in range(attempts):
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.click(box["x"] + x, box["y"] + y)
        try:
            page.wait_for_function(condition, timeout=10_000)
            return
        except PlaywrightTimeoutError:
            continue


@pytest.fixture
def page(
    browser: Browser, live_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, live_server, tmp_path, request) as pair:
        yield pair


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


@contextmanager
def private_server(root: Path, demo_paths: PathSettings, twins: tuple[str, ...]) -> Iterator[str]:
    """The real server on the built demo twins, with live stores of its own under ``root`` (where scenarios are
    written), so that a test's scenarios meet no other test's."""
    port = free_port()
    with serving(create_app(ServerSettings(port=port), private_paths(root, demo_paths, twins)), port) as url:
        yield url


def json_call(
    url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None, *, timeout: float = 30
) -> Any:
    """One JSON request to the local test server (stdlib only: the test extra has no HTTP client)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read())
