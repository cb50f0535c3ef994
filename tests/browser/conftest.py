"""A real headless Chromium (Debian's, WebGL2 through SwiftShader) driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
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


@pytest.fixture
def page(
    browser: Browser, live_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    watch = PageWatch(live_server)
    origin = urlsplit(live_server).netloc

    def on_console(msg):  # type: ignore[no-untyped-def]
        if msg.type == "error":
            watch.console_errors.append(msg.text)

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: watch.console_errors.append(f"page error: {exc}"))
    pg.on(
        "request",
        lambda req: (
            None
            if urlsplit(req.url).netloc == origin or req.url.startswith(("data:", "blob:"))
            else watch.foreign_requests.append(req.url)
        ),
    )
    yield pg, watch
    failed = request.node.stash.get(_FAILED, False)
    if failed:
        shot = tmp_path / "failure.png"
        pg.screenshot(path=shot)
        print(f"screenshot of the failure: {shot}")
    context.close()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report
