"""Requests to the web services an administrator registered: to nothing else, nothing larger, nothing slower.

The server never fetches a URL a caller names: it asks only the URL stored with a layer when an administrator
registered it (and the legend and paging links of that service on the same host). Each request

- goes to an ``http`` or ``https`` URL only (urllib's ``file:``, ``ftp:`` and ``data:`` handlers are not installed),
  on a host of ``TWIN3D_SERVICE_ALLOWED_HOSTS`` when that list is set;
- follows a redirect only within the registered host;
- sends credentials written into the URL (``https://user:secret@host/...``) as a Basic header, and never names
  them in an error;
- gives up after ``TWIN3D_SERVICE_TIMEOUT_S`` (also for an answer that drips in slowly) and refuses an answer
  larger than its limit.

Failures raise :class:`ServiceError`, an :class:`~twin3d.errors.InputError` about the field ``url``: for an
administrator registering a layer it is a 422 that says what the service did; the tile route turns it into a
plain 502 for the public.

Example:
    >>> up = service_url("https://example.org/wms?map=laerm", ServiceSettings())  # doctest: +SKIP
    >>> fetch(up, {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}, ServiceSettings()).body[:5]  # doctest: +SKIP
    b'<?xml'
"""

from __future__ import annotations

import base64
import http.client
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO, Any
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

from twin3d.errors import InputError
from twin3d.settings import ServiceSettings

KIB = 1024
USER_AGENT = "twin3d (layers from services)"
_CHUNK = 64 * KIB


class ServiceError(InputError):
    """A web service could not be reached, refused, or answered something unusable.

    Attributes:
        status: the HTTP status the service answered with, where that was the failure.
    """

    status: int | None = None


@dataclass(frozen=True)
class Upstream:
    """A registered service URL, split for requests.

    Attributes:
        base: ``scheme://host[:port]/path`` without credentials and query.
        query: the URL's own query parameters (``map=...`` of a MapServer URL), kept in every request.
        host: the lower-case ``host[:port]`` every request must go to.
        auth: the ``Authorization`` header for credentials written into the URL, or None.
    """

    base: str
    query: tuple[tuple[str, str], ...]
    host: str
    auth: str | None = None

    @property
    def shown(self) -> str:
        """The service as clients and messages may name it: its host and path, no credentials, no query."""
        return self.host + (urlsplit(self.base).path.rstrip("/") or "")


