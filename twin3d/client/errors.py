"""What the client raises: the server's refusal as a Python exception, with its message, field and hint.

The server answers every refusal as ``{"error", "hint"[, "record"][, "reason"]}`` (``twin3d.server.errors``) and
an invalid request as FastAPI's ``{"detail": [{"loc", "msg"}, ...]}``; both arrive here as one :class:`ServerError`
subclass per status, so a notebook can ``except Forbidden`` and read ``exc.hint``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any


class TwinClientError(Exception):
    """Anything the client cannot do: the server's refusals and the client's own (a missing optional package)."""


class ServerError(TwinClientError):
    """The server refused or failed a request.

    Attributes:
        status: the HTTP status.
        message: what the server said (``error``, or the validation messages).
        field: the request field or record it names (``record``, or the ``loc`` of a validation error), if any.
        hint: how to fix it, if the server said.
        reason: a stable key of the refusal (rate limits, workshop codes), if any.
        url: the request's URL, without its query.
        body: the whole answer as JSON (or text, where it was not JSON).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        reason: str | None = None,
        url: str = "",
        body: Any = None,
    ) -> None:
        self.status, self.message, self.field, self.hint = status, message, field, hint
        self.reason, self.url, self.body = reason, url, body
        parts = [f"{status}: {message}"]
        if field:
            parts.append(f"field: {field}")
        if hint:
            parts.append(f"hint: {hint}")
        super().__init__("; ".join(parts))


class InvalidRequest(ServerError):
    """400 or 422: a parameter or a body field is not acceptable (``field`` names it)."""


class Unauthorized(ServerError):
    """401: the token is unknown, revoked or malformed."""


class Forbidden(ServerError):
    """403: the token's role (or none) may not do this."""


class NotFound(ServerError):
    """404: no such twin, collection, scenario, ... (or one the role may not see)."""


class Conflict(ServerError):
    """409 or 410: the request clashes with the stored state."""


class TooLarge(ServerError):
    """413: the body is larger than the route takes."""


class RateLimited(ServerError):
    """429: too many requests; ``retry_after`` seconds until the next is taken."""

    retry_after: float = 0.0


class ServerUnavailable(ServerError):
    """5xx: the server could not answer (its log has the details)."""


ERROR_CLASSES: dict[int, type[ServerError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Conflict,
    413: TooLarge,
    422: InvalidRequest,
    429: RateLimited,
}


def _validation(detail: list[Any]) -> tuple[str, str | None]:
    """Message and field of FastAPI's validation answer: every message, and the first one's location without
    its ``body``/``query``/``path`` prefix (``measures.0.capacity``)."""
    messages, fields = [], []
    for item in detail:
        if not isinstance(item, dict):
            continue
        loc = [str(part) for part in item.get("loc", [])]
        where = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
        fields.append(where)
        messages.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", "")))
    return "; ".join(messages) or "the request is not valid", next((f for f in fields if f), None)


def error_from(status: int, text: str, url: str = "", retry_after: str | None = None) -> ServerError:
    """The exception for an answer of ``status`` with the body ``text``."""
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = text
    field = hint = reason = None
    if isinstance(body, dict) and isinstance(body.get("detail"), list):
        message, field = _validation(body["detail"])
    elif isinstance(body, dict) and "error" in body:
        message = str(body["error"])
        record = body.get("record")
        field = str(record) if record is not None else None
        hint = body.get("hint")
        reason = body.get("reason")
    elif isinstance(body, dict) and isinstance(body.get("detail"), str):
        message = body["detail"]
    else:
        message = (text or "").strip()[:300] or f"HTTP {status}"
    cls = ERROR_CLASSES.get(status, ServerUnavailable if status >= 500 else ServerError)
    error = cls(status, message, field=field, hint=hint, reason=reason, url=url, body=body)
    if isinstance(error, RateLimited) and retry_after:
        with contextlib.suppress(ValueError):
            error.retry_after = float(retry_after)
    return error
