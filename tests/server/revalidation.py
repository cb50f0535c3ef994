"""One check of conditional GET for every route that sends an ETag (``twin3d.server.conditional``)."""

from __future__ import annotations

from typing import Any


def assert_revalidates(client: Any, url: str, etag: str, headers: dict[str, str] | None = None) -> None:
    """``url`` answers 304 (no body, the same ETag) to its tag as it was sent, weak (``W/``, as a client holds it
    after nginx compressed the answer), in a list, and to ``*``; and the full answer to a list of other tags."""
    for asked in (etag, f"W/{etag}", f'"elsewhere", W/{etag}', "*"):
        again = client.get(url, headers={**(headers or {}), "If-None-Match": asked})
        assert again.status_code == 304, asked
        assert again.content == b""
        assert again.headers["etag"] == etag
    other = client.get(url, headers={**(headers or {}), "If-None-Match": '"elsewhere", W/"other"'})
    assert other.status_code == 200
