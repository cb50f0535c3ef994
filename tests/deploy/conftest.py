"""The browser report hook of tests/browser, for the tests here that drive Chromium through nginx (the ``browser``
fixture itself is the session's one, in tests/conftest.py)."""

from tests.browser.conftest import pytest_runtest_makereport

__all__ = ["pytest_runtest_makereport"]
