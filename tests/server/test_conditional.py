"""Conditional GET on the viewer's files and OGC API links that survive any filter value."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.server.revalidation import assert_revalidates
from twin3d.server.conditional import etag_matches


@pytest.mark.parametrize(
    "path", ["/", "/index.html", "/style.css", "/print.css", "/js/main.js", "/vendor/MANIFEST.json"]
)
def test_the_viewers_files_revalidate(client: TestClient, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    assert_revalidates(client, path, first.headers["etag"])


def test_the_viewers_pages_have_nginx_s_etag(client: TestClient) -> None:
    """nginx serves these files itself in production: the same tag from both, so a client revalidates with either."""
    etag = client.get("/style.css").headers["etag"]
    mtime, size = etag.strip('"').split("-")
    assert int(size, 16) == len(client.get("/style.css").content)
    assert int(mtime, 16) > 1_600_000_000  # seconds since 1970, in hex


@pytest.mark.parametrize(
    ("asked", "expected"),
    [('"a"', True), ('W/"a"', True), ('"b" , W/"a"', True), ("*", True), ('"b"', False), ('W/"b", "c"', False)],
)
def test_tags_compare_weakly_in_lists(asked: str, expected: bool) -> None:
    assert etag_matches(asked, '"a"') is expected
    assert etag_matches(asked, 'W/"a"') is expected


@pytest.mark.parametrize("value", ["Lauf Landratsamt/Altdorfer Straße", "A & B", "100% #1", "Grüne Wiese?x=1"])
def test_paging_links_keep_a_filter_value_whole(client: TestClient, value: str) -> None:
    base = "/api/twins/lauf/features/collections/facilities/items"
    page = client.get(base, params={"name": value, "limit": 1}).json()
    for link in page["links"]:
        query = dict(parse_qsl(urlsplit(link["href"]).query))
        assert query["name"] == value, link["href"]  # one filter, the whole value: not cut at "&" or "#"
        again = client.get(link["href"])
        assert again.status_code == 200, link["href"]
        assert again.json()["numberMatched"] == page["numberMatched"]
    if value.startswith("Lauf Landratsamt"):  # four stops of that name: the next link leads to the second one
        assert page["numberMatched"] == 4
        following = next(link["href"] for link in page["links"] if link["rel"] == "next")
        assert client.get(following).json()["features"][0]["properties"]["name"] == value
