"""What every HTTP exchange gets whatever its route: strict JSON bodies, HEAD as GET, and the security headers.

Three pure ASGI middlewares, one concern each, added once in :func:`twin3d.server.app.create_app`:

- :class:`StrictJSONMiddleware`: a JSON body with ``NaN``, ``Infinity`` or a number too large for a float (``1e400``
  is infinity to Python's ``json``) is refused with FastAPI's own 422 for invalid JSON (``{"detail": [{"type":
  "json_invalid", ...}]}``), before any route sees it. JSON has no such numbers; Python's parser accepts them, and a
  non-finite float that slips past a model breaks arithmetic, SQL and the JSON of the answer.
- :class:`HeadMiddleware`: HEAD is answered as GET without the body (same status and headers), on every route.
  FastAPI's routes answer HEAD with 405, Starlette's static files do not: one rule for all. It must run outside
  :class:`twin3d.server.access.AccessMiddleware`, so that access is decided for the GET it becomes.
- :class:`SecurityHeadersMiddleware`: ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy`` on every answer;
  HTML pages may be framed by their own origin only (a page with a policy of its own keeps it); the viewer's page
  gets its own policy (from its ``<meta>``) as a header, with ``frame-ancestors``, which a ``<meta>`` cannot set.

Example:
    >>> non_finite_number(b'{"lon": NaN}')
    'NaN'
    >>> non_finite_number(b'{"lon": 1e400}')
    '1e400'
    >>> non_finite_number(b'{"lon": 11.28}') is None
    True
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = "nosniff"
REFERRER_POLICY = "same-origin"
"""Links to other sites carry no Referer (a shared view's URL may name a place); the app's own requests do."""
FRAME_POLICY = "frame-ancestors 'self'; base-uri 'self'; object-src 'none'; form-action 'self'"
"""What every HTML page of the app declares at least: framed by its own origin only (clickjacking), no plugins, no
foreign ``<base>`` or form targets. The directives a ``<meta>`` policy leaves out are added from here."""
FRAME_ANCESTORS = "frame-ancestors 'self'"
VIEWER_PAGES = frozenset({"/", "/index.html"})
_CSP_META = re.compile(
    r"""<meta\s+http-equiv=["']Content-Security-Policy["']\s+content=(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL
)
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;|$)", re.IGNORECASE)
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FLOAT_DIGITS = 309  # an integer with more digits than this is infinite as a float (float max is 1.8e308)


# ------------------------------------------------------------------------------------------------------------------
# Strict JSON bodies


class NonFiniteNumber(json.JSONDecodeError):
    """A JSON body holds a number JSON does not have (NaN, Infinity) or one no float can hold.

    A :class:`json.JSONDecodeError`, so that FastAPI answers it as it answers any invalid JSON.
    """

    def __init__(self, token: str, doc: str, field: str | None = None) -> None:
        where = f" at {field}" if field else ""
        super().__init__(f"{token}{where} is not a JSON number: send a finite number or null", doc, 0)
        self.token = token
        self.field = field


class _Refused(Exception):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _constant(token: str) -> float:
    raise _Refused(token)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(text)
    return value


def _int(text: str) -> int:
    # Checked before int(): 10**400 is a valid int but infinite as the float a model would make of it, and Python
    # refuses ints of over 4,300 digits with a ValueError of its own.
    if len(text.lstrip("-")) > _FLOAT_DIGITS:
        raise _Refused(text[:20] + "..." if len(text) > 20 else text)
    return int(text)


def non_finite_number(body: bytes) -> str | None:
    """The first number in a JSON body that is not a finite JSON number, as written; None if there is none.

    A body that is not JSON at all is not judged here (None): the route answers it as it always does.
    """
    try:
        json.loads(body, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except _Refused as refused:
        return refused.token
    except (ValueError, RecursionError):
        return None
    return None


def _non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) > _FLOAT_DIGITS


def non_finite_field(body: bytes) -> str | None:
    """Where the first non-finite number of a JSON body is, as a dotted path (``measures.0.level_m``); None if it
    cannot be told (only called for a body :func:`non_finite_number` refused, so reading it leniently is safe)."""
    try:
        stack: list[tuple[str, object]] = [("", json.loads(body))]
    except (ValueError, RecursionError):
        return None
    while stack:  # depth first, in document order
        path, value = stack.pop()
        if _non_finite(value):
            return path or None
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in reversed(list(enumerate(value))))
    return None