def _netloc(parts: Any) -> str:
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def service_url(url: str, settings: ServiceSettings) -> Upstream:
    """Check a URL an administrator gives and split it for requests.

    Raises:
        ServiceError: not http(s), no host, a bad port, or a host outside ``TWIN3D_SERVICE_ALLOWED_HOSTS``.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # a port that is not a number raises here
    except ValueError as exc:
        raise ServiceError(f"not a valid URL: {exc}", record="url", hint="give the service's http(s) URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(
            f"the service URL must start with http:// or https:// and name a host, got scheme {parts.scheme!r}",
            record="url",
            hint="give the service's base URL, e.g. https://example.org/wms",
        )
    host = _netloc(parts)
    allowed = settings.allowed_hosts
    if allowed and (parts.hostname or "").lower() not in allowed and host not in allowed:
        raise ServiceError(
            f"the host {parts.hostname!r} is not among the hosts this server may ask",
            record="url",
            hint="add it to TWIN3D_SERVICE_ALLOWED_HOSTS (the server's settings), or use an allowed service",
        )
    auth = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        auth = "Basic " + base64.b64encode(pair).decode("ascii")
    base = urlunsplit((parts.scheme, host, parts.path or "/", "", ""))
    return Upstream(base, tuple(parse_qsl(parts.query, keep_blank_values=True)), host, auth)


def request_url(upstream: Upstream, params: Mapping[str, str] | None = None) -> str:
    """The URL of one request: the service's own query parameters, then ``params`` (which replace those of the
    same name in any case: a registered ``...?SERVICE=WMS&REQUEST=GetCapabilities`` still works)."""
    if params is None:
        return upstream.base + (("?" + urlencode(upstream.query)) if upstream.query else "")
    replaced = {k.lower() for k in params}
    pairs = [(k, v) for k, v in upstream.query if k.lower() not in replaced] + list(params.items())
    return upstream.base + "?" + urlencode(pairs, safe=",:/")


def same_host_url(upstream: Upstream, link: str) -> str:
    """A link found in a service's answer (a legend, the next page), resolved against the service's URL.

    Raises:
        ServiceError: the link leads to another host or scheme than http(s).
    """
    resolved = urljoin(upstream.base, link.strip())
    parts = urlsplit(resolved)
    if parts.scheme not in ("http", "https") or _netloc(parts) != upstream.host:
        raise ServiceError(
            f"the service links to another host ({parts.hostname!r}), which this server does not ask",
            record="url",
            hint="register the service on that host itself",
        )
    return urlunsplit((parts.scheme, _netloc(parts), parts.path, parts.query, ""))


@dataclass(frozen=True)
class Answer:
    """A service's answer: status, media type (lower case, without parameters) and body."""

    status: int
    media_type: str
    content_type: str
    body: bytes


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs on the host the request went to."""

    def redirect_request(  # noqa: PLR0917  (urllib's signature)
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if new.scheme not in ("http", "https") or _netloc(new) != _netloc(old):
            raise ServiceError(
                f"the service redirects to another host ({new.hostname!r}), which this server does not follow",
                record="url",
                hint="register the URL the service redirects to, if that service is meant",
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),  # the deployment's HTTP(S)_PROXY, as every other client there uses
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _SameHostRedirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _read(response: Any, limit: int, deadline: float, shown: str) -> bytes:
    """The body, read in blocks: refused when larger than ``limit`` or slower than the deadline."""
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise ServiceError(
            f"the service at {shown} answered {int(length) / KIB / KIB:.1f} MB, more than the limit of "
            f"{limit / KIB / KIB:.1f} MB",
            record="url",
            hint="ask for a smaller layer or area, or raise TWIN3D_SERVICE_MAX_RESPONSE_MB",
        )
    parts, size = [], 0
    while chunk := response.read(_CHUNK):
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ServiceError(
                f"the service at {shown} answered more than the limit of {limit / KIB / KIB:.1f} MB",
                record="url",
                hint="ask for a smaller layer or area, or raise TWIN3D_SERVICE_MAX_RESPONSE_MB",
            )
        if time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(parts)


def fetch(
    upstream: Upstream,
    params: Mapping[str, str] | None,
    settings: ServiceSettings,
    *,
    max_bytes: int | None = None,
    url: str | None = None,
    accept: str = "*/*",
) -> Answer:
    """One GET to the service: its URL with ``params``, or ``url`` (a link checked by :func:`same_host_url`).

    Args:
        upstream: the registered service.
        params: query parameters (replacing the URL's own of the same name).
        settings: timeout and size limits.
        max_bytes: the largest body accepted; default ``TWIN3D_SERVICE_MAX_RESPONSE_MB``.
        url: a full URL on the service's host instead of the service URL with ``params``.
        accept: the ``Accept`` header.

    Raises:
        ServiceError: no connection, a timeout, an HTTP error status, a redirect to another host, too large.
    """
    target = same_host_url(upstream, url) if url is not None else request_url(upstream, params)
    limit = max_bytes if max_bytes is not None else int(settings.max_response_mb * KIB * KIB)
    headers = {"User-Agent": USER_AGENT, "Accept": accept}
    if upstream.auth is not None:
        headers["Authorization"] = upstream.auth
    request = urllib.request.Request(target, headers=headers, method="GET")
    deadline = time.monotonic() + settings.timeout_s
    shown = upstream.host
    try:
        with _opener().open(request, timeout=settings.timeout_s) as response:
            body = _read(response, limit, deadline, shown)
            content_type = response.headers.get("Content-Type", "")
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        refused = ServiceError(
            f"the service at {shown} answered HTTP {exc.code}",
            record="url",
            hint="check the URL and the layer name; the service may be down or need credentials",
        )
        refused.status = exc.code
        raise refused from None
    except TimeoutError:
        raise ServiceError(
            f"the service at {shown} did not answer within {settings.timeout_s:g} s",
            record="url",
            hint="try again later, or raise TWIN3D_SERVICE_TIMEOUT_S",
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        if isinstance(reason, TimeoutError):  # a connection that timed out arrives wrapped
            raise ServiceError(
                f"the service at {shown} did not answer within {settings.timeout_s:g} s",
                record="url",
                hint="try again later, or raise TWIN3D_SERVICE_TIMEOUT_S",
            ) from None
        if isinstance(reason, BaseException):
            reason = getattr(reason, "strerror", None) or type(reason).__name__
        raise ServiceError(
            f"the service at {shown} cannot be reached: {reason}",
            record="url",
            hint="check the URL's host and port, and that this server may reach it",
        ) from None
    media = content_type.split(";")[0].strip().lower()
    return Answer(status, media, content_type, body)


IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(body: bytes) -> str | None:
    """The media type of an image by its first bytes (PNG, JPEG, GIF, WebP), or None for anything else."""
    for magic, media in IMAGE_MAGIC:
        if body.startswith(magic):
            return media
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    return None


def shown_url(url: str) -> str:
    """A service URL as clients may see it: host and path only (no credentials, no query with keys in it)."""
    try:
        parts = urlsplit(url.strip())
        return _netloc(parts) + (parts.path.rstrip("/") or "")
    except ValueError:
        return ""
