"""``/api/twins/{twin}/places`` and friends: citizens' places, votes, comments, reports, moderation, the lens.

Thin: each route reads the caller's role (:func:`twin3d.server.access.request_role`), the client address and the
participant token, and calls :class:`twin3d.participation.service.Participation`. Who may call which route is in
:data:`twin3d.server.access.MATRIX`; bodies above the configured size are refused with 413 before they are parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel

from twin3d.participation.model import (
    CommentIn,
    ModerationIn,
    ParticipantIn,
    PlaceIn,
    RemarkIn,
    ReportIn,
    Status,
    VoteIn,
)
from twin3d.participation.moderation import place_statuses
from twin3d.participation.service import PARTICIPANT_HEADER, Caller, Participation, TwinRef
from twin3d.participation.store import PLACES, Family, PlaceQuery
from twin3d.server.access import request_role, request_user
from twin3d.server.deps import get_twin
from twin3d.server.proxies import client_address
from twin3d.server.routers.population import bbox_of
from twin3d.server.state import TwinHandle

GEOJSON = "application/geo+json"
BBox = Annotated[tuple[float, float, float, float] | None, Depends(bbox_of)]
PlaceId = Annotated[int, Path(ge=1, le=2**62)]
CommentId = Annotated[int, Path(ge=1, le=2**62)]
Token = Annotated[str | None, Header(alias=PARTICIPANT_HEADER, max_length=100)]
NO_SNIFF = {"X-Content-Type-Options": "nosniff"}


Twin = Annotated[TwinHandle, Depends(get_twin)]


def twin_ref(twin: TwinHandle) -> TwinRef:
    """The served twin as the participation service sees it."""
    bbox = twin.meta.get("bbox_wgs84")
    return TwinRef(twin.name, tuple(bbox) if bbox else None, twin.cursor, twin.build_key)


class JoinedWorkshop(BaseModel):
    """The workshop a new participant joined with its code."""

    workshop_id: str
    label: str
    expires_at: str


class NewParticipant(BaseModel):
    """A new anonymous participant token: send it as ``header`` with every write; it is shown once."""

    token: str
    header: str
    workshop: JoinedWorkshop | None = None


async def caller(request: Request, token: Token = None) -> Caller:
    """The caller: role and user from the access middleware, the participant token, the client address.

    ``async`` because it never blocks: FastAPI runs a plain ``def`` dependency in the thread pool, a hop per request.
    """
    return Caller(request_role(request), token, client_address(request), request_user(request))


CallerOf = Annotated[Caller, Depends(caller)]


def cluster_resolution(zoom: float) -> int:
    """The H3 resolution of clusters at a map zoom: about ten cells across a screen (zoom 13 -> 8)."""
    return max(5, min(10, int(zoom) - 5))


@dataclass(frozen=True)
class View:
    """What every listing of places or proposals asks for besides its own filters: the map view and the page."""

    bbox: tuple[float, float, float, float] | None
    statuses: tuple[str, ...] | None
    limit: int
    offset: int
    zoom: float
    cluster: bool

    def query(self, role: str, cluster_above: int, *, family: Family = PLACES, **filters: Any) -> PlaceQuery:
        """The listing's query for ``role``: the statuses it asked for, or all it may see (the service refuses more)."""
        return PlaceQuery(
            statuses=self.statuses or place_statuses(role),
            family=family,
            bbox=self.bbox,
            limit=self.limit,
            offset=self.offset,
            cluster_resolution=cluster_resolution(self.zoom),
            cluster_above=cluster_above if self.cluster else None,
            admin=role == "admin",
            **filters,
        )