def _is_json(scope: Scope) -> bool:
    content_type = next((v for k, v in scope.get("headers", []) if k == b"content-type"), None)
    return content_type is None or bool(_JSON_TYPE.match(content_type.decode("latin-1")))


class StrictJSONMiddleware:
    """Refuse JSON request bodies with non-finite numbers (422, FastAPI's shape for invalid JSON).

    The body is checked as the route reads it, chunk by chunk through ``receive``, so the route's own body size
    limit still stops a large body before it is held in memory; the last chunk is checked with all the ones before.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _METHODS_WITH_BODY or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        started = False

        async def checked_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body = b"".join(chunks)
                    token = non_finite_number(body)
                    if token is not None:
                        raise NonFiniteNumber(token, body.decode("utf-8", "replace"), non_finite_field(body))
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, checked_receive, watched_send)
        except NonFiniteNumber as exc:
            # FastAPI answers it as invalid JSON where it reads the body; this is for a route that reads it itself.
            if started:
                raise
            await invalid_json_response(exc)(scope, receive, send)


def invalid_json_response(exc: NonFiniteNumber) -> JSONResponse:
    """The 422 FastAPI gives for a body that is not valid JSON."""
    detail = {"type": "json_invalid", "loc": ["body", exc.pos], "msg": "JSON decode error", "input": {}}
    return JSONResponse({"detail": [{**detail, "ctx": {"error": exc.msg}}]}, status_code=422)


# ------------------------------------------------------------------------------------------------------------------
# HEAD


class HeadMiddleware:
    """Answer HEAD as GET with the body left out: the same status and headers, ``Content-Length`` included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start" or not kind.startswith("http.response."):
                await send(message)
            elif kind in ("http.response.body", "http.response.pathsend", "http.response.zerocopysend"):
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send(message)  # trailers

        await self.app({**scope, "method": "GET"}, receive, headers_only)


# ------------------------------------------------------------------------------------------------------------------
# Security headers


def _directives(policy: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            out.setdefault(name.lower(), value.strip())
    return out


def with_frame_policy(policy: str, extra: str = FRAME_POLICY) -> str:
    """``policy`` with the directives of ``extra`` that it does not set itself."""
    own = _directives(policy)
    added = [f"{name} {value}" for name, value in _directives(extra).items() if name not in own]
    return "; ".join(part for part in (policy.strip().rstrip(";").strip(), *added) if part)


def viewer_policy(viewer_dir: Path | None) -> str:
    """The Content-Security-Policy header of the viewer's page: its ``<meta>`` policy (what the page needs, kept
    where the page is written) with :data:`FRAME_POLICY` added; :data:`FRAME_POLICY` alone if it declares none."""
    page = viewer_dir / "index.html" if viewer_dir is not None else None
    text = page.read_text(encoding="utf-8") if page is not None and page.is_file() else ""
    found = _CSP_META.search(text)
    return with_frame_policy(html.unescape(found.group(2)) if found else "")


class SecurityHeadersMiddleware:
    """Add the security headers to every answer; a header a route set itself is kept.

    Args:
        app: the app it wraps.
        viewer_csp: the policy of the viewer's page (:func:`viewer_policy`).
    """

    def __init__(self, app: ASGIApp, viewer_csp: str) -> None:
        self.app = app
        self.viewer_csp = viewer_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        viewer_page = scope["path"] in VIEWER_PAGES

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", NOSNIFF)
                headers.setdefault("Referrer-Policy", REFERRER_POLICY)
                if headers.get("content-type", "").lower().startswith("text/html"):
                    own = headers.get("content-security-policy")
                    if viewer_page:
                        headers["Content-Security-Policy"] = self.viewer_csp
                    elif own is None:
                        headers["Content-Security-Policy"] = FRAME_POLICY
                    else:  # a page with a policy of its own (a report) keeps it, framing limited if it is not
                        headers["Content-Security-Policy"] = with_frame_policy(own, FRAME_ANCESTORS)
            await send(message)

        await self.app(scope, receive, with_headers)
