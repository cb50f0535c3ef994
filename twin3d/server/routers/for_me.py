"""``POST /api/twins/{twin}/scenarios/{scenario_id}/for-me``: "Wie betrifft mich das?" for one caller.

The caller's home point comes in the body of a POST, so that it is in no URL, no access log and no cache key;
nothing of the request is stored or logged, and refusals never repeat it (the body is validated here, not by
FastAPI, whose 422 would echo the input). A persona is chosen, or derived from an age band and a household by the
twin's own persona rules, the same table the representation lens uses (:func:`twin3d.participation.lens.group_table`).
The scenario is visible as its stored visibility and the caller's role allow, exactly as ``GET .../results``; a
public scenario reachable by its id answers (listed or not). The answer is computed from the scenario's prepared
state (:meth:`.scenarios.Simulations.prepared`) in :func:`twin3d.simulation.for_me.for_me`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin3d.errors import InputError
from twin3d.participation.lens import Persona, group_table
from twin3d.participation.model import AGE_BANDS, HOUSEHOLDS, AgeBand, Household
from twin3d.participation.service import lies_outside
from twin3d.population.personas import PersonaCatalogue
from twin3d.server.access import request_role
from twin3d.server.deps import Twin
from twin3d.server.routers.scenarios import Simulations, require_population, stored_spec
from twin3d.simulation.for_me import for_me
from twin3d.simulation.scenario import ScenarioSpec
from twin3d.store.live import LiveStores

MAX_BODY_BYTES = 2048
ScenarioId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$", description="the scenario's content hash")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Home(_Strict):
    """The point the caller chose on the map (WGS 84); never stored."""

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)


class ForMeIn(_Strict):
    """Who asks (a persona, or an age band and a household) and around which point."""

    persona: str | None = Field(default=None, max_length=40)
    age_band: AgeBand | None = None
    household: Household | None = None
    home: Home
    lang: Literal["de", "en"] = "de"


class ForMeLine(BaseModel):
    """One indicator near the point, before and after, with its verdict and sentence."""

    facility: str
    indicator: Literal["mean_distance_m", "coverage_share", "supply_per_demand", "green_m2", "exposed_share"]
    baseline: float | None
    scenario: float | None
    delta: float | None
    verdict: Literal["better", "worse", "unchanged"] | None
    text: str


class ForMeOut(BaseModel):
    """What changes for people like the caller near their point."""

    scenario_id: str
    persona: str
    persona_name: str
    radius_m: float | None = Field(description="the radius used; null: the whole twin")
    households: int | None = Field(description="the persona's published households in the area, rounded")
    verdict: Literal["better", "worse", "mixed", "unchanged"] | None
    lines: list[ForMeLine]
    summary: str


def _parsed(body: Any) -> ForMeIn:
    """The body, validated; a refusal names the field and never repeats what was sent."""
    try:
        return ForMeIn.model_validate(body)
    except ValidationError as error:
        first = error.errors(include_input=False, include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        hints = {
            "age_band": f"one of {', '.join(AGE_BANDS)}",
            "household": f"one of {', '.join(HOUSEHOLDS)}",
            "home": 'send {"lon": ..., "lat": ...} in WGS 84',
        }
        raise InputError(
            f"{field}: {first['msg']}",
            record=field,
            hint=hints.get(field.split(".")[0], "see the API documentation of .../for-me"),
        ) from None


def _groups(catalogue: PersonaCatalogue) -> dict[tuple[str | None, str | None], int]:
    """The persona of every self-description under the catalogue's rules (the lens's table; 36 look-ups)."""
    personas = [Persona(p.id, p.name, p.name_en, p.match.model_dump(exclude_none=True)) for p in catalogue.persona]
    return group_table(personas)


def _persona(body: ForMeIn, catalogue: PersonaCatalogue) -> str:
    """The persona asked for, or the one the self-description falls into."""
    if body.persona is not None:
        if body.persona not in catalogue.ids:
            raise InputError(
                "persona: not a persona of this twin",
                record="persona",
                hint=f"one of {', '.join(catalogue.ids)}, or leave it out and send age_band and household",
            )
        return body.persona
    if body.age_band is None and body.household is None:
        raise InputError(
            "persona: choose a persona or describe yourself",
            record="persona",
            hint="send persona, or age_band and household",
        )
    group = _groups(catalogue).get((body.age_band, body.household), -1)
    if group < 0:
        field = "age_band" if body.age_band is None else "household"
        raise InputError(
            f"{field}: this self-description fits no single persona of this twin",
            record=field,
            hint="answer both questions, or choose a persona",
        )
    return catalogue.ids[group]


def router(live: LiveStores, simulations: Simulations) -> APIRouter:
    """The "for me" route; ``simulations`` holds the warm baselines and prepared scenario states."""
    r = APIRouter(prefix="/api/twins/{twin}/scenarios", tags=["scenarios"], max_body_size=MAX_BODY_BYTES)

    @r.post(
        "/{scenario_id}/for-me",
        summary="What a scenario changes for people like me near a point (nothing is stored or logged)",
        response_model=ForMeOut,
        responses={404: {"description": "no such scenario, or not visible to the caller"}},
    )
    def answer(twin: Twin, scenario_id: ScenarioId, request: Request, body: Annotated[Any, Body()]) -> ForMeOut:
        asked = _parsed(body)
        require_population(twin)
        spec = stored_spec(live, twin, scenario_id, request_role(request))
        bbox = twin.meta.get("bbox_wgs84")
        if lies_outside(tuple(bbox) if bbox else None, asked.home.lon, asked.home.lat):
            raise InputError("home: the point lies outside the twin", record="home", hint="choose a point on the map")
        persona = _persona(asked, simulations.baseline(twin).catalogue)
        base, state = simulations.prepared(twin, ScenarioSpec.model_validate(spec))
        found = for_me(base, state, persona, (asked.home.lon, asked.home.lat), lang=asked.lang)
        return ForMeOut(scenario_id=scenario_id, **found)

    return r
