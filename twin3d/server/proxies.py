"""The client's address, and the one place that believes a reverse proxy about it.

Rate limits of participation and scenarios count the (hashed) client address. Behind a reverse proxy every request
comes from the proxy, which names the real client in ``X-Forwarded-For``; but anyone can send that header, so it is
believed only when the socket peer is a configured proxy (``TWIN3D_TRUSTED_PROXIES``, default none). uvicorn's own
proxy handling (which trusts 127.0.0.1 by default) is switched off wherever twin3d starts it (``proxy_headers=False``).

:class:`ForwardedMiddleware` sets ``scope["client"]`` (and the scheme from ``X-Forwarded-Proto``) before anything
else runs; every caller of the client address reads it through :func:`client_address`.

The header is read from the right: each trusted proxy appends the address it saw, so the rightmost address that is
not itself a trusted proxy is the client. What the client wrote further left is ignored.

Example:
    >>> trusted = (ipaddress.ip_network("10.0.0.2"),)
    >>> forwarded_client("10.0.0.2", ["203.0.113.9, 198.51.100.7"], trusted)
    '198.51.100.7'
    >>> forwarded_client("198.51.100.7", ["203.0.113.9"], trusted)
    '198.51.100.7'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 20  # addresses read from the right of X-Forwarded-For, at most


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(host: str, trusted: Sequence[Network]) -> bool:
    """Whether ``host`` (an address as the socket gave it) is one of the trusted proxies."""
    address = _ip(host)
    return address is not None and any(address in net for net in trusted)


def forwarded_client(peer: str, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client's address: from ``X-Forwarded-For`` if ``peer`` is a trusted proxy, else ``peer`` itself.

    Args:
        peer: the socket peer's address.
        forwarded_for: the values of every ``X-Forwarded-For`` header, in order.
        trusted: the trusted proxies.

    Returns:
        The rightmost forwarded address that is not a trusted proxy; when every one is, the leftmost; when an
        entry is not an address (a proxy that does not append what it saw), the last trusted hop before it.
    """
    if not trusted or not is_trusted(peer, trusted):
        return peer
    hops = [part for value in forwarded_for for part in value.split(",") if part.strip()]
    client = peer
    for part in reversed(hops[-MAX_HOPS:]):
        address = _ip(part)
        if address is None:
            return client
        client = str(address)
        if not any(address in net for net in trusted):
            return client
    return client


class ForwardedMiddleware:
    """Pure ASGI middleware: the client address and scheme as a trusted proxy forwarded them.

    Args:
        app: the app it wraps.
        trusted: the trusted proxies; empty: the middleware changes nothing.
    """

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] in ("http", "websocket") and scope.get("client"):
            peer = scope["client"][0]
            if is_trusted(peer, self.trusted):
                headers = scope.get("headers", [])
                values = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
                client = forwarded_client(peer, values, self.trusted)
                if client != peer:
                    scope["client"] = (client, 0)
                proto = next((v.decode("latin-1") for k, v in headers if k == b"x-forwarded-proto"), "")
                proto = proto.split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
        await self.app(scope, receive, send)


def client_address(request: Request) -> str:
    """The client's address as :class:`ForwardedMiddleware` left it (hashed at once by its users, never kept)."""
    return request.client.host if request.client else "unknown"