def view_of(
    bbox: BBox,
    *,
    status: Annotated[list[Status] | None, Query(description="default: all the role may see")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    zoom: Annotated[float, Query(ge=0, le=24, description="map zoom: sets the cluster resolution")] = 13,
    cluster: Annotated[bool, Query(description="false: always pins, paged (for a list beside the map)")] = True,
) -> View:
    """The view and page parameters of a listing (a dependency, so that both listings declare them once)."""
    return View(bbox, tuple(status) if status else None, limit, offset, zoom, cluster)


ViewOf = Annotated[View, Depends(view_of)]


def router(service: Participation) -> APIRouter:
    """Routes for citizens' places; bodies above ``service.settings.max_body_bytes`` get 413."""
    r = APIRouter(prefix="/api/twins/{twin}", tags=["places"], max_body_size=service.settings.max_body_bytes)

    @r.post(
        "/participants",
        status_code=201,
        summary="A new anonymous participant token (keep it; shown once); with a workshop code, one of its quota",
        responses={
            409: {"description": "the workshop's quota is used up"},
            410: {"description": "the workshop code has expired"},
            422: {"description": "unknown workshop code"},
            429: {"description": "too many new tokens or wrong codes from this address"},
        },
    )
    def new_participant(
        twin: Twin, request: Request, body: Annotated[ParticipantIn | None, Body()] = None
    ) -> NewParticipant:
        code = body.workshop_code if body is not None else None
        token, workshop = service.new_participant(twin.name, client_address(request), code)
        joined = None
        if workshop is not None:
            joined = JoinedWorkshop(
                workshop_id=workshop.workshop_id, label=workshop.label, expires_at=workshop.expires_at
            )
        return NewParticipant(token=token, header=PARTICIPANT_HEADER, workshop=joined)

    @r.get("/places/config", summary="Categories, kinds, self-description choices, report reasons, limits")
    def config(twin: Twin) -> dict[str, Any]:
        return service.public_config(twin.name)

    @r.post("/places", status_code=201, summary="Post a place (needs a participant token)")
    def post_place(twin: Twin, place: PlaceIn, who: CallerOf) -> dict[str, Any]:
        return service.submit_place(twin_ref(twin), place, who)

    @r.get(
        "/places",
        summary="Places in a view: pins, or H3 clusters when the view holds many",
        responses={200: {"content": {"application/json": {}}}},
    )
    def list_places(
        twin: Twin,
        request: Request,
        view: ViewOf,
        *,
        kind: Literal["happy", "improvable"] | None = None,
        category: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z][a-z0-9_]*$")] = None,
        sort: Literal["new", "old", "top"] = "new",
    ) -> Response:
        role = request_role(request)
        query = view.query(role, service.settings.cluster_above, kind=kind, category=category, sort=sort)
        return Response(service.list_places(twin.name, role, query), media_type="application/json")

    @r.get("/places.geojson", summary="Public places as GeoJSON", response_class=Response)
    def places_geojson(twin: Twin, bbox: BBox) -> Response:
        return Response(service.geojson(twin.name, bbox), media_type=GEOJSON, headers=NO_SNIFF)

    @r.get("/places.csv", summary="Public places as CSV", response_class=Response)
    def places_csv(twin: Twin, bbox: BBox) -> Response:
        headers = {**NO_SNIFF, "Content-Disposition": f'attachment; filename="{twin.name}-places.csv"'}
        return Response(service.csv(twin.name, bbox), media_type="text/csv; charset=utf-8", headers=headers)

    @r.get("/places/{place_id}", summary="One place")
    def one_place(twin: Twin, place_id: PlaceId, request: Request) -> dict[str, Any]:
        return service.place(twin.name, place_id, request_role(request))

    @r.post("/places/{place_id}/votes", summary="Vote +1 or -1 (again: replaces one's vote)")
    def vote(twin: Twin, place_id: PlaceId, body: VoteIn, who: CallerOf) -> dict[str, Any]:
        return service.vote(twin.name, place_id, body.value, who)

    @r.get("/places/{place_id}/comments", summary="Comments with their replies, oldest first")
    def comments(twin: Twin, place_id: PlaceId, request: Request) -> list[dict[str, Any]]:
        return service.comments(twin.name, place_id, request_role(request))

    @r.post("/places/{place_id}/comments", status_code=201, summary="Comment, or reply to a comment (one level)")
    def comment(twin: Twin, place_id: PlaceId, body: CommentIn, who: CallerOf) -> dict[str, Any]:
        return service.comment(twin.name, place_id, body, who)

    @r.post("/places/{place_id}/reports", status_code=201, summary="Report a place or a comment to the moderators")
    def report(twin: Twin, place_id: PlaceId, body: ReportIn, who: CallerOf) -> dict[str, Any]:
        return service.report(twin.name, place_id, body, who)

    @r.get("/moderation/queue", summary="What waits for a moderator, oldest first (administration)")
    def moderation_queue(twin: Twin, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        return service.queue(twin.name, limit)

    @r.post("/places/{place_id}/moderation", summary="Show, hide or answer a place (administration)")
    def moderate(twin: Twin, place_id: PlaceId, body: ModerationIn, request: Request) -> dict[str, Any]:
        return service.moderate(twin.name, place_id, body, request_user(request) or "admin")

    @r.post("/places/{place_id}/comments/{comment_id}/moderation", summary="Show or hide a comment (administration)")
    def moderate_comment(
        twin: Twin, place_id: PlaceId, comment_id: CommentId, body: ModerationIn, request: Request
    ) -> dict[str, Any]:
        return service.moderate(twin.name, place_id, body, request_user(request) or "admin", comment_id=comment_id)

    @r.get("/places/{place_id}/remarks", summary="Internal remarks on a place (administration)")
    def remarks(twin: Twin, place_id: PlaceId) -> list[dict[str, Any]]:
        return service.remarks(twin.name, place_id)

    @r.post("/places/{place_id}/remarks", status_code=201, summary="Add an internal remark (administration)")
    def add_remark(twin: Twin, place_id: PlaceId, body: RemarkIn, request: Request) -> dict[str, Any]:
        return service.add_remark(twin.name, place_id, body.text, request_user(request) or "admin")

    @r.get("/lens", summary="Representation lens: who is heard, and where, against who lives there")
    def lens(twin: Twin, request: Request, resolution: Annotated[int, Query(ge=8, le=9)] = 8) -> dict[str, Any]:
        return service.lens(twin_ref(twin), request_role(request), resolution)

    return r
