"""``/api/twins/{twin}/proposals`` and friends: citizens' proposals, their simulated effects, stages and exports.

Thin, like the places router: the shared machinery (tokens, limits, votes, comments, reports, moderation) is
:class:`twin3d.participation.service.Participation` with ``family=PROPOSALS``; what only proposals have is
:class:`twin3d.participation.proposals.Proposals`. Effects are scenario results (through the privacy gate, cached by
the scenario's content hash in :class:`twin3d.server.routers.scenarios.Simulations`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from twin3d.errors import ConflictError, NotFoundError
from twin3d.participation.model import (
    CommentIn,
    ModerationIn,
    OfficialScenarioIn,
    ProposalIn,
    ReportIn,
    Stage,
    StageIn,
    VoteIn,
)
from twin3d.participation.proposals import Proposals
from twin3d.participation.service import Participation
from twin3d.participation.store import PROPOSALS
from twin3d.server.access import request_role, request_user
from twin3d.server.routers.places import (
    GEOJSON,
    NO_SNIFF,
    BBox,
    CallerOf,
    CommentId,
    PlaceId,
    Twin,
    ViewOf,
    twin_ref,
)
from twin3d.server.routers.scenarios import Simulations, check_against_twin, require_population, stored_spec
from twin3d.server.state import TwinHandle
from twin3d.simulation.scenario import ScenarioSpec
from twin3d.store import population_queries as pq
from twin3d.store.live import LiveStores

ProposalSort = Literal["new", "old", "top", "gainers"]


class PersonaEffect(BaseModel):
    """The residents of one persona under a proposal's scenario: the verdict and what moved."""

    persona: str
    name: str
    name_en: str
    verdict: str | None
    better: list[dict[str, Any]]
    worse: list[dict[str, Any]]


class Effects(BaseModel):
    """A proposal's simulated effects: per persona, how many residents gain, and the scenario's summary."""

    proposal_id: int
    scenario_id: str
    official: bool
    stage: Stage
    personas: list[PersonaEffect]
    gainers: dict[str, Any] | None
    summary: dict[str, Any]


def router(service: Participation, live: LiveStores, simulations: Simulations) -> APIRouter:
    """Routes for proposals; bodies above ``service.settings.max_body_bytes`` get 413 (measures included)."""
    proposals = Proposals(service)
    r = APIRouter(prefix="/api/twins/{twin}", tags=["proposals"], max_body_size=service.settings.max_body_bytes)

    def save_measures(twin: TwinHandle) -> Any:
        def save(spec: ScenarioSpec) -> str:
            check_against_twin(spec, twin)
            store = live.get(twin.name, create=True)
            assert store is not None
            store.save_scenario(
                spec.content_hash(), spec.name, spec.description, spec.model_dump(mode="json"), listed=False
            )
            return spec.content_hash()

        return save

    def results(twin: TwinHandle, scenario_id: str) -> dict[str, Any]:
        """The results of a proposal's scenario: public, since everyone reads the proposal's effects."""
        require_population(twin)
        spec = stored_spec(live, twin, scenario_id, "public")
        return simulations.results(twin, ScenarioSpec.model_validate(spec))

    @r.post("/proposals", status_code=201, summary="Post a proposal, with measures to simulate (participant token)")
    def post(twin: Twin, proposal: ProposalIn, who: CallerOf) -> dict[str, Any]:
        return proposals.submit(twin_ref(twin), proposal, who, save_measures(twin))

    @r.get(
        "/proposals",
        summary="Proposals in a view: pins, or H3 clusters when the view holds many",
        responses={200: {"content": {"application/json": {}}}},
    )
    def index(
        twin: Twin,
        request: Request,
        view: ViewOf,
        *,
        topic: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z][a-z0-9_]*$")] = None,
        stage: Stage | None = None,
        sort: ProposalSort = "new",
    ) -> Response:
        role = request_role(request)
        filters = {"category": topic, "stage": stage, "sort": sort}
        query = view.query(role, service.settings.cluster_above, family=PROPOSALS, **filters)
        return Response(service.list_places(twin.name, role, query), media_type="application/json")

    @r.get("/proposals.geojson", summary="Public proposals as GeoJSON (areas as polygons)", response_class=Response)
    def as_geojson(twin: Twin, bbox: BBox) -> Response:
        body = service.geojson(twin.name, bbox, PROPOSALS)
        return Response(body, media_type=GEOJSON, headers=NO_SNIFF)

    @r.get("/proposals.csv", summary="Public proposals as CSV", response_class=Response)
    def as_csv(twin: Twin, bbox: BBox) -> Response:
        headers = {**NO_SNIFF, "Content-Disposition": f'attachment; filename="{twin.name}-proposals.csv"'}
        body = service.csv(twin.name, bbox, PROPOSALS)
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)

    @r.get("/proposals/{proposal_id}", summary="One proposal")
    def one(twin: Twin, proposal_id: PlaceId, request: Request) -> dict[str, Any]:
        return service.place(twin.name, proposal_id, request_role(request), PROPOSALS)

    @r.get(
        "/proposals/{proposal_id}/effects",
        summary="The simulated effects of a proposal per persona (once the administration has simulated it)",
        responses={404: {"description": "no such proposal, or it proposes no measures"}, 409: {"description": ""}},
    )
    def effects(twin: Twin, proposal_id: PlaceId, request: Request) -> Effects:
        role = request_role(request)
        scenario_id, official, stage = proposals.scenario_of(twin.name, proposal_id, role)
        if scenario_id is None:
            raise NotFoundError(
                f"proposal {proposal_id} proposes no measures to simulate",
                hint="the administration can attach an official scenario",
            )
        if stage == "under_review" and role != "admin":
            raise ConflictError(
                f"proposal {proposal_id} has not been simulated yet", hint="its stage becomes 'simulated' first"
            )
        result = results(twin, scenario_id)
        names = {p["id"]: p for p in pq.personas(twin.cursor())}
        personas = [
            PersonaEffect(
                **row,
                name=names.get(row["persona"], {}).get("name", row["persona"]),
                name_en=names.get(row["persona"], {}).get("name_en", row["persona"]),
            )
            for row in result.get("personas", [])
        ]
        return Effects(
            proposal_id=proposal_id,
            scenario_id=scenario_id,
            official=official,
            stage=stage,
            personas=personas,
            gainers=result.get("gainers"),
            summary=result["summary"],
        )

    @r.post("/proposals/{proposal_id}/votes", summary="Vote +1 or -1 (again: replaces one's vote)")
    def vote(twin: Twin, proposal_id: PlaceId, body: VoteIn, who: CallerOf) -> dict[str, Any]:
        return service.vote(twin.name, proposal_id, body.value, who, PROPOSALS)

    @r.get("/proposals/{proposal_id}/comments", summary="Comments with their replies, oldest first")
    def comments(twin: Twin, proposal_id: PlaceId, request: Request) -> list[dict[str, Any]]:
        return service.comments(twin.name, proposal_id, request_role(request), PROPOSALS)

    @r.post("/proposals/{proposal_id}/comments", status_code=201, summary="Comment, or reply to a comment")
    def comment(twin: Twin, proposal_id: PlaceId, body: CommentIn, who: CallerOf) -> dict[str, Any]:
        return service.comment(twin.name, proposal_id, body, who, PROPOSALS)

    @r.post("/proposals/{proposal_id}/reports", status_code=201, summary="Report a proposal or a comment")
    def report(twin: Twin, proposal_id: PlaceId, body: ReportIn, who: CallerOf) -> dict[str, Any]:
        return service.report(twin.name, proposal_id, body, who, PROPOSALS)

    _administration(r, service, proposals, results)
    return r


