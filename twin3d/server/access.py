"""Who may call what: the one authorisation matrix of the triple twin, and the middleware that enforces it.

Roles: ``public`` (no token), ``council`` and ``admin`` (the administration), each a superset of the one before.
A caller names itself with ``Authorization: Bearer <token>`` (tokens from ``twin3d users add``); no header means
public, an unknown or malformed token is refused with 401 (never silently treated as public), and a known caller
whose role is not in the route's set gets 403. A user restricted to other twins is anonymous in this one: the
public routes answer it, the others give 403 as they give the public.

:data:`MATRIX` maps (method, route path as the app declares it) to the roles allowed. It is enforced for every
route, the documentation and the static viewer files included, by :class:`AccessMiddleware`, which finds the
route the way the router will and runs before anything reads the body. A route missing from the matrix is refused
to everyone (deny by default); ``tests/server/test_access.py`` checks that every route of the app is listed.

Other routers read the caller's role with :func:`request_role` to filter what they return by visibility.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from twin3d.auth.users import RANK, ROLES, Role, User, UserRegistry, at_least
from twin3d.errors import AuthError, ForbiddenError, Twin3dError
from twin3d.server.errors import error_response

PUBLIC: frozenset[Role] = frozenset(ROLES)
COUNCIL: frozenset[Role] = frozenset({"council", "admin"})
ADMIN: frozenset[Role] = frozenset({"admin"})

__all__ = ["MATRIX", "AccessControl", "AccessMiddleware", "at_least", "request_role", "request_twins", "request_user"]
ROUTE_CACHE = 10_000  # remembered (method, path) -> route; forgotten all at once when full
_T = "/api/twins/{twin}"
MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    # documentation and the viewer (mounts are listed by their prefix)
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/index.html"): PUBLIC,
    ("GET", "/style.css"): PUBLIC,
    ("GET", "/print.css"): PUBLIC,
    ("GET", "/favicon.svg"): PUBLIC,
    ("GET", "/js"): PUBLIC,
    ("GET", "/vendor"): PUBLIC,
    # twins, layers, buildings, tiles
    ("GET", "/api/me"): PUBLIC,
    ("GET", "/api/twins"): PUBLIC,
    ("GET", _T): PUBLIC,
    ("GET", _T + "/districts/{level}.geojson"): PUBLIC,
    ("GET", _T + "/districts/{level}/series"): PUBLIC,  # published district statistics over the years
    ("GET", _T + "/grid.geojson"): PUBLIC,
    ("GET", _T + "/facilities.geojson"): PUBLIC,
    ("GET", _T + "/paths.geojson"): PUBLIC,
    ("GET", _T + "/facilities/categories"): PUBLIC,
    ("GET", _T + "/search"): PUBLIC,  # the build's search index: public tables only, never the population
    ("GET", _T + "/buildings/at"): PUBLIC,
    ("GET", _T + "/buildings/{building_id:path}"): PUBLIC,
    ("GET", _T + "/parcels/at"): PUBLIC,  # the cadastre is public (ALKIS open data): no owners are stored
    ("GET", _T + "/parcels/{parcel_id}"): PUBLIC,
    ("GET", _T + "/sun"): PUBLIC,  # geometry only: the sun's path and the buildings' shadows, no persons
    ("POST", _T + "/shadows"): PUBLIC,
    ("GET", "/tiles/{twin}/{tile_path:path}"): PUBLIC,
    # OGC API Features and vector tiles (visibility per layer and role: request_role in the features router)
    ("GET", _T + "/features"): PUBLIC,
    ("GET", _T + "/features/conformance"): PUBLIC,
    ("GET", _T + "/features/collections"): PUBLIC,
    ("GET", _T + "/features/collections/{collection_id}"): PUBLIC,
    ("GET", _T + "/features/collections/{collection_id}/items"): PUBLIC,
    ("GET", _T + "/features/collections/{collection_id}/items/{feature_id:path}"): PUBLIC,
    ("GET", _T + "/mvt/{collection_id}/tilejson.json"): PUBLIC,
    ("GET", _T + "/mvt/{collection_id}/{z}/{x}/{y}.pbf"): PUBLIC,
    # loaded layers (visibility per layer and role: request_role in the layers router; uploads by admins)
    ("GET", _T + "/layers"): PUBLIC,
    ("GET", _T + "/layers/{layer_id}"): PUBLIC,
    ("GET", _T + "/layers/{layer_id}/tiles/{z}/{x}/{y}.png"): PUBLIC,
    ("GET", _T + "/layers/{layer_id}/tileset/{tile_path:path}"): PUBLIC,
    ("POST", _T + "/layers"): ADMIN,
    ("DELETE", _T + "/layers/{layer_id}"): ADMIN,
    ("GET", _T + "/layers/{layer_id}/summary"): PUBLIC,  # a vector layer's field summary (visibility per layer)
    ("GET", _T + "/layers/{layer_id}/legend"): PUBLIC,  # a service layer's legend (visibility per layer and role)
    ("POST", _T + "/layers/services"): ADMIN,  # the server then asks that URL: administrators only
    ("POST", _T + "/layers/{layer_id}/refresh"): ADMIN,
    # population (resolutions per role: see request_role in the population router)
    ("GET", _T + "/personas"): PUBLIC,
    ("GET", _T + "/population/h3"): PUBLIC,
    ("GET", _T + "/population/summary"): PUBLIC,
    ("GET", _T + "/population/report"): PUBLIC,
    ("GET", _T + "/population/report.html"): PUBLIC,
    # scenarios (visibility per role: see request_role in the scenarios router)
    ("POST", _T + "/scenarios"): PUBLIC,
    ("GET", _T + "/scenarios"): PUBLIC,
    ("GET", _T + "/scenarios/{scenario_id}"): PUBLIC,
    ("GET", _T + "/scenarios/{scenario_id}/results"): PUBLIC,
    ("GET", _T + "/scenarios/{scenario_id}/results.csv"): PUBLIC,
    ("GET", _T + "/scenarios/{scenario_id}/results.geojson"): PUBLIC,
    ("GET", _T + "/scenarios/{scenario_id}/report.html"): PUBLIC,
    ("POST", _T + "/scenarios/{scenario_id}/for-me"): PUBLIC,  # the home point in the body: never stored
    ("POST", _T + "/scenarios/{scenario_id}/listing"): ADMIN,
    # the planning analyses of the baseline (through the privacy gate, like scenario results)
    ("GET", _T + "/analysis/sun"): PUBLIC,
    ("GET", _T + "/analysis/noise"): PUBLIC,
    # models of planned buildings: uploaded by whoever may store a scenario (rate-limited like new scenarios)
    ("POST", _T + "/models"): PUBLIC,
    ("GET", _T + "/models/{model_id}.glb"): PUBLIC,
    ("GET", _T + "/models/{model_id}"): PUBLIC,
    # citizens' places
    ("POST", _T + "/participants"): PUBLIC,
    ("GET", _T + "/places/config"): PUBLIC,
    ("POST", _T + "/places"): PUBLIC,
    ("GET", _T + "/places"): PUBLIC,
    ("GET", _T + "/places.geojson"): PUBLIC,
    ("GET", _T + "/places.csv"): PUBLIC,
    ("GET", _T + "/places/{place_id}"): PUBLIC,
    ("POST", _T + "/places/{place_id}/votes"): PUBLIC,
    ("GET", _T + "/places/{place_id}/comments"): PUBLIC,
    ("POST", _T + "/places/{place_id}/comments"): PUBLIC,
    ("POST", _T + "/places/{place_id}/reports"): PUBLIC,
    ("GET", _T + "/lens"): PUBLIC,
    # citizens' proposals (places of kind idea: the same machinery) and their simulated effects
    ("POST", _T + "/proposals"): PUBLIC,
    ("GET", _T + "/proposals"): PUBLIC,
    ("GET", _T + "/proposals.geojson"): PUBLIC,
    ("GET", _T + "/proposals.csv"): PUBLIC,
    ("GET", _T + "/proposals/{proposal_id}"): PUBLIC,
    ("GET", _T + "/proposals/{proposal_id}/effects"): PUBLIC,
    ("POST", _T + "/proposals/{proposal_id}/votes"): PUBLIC,
    ("GET", _T + "/proposals/{proposal_id}/comments"): PUBLIC,
    ("POST", _T + "/proposals/{proposal_id}/comments"): PUBLIC,
    ("POST", _T + "/proposals/{proposal_id}/reports"): PUBLIC,
    ("POST", _T + "/proposals/{proposal_id}/moderation"): ADMIN,
    ("POST", _T + "/proposals/{proposal_id}/comments/{comment_id}/moderation"): ADMIN,
    ("POST", _T + "/proposals/{proposal_id}/stage"): ADMIN,
    ("POST", _T + "/proposals/{proposal_id}/scenario"): ADMIN,
    # the administration
    ("GET", _T + "/moderation/queue"): ADMIN,
    ("POST", _T + "/places/{place_id}/moderation"): ADMIN,
    ("POST", _T + "/places/{place_id}/comments/{comment_id}/moderation"): ADMIN,
    ("GET", _T + "/places/{place_id}/remarks"): ADMIN,
    ("POST", _T + "/places/{place_id}/remarks"): ADMIN,
    ("POST", _T + "/workshops"): ADMIN,
    ("GET", _T + "/workshops"): ADMIN,
    ("DELETE", _T + "/workshops/{workshop_id}"): ADMIN,
    # surveys: answers by anyone (once per person); definitions, free texts, single answers and codes: administration
    ("GET", _T + "/surveys"): PUBLIC,
    ("POST", _T + "/surveys"): ADMIN,
    ("POST", _T + "/surveys/confirmations"): PUBLIC,
    ("GET", _T + "/surveys/{survey_id}"): PUBLIC,
    ("PUT", _T + "/surveys/{survey_id}"): ADMIN,
    ("POST", _T + "/surveys/{survey_id}/state"): ADMIN,
    ("POST", _T + "/surveys/{survey_id}/responses"): PUBLIC,
    ("GET", _T + "/surveys/{survey_id}/results"): PUBLIC,  # the public once closed (the service decides)
    ("GET", _T + "/surveys/{survey_id}/results.csv"): PUBLIC,
    ("GET", _T + "/surveys/{survey_id}/texts"): ADMIN,
    ("GET", _T + "/surveys/{survey_id}/responses.csv"): ADMIN,
    ("POST", _T + "/surveys/{survey_id}/codes"): ADMIN,
    ("GET", _T + "/surveys/{survey_id}/codes"): ADMIN,
}
"""(HTTP method, route path) -> roles allowed. HEAD is checked as GET."""


def request_role(request: Request) -> Role:
    """The caller's role, as the access middleware found it (public where it did not run)."""
    role: Role = getattr(request.state, "role", "public")
    return role


