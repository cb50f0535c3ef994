"""The client's one HTTP session with a twin3d server: the token on every request, errors as exceptions."""

from __future__ import annotations

from typing import Any

import httpx2

from twin3d.client.errors import error_from

USER_AGENT = "twin3d-client"
Params = dict[str, str | int | float | bool | None]


class Session:
    """Requests to one server, as one caller.

    Args:
        url: the server's base URL (``http://127.0.0.1:8000``; a path prefix behind a proxy is kept).
        token: a bearer token (``twin3d users add``); None: the public.
        timeout: seconds to wait for an answer (a scenario's first run on a large twin takes a while).
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        headers = {"User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.token = token
        self._http = httpx2.Client(base_url=self.url, headers=headers, timeout=timeout)

    def absolute(self, path: str) -> str:
        """The full URL of a server path (``/tiles/...``), as a browser outside the notebook needs it."""
        return path if path.startswith(("http://", "https://")) else f"{self.url}{path}"

    def get(self, path: str, params: Params | None = None) -> httpx2.Response:
        """GET ``path``; a refusal raises its :class:`~twin3d.client.errors.ServerError`."""
        return self._checked(self._http.get(path, params=_clean(params)))

    def get_json(self, path: str, params: Params | None = None) -> Any:
        """GET ``path`` as JSON."""
        return self.get(path, params).json()

    def post_json(self, path: str, body: Any, params: Params | None = None) -> Any:
        """POST a JSON body; the answer as JSON."""
        return self._checked(self._http.post(path, json=body, params=_clean(params))).json()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def _checked(self, response: httpx2.Response) -> httpx2.Response:
        if response.status_code >= 400:
            url = str(response.request.url).split("?", 1)[0]
            raise error_from(response.status_code, response.text, url, response.headers.get("retry-after"))
        return response


def _clean(params: Params | None) -> dict[str, str | int | float] | None:
    """Query parameters without the unset ones; booleans as the server reads them."""
    if params is None:
        return None
    out: dict[str, str | int | float] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