def _administration(r: APIRouter, service: Participation, proposals: Proposals, results: Any) -> None:
    """The administration's routes: moderation, stages and the official scenario."""

    @r.post("/proposals/{proposal_id}/moderation", summary="Show, hide or answer a proposal (administration)")
    def moderate(twin: Twin, proposal_id: PlaceId, body: ModerationIn, request: Request) -> dict[str, Any]:
        return service.moderate(twin.name, proposal_id, body, request_user(request) or "admin", family=PROPOSALS)

    @r.post(
        "/proposals/{proposal_id}/comments/{comment_id}/moderation",
        summary="Show or hide a comment on a proposal (administration)",
    )
    def moderate_comment(
        twin: Twin, proposal_id: PlaceId, comment_id: CommentId, body: ModerationIn, request: Request
    ) -> dict[str, Any]:
        who = request_user(request) or "admin"
        return service.moderate(twin.name, proposal_id, body, who, comment_id=comment_id, family=PROPOSALS)

    @r.post(
        "/proposals/{proposal_id}/stage",
        summary="Move a proposal to a stage with a reason; 'simulated' runs its scenario (administration)",
        responses={409: {"description": "nothing to simulate"}},
    )
    def stage(twin: Twin, proposal_id: PlaceId, body: StageIn, request: Request) -> dict[str, Any]:
        gainers = None
        if body.stage == "simulated":
            scenario_id, _, _ = proposals.scenario_of(twin.name, proposal_id, "admin")
            if scenario_id is None:
                raise ConflictError(
                    f"proposal {proposal_id} proposes no measures to simulate",
                    hint="attach an official scenario: POST .../proposals/{id}/scenario",
                )
            gainers = (results(twin, scenario_id).get("gainers") or {}).get("persons")
        moderator = request_user(request) or "admin"
        return proposals.set_stage(twin.name, proposal_id, body, moderator=moderator, gainers=gainers)

    @r.post("/proposals/{proposal_id}/scenario", summary="Attach an official public scenario (administration)")
    def attach(twin: Twin, proposal_id: PlaceId, body: OfficialScenarioIn, request: Request) -> dict[str, Any]:
        moderator = request_user(request) or "admin"
        return proposals.attach(twin.name, proposal_id, body.scenario_id, moderator=moderator)