def request_user(request: Request) -> str | None:
    """The caller's user name, or None for an anonymous caller."""
    name: str | None = getattr(request.state, "user", None)
    return name


def request_twins(request: Request) -> list[str] | None:
    """The twins the caller's role is restricted to; None: every twin (and for an anonymous caller)."""
    twins: list[str] | None = getattr(request.state, "twins", None)
    return twins


def route_table(app: FastAPI) -> list[tuple[Any, str, frozenset[str]]]:
    """Every route of ``app`` in matching order: (route, path as declared, methods; mounts: ``{"GET"}``)."""
    table = []
    for route in iter_route_contexts(app.routes):
        methods = frozenset(route.methods or {"GET"}) - {"HEAD"} or frozenset({"GET"})
        table.append((route, str(route.path), methods))
    return table


def matrix_keys(app: FastAPI) -> list[tuple[str, str]]:
    """The (method, path) of every route of ``app``: what :data:`MATRIX` must cover."""
    return sorted({(m, path) for _, path, methods in route_table(app) for m in methods})


class AccessControl:
    """Finds the route of a request and the caller's role, and decides.

    Args:
        app: the app whose routes are checked (read on first use, when every route is there).
        users: the users file.
        matrix: the authorisation matrix.
    """

    def __init__(self, app: FastAPI, users: UserRegistry, matrix: dict[tuple[str, str], frozenset[Role]]) -> None:
        self.app = app
        self.users = users
        self.matrix = matrix
        self._table: list[tuple[Any, str, frozenset[str]]] | None = None
        self._seen: dict[tuple[str, str, str], tuple[str, dict[str, Any]] | None] = {}

    def route_of(self, scope: Scope) -> tuple[str, dict[str, Any]] | None:
        """The declared path and path parameters of the route that will answer; None if none will (404/405).

        Results are remembered per method and path: matching walks every route, and most requests repeat a path.
        """
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        if key in self._seen:
            return self._seen[key]
        if self._table is None:
            self._table = route_table(self.app)
        found = None
        for route, path, _ in self._table:
            match, child = route.matches(scope)
            if match == Match.FULL:
                found = path, dict(child.get("path_params", {}))
                break
        if len(self._seen) >= ROUTE_CACHE:
            self._seen.clear()
        self._seen[key] = found
        return found

    def caller(self, headers: Iterable[tuple[bytes, bytes]]) -> User | None:
        """The user named by the bearer token; None without one.

        Raises:
            AuthError: a malformed or unknown token.
        """
        value = next((v for k, v in headers if k == b"authorization"), None)
        if value is None:
            return None
        scheme, _, token = value.decode("latin-1").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("malformed Authorization header", hint="send: Authorization: Bearer <token>")
        user = self.users.lookup(token)
        if user is None:
            raise AuthError("unknown or revoked token", hint="ask the administration for a token")
        return user

    def authorize(self, scope: Scope) -> None:
        """Decide on one request; on success the role and user name are in ``request.state``.

        Raises:
            AuthError: malformed or unknown token (401).
            ForbiddenError: the route is not open to the caller's role (a user counts as public in a twin where it
                has no role), or not listed at all (403).
        """
        user = self.caller(scope.get("headers", []))
        found = self.route_of(scope)
        path, params = found if found is not None else ("", {})
        twin = params.get("twin")
        # In a twin where the user has no role the caller is anonymous: public routes answer as they answer everyone
        # (a token must never make a caller weaker than none), the others refuse as they refuse the public.
        outsider = user if user is not None and isinstance(twin, str) and not user.may_use(twin) else None
        if outsider is not None:
            user = None
        role: Role = user.role if user is not None else "public"
        state = scope.setdefault("state", {})
        state["role"], state["user"] = role, user.name if user is not None else None
        state["twins"] = list(user.twins) if user is not None and user.twins is not None else None
        if found is None:
            return  # the router answers 404 or 405 and runs no endpoint
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        allowed = self.matrix.get((method, path), frozenset())
        if role not in allowed:
            if outsider is not None:
                raise ForbiddenError(f"the user {outsider.name!r} has no role in the twin {twin!r}")
            needed = min((RANK[r], r) for r in allowed)[1] if allowed else None
            raise ForbiddenError(
                f"{method} {path} is not open to the role {role!r}",
                hint=f"needs the role {needed!r} or above" if needed else "this route is not in the access matrix",
            )


class AccessMiddleware:
    """Pure ASGI middleware around the router: every HTTP request passes :meth:`AccessControl.authorize`."""

    def __init__(self, app: ASGIApp, control: AccessControl) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                self.control.authorize(scope)
            except Twin3dError as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)
