"""Conditional GET (RFC 9110, section 13.1.2): the one ETag comparison of every route that sends an ETag.

Tiles, vector tiles, layer tiles and tilesets, models and the viewer's files all answer ``If-None-Match`` here:
``*`` or a list of tags, each compared weakly (the ``W/`` prefix of either side is ignored). The weak comparison
matters behind nginx: it turns a strong tag weak when it compresses an answer, and a client then revalidates with
``W/"..."``, which must still get 304.

Example:
    >>> etag_matches('"a", W/"b"', '"b"')
    True
    >>> etag_matches('"a"', '"b"')
    False
"""

from __future__ import annotations

import hashlib
import os

from starlette.requests import Request
from starlette.responses import Response


def nginx_etag(st: os.stat_result) -> str:
    """nginx's ETag of a file (``"%xT-%xO"``: mtime seconds and size in hex), so the app and nginx name it alike."""
    return f'"{int(st.st_mtime):x}-{st.st_size:x}"'


def content_etag(data: bytes) -> str:
    """A strong ETag of some bytes (an answer, or the parts that decide it): 24 hex digits of BLAKE2b."""
    return '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag``: ``*``, or one of its tags by weak comparison."""
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """The 304 answer (with ``headers``: its ETag and caching) when the request's ``If-None-Match`` names the ETag
    in ``headers``; None when the full answer is due."""
    asked = request.headers.get("if-none-match")
    if asked and etag_matches(asked, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return None
