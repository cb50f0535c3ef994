"""twin3d's Python client for planners' and analysts' notebooks (``pip install 'twin3d[notebook]'``).

It reads a twin3d server the way the viewer does, through the caller's role and the privacy gate, and hands back
pandas and geopandas frames; scenarios are built from the server's own measure models and run on the server;
:mod:`twin3d.client.deck` draws any of it with pydeck, offline.

Example:
    >>> import twin3d.client as t3
    >>> lauf = t3.connect("http://127.0.0.1:8000").twin("lauf")  # doctest: +SKIP
    >>> lauf.buildings().plot(column="height")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
from typing import Any

# The frames and maps need the optional extra: say so at the import, not deep in a first call.
_MISSING = [name for name in ("geopandas", "pandas", "pydeck", "httpx2") if importlib.util.find_spec(name) is None]
if _MISSING:
    raise ModuleNotFoundError(
        f"twin3d.client needs {', '.join(_MISSING)}: pip install 'twin3d[notebook]'", name=_MISSING[0]
    )

from twin3d.client import measures  # noqa: E402
from twin3d.client.errors import (  # noqa: E402
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServerError,
    ServerUnavailable,
    TooLarge,
    TwinClientError,
    Unauthorized,
)
from twin3d.client.http import Session  # noqa: E402
from twin3d.client.scenarios import Scenario, ScenarioResults  # noqa: E402
from twin3d.client.twin import Twin  # noqa: E402

__all__ = [
    "Client", "Conflict", "Forbidden", "InvalidRequest", "NotFound", "RateLimited", "Scenario", "ScenarioResults",
    "ServerError", "ServerUnavailable", "TooLarge", "Twin", "TwinClientError", "Unauthorized", "connect", "measures",
]  # fmt: skip


class Client:
    """A connection to one twin3d server as one caller (a token's role, or the public)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __repr__(self) -> str:
        return f"<twin3d server {self.session.url} as {self.role}>"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def me(self) -> dict[str, Any]:
        """Who the server takes the caller for: ``{"role", "user", "twins"}``."""
        found: dict[str, Any] = self.session.get_json("/api/me")
        return found

    @property
    def role(self) -> str:
        """The caller's role: public, council or admin."""
        return str(self.me["role"])

    def twins(self) -> list[dict[str, Any]]:
        """The twins the server serves (name, title, available, ...), then those it cannot serve, with the reason."""
        found: list[dict[str, Any]] = self.session.get_json("/api/twins")
        return found

    def twin(self, name: str) -> Twin:
        """One twin by its name (``twins()`` lists them)."""
        twin = Twin(self.session, name)
        twin.info  # noqa: B018  (asked now, so an unknown name fails here and not at the first frame)
        return twin

    def __getitem__(self, name: str) -> Twin:
        return self.twin(name)

    def close(self) -> None:
        """Close the connections."""
        self.session.close()


def connect(url: str, token: str | None = None, *, timeout: float = 120.0) -> Client:
    """Connect to a twin3d server (``token``: a bearer token from ``twin3d users add``; None: the public).

    Raises:
        Unauthorized: the token is unknown or revoked.
    """
    client = Client(Session(url, token, timeout))
    client.me  # noqa: B018  (a wrong URL or token shows at once)
    return client
