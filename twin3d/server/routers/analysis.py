"""``/api/twins/{twin}/analysis``: the planning analyses of the whole baseline twin, per persona.

``sun``: households per persona whose façades get less direct sun than DIN EN 17037's 1.5 hours on 21 March;
``noise``: residents per persona in each L_DEN band of the road-noise screening model (docs/noise.md). Both are the
figures a scenario's ``sun`` and ``noise`` sections compare with, computed once per build from the published units
through the privacy gate (:mod:`twin3d.simulation.planning`); the first call on a build may take seconds.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from twin3d.errors import NotFoundError
from twin3d.server.deps import Twin
from twin3d.server.routers.scenarios import Simulations, require_population
from twin3d.simulation.planning import baseline_noise, baseline_sun


class PersonaCount(BaseModel):
    """Households and persons of one persona (absent below the gate's group minimum)."""

    persona: str
    households: int
    persons: int


class Group(BaseModel):
    """Households and persons of a group, all and per persona; ``withheld`` when too few for a figure."""

    model_config = ConfigDict(extra="forbid")
    withheld: bool
    households: int | None = None
    persons: int | None = None
    by_persona: list[PersonaCount] = []


class SunAnalysis(BaseModel):
    """Households below the sun threshold in the baseline twin."""

    day: str
    threshold_h: float
    step_minutes: float
    min_elevation_deg: float
    counted: str
    buildings_checked: int
    below: Group


class NoiseBand(BaseModel):
    """Residents whose home's loudest façade lies in one band (from ``band`` dB to the next band)."""

    band: int
    before: Group | None = None
    after: Group


class NoiseAnalysis(BaseModel):
    """Residents per L_DEN band in the baseline twin."""

    indicator: str
    bands: list[int]
    source: str
    layer: str | None = None
    buildings_checked: int
    residents: list[NoiseBand]


def router(simulations: Simulations) -> APIRouter:
    """Routes for the baseline analyses."""
    r = APIRouter(prefix="/api/twins/{twin}/analysis", tags=["analysis"])

    @r.get("/sun", summary="Households per persona below 1.5 hours of direct sun at their façades (21 March)")
    def sun(twin: Twin) -> SunAnalysis:
        require_population(twin)
        return SunAnalysis.model_validate(baseline_sun(simulations.baseline(twin)))

    @r.get("/noise", summary="Residents per persona in each L_DEN road-noise band (screening model)")
    def noise(twin: Twin) -> NoiseAnalysis:
        require_population(twin)
        found: dict[str, Any] | None = baseline_noise(simulations.baseline(twin))
        if found is None:
            raise NotFoundError(
                "this twin has no roads for the noise model",
                hint=f'add a source of kind = "roads" to pipelines/{twin.name}.toml and run: twin3d build {twin.name}',
            )
        return NoiseAnalysis.model_validate(found)

    return r
