"""``/api/twins/{twin}/...geojson``: districts with statistics, census grid cells, facilities."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from twin3d.errors import NotFoundError
from twin3d.server.deps import Twin
from twin3d.server.state import TwinHandle
from twin3d.store import queries, stat_series

GEOJSON = "application/geo+json"
Year = Annotated[int | None, Query(ge=1800, le=2200, description="statistics year; default: the latest")]
Level = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,32}$")]


class DistrictSeriesOut(BaseModel):
    """One statistic of a district level over all its years (the viewer's time slider fixes its classes on it)."""

    level: str
    variable: str
    years: list[int] = Field(description="the years with figures, ascending")
    source: str | None = Field(description="the pipeline source of the figures")
    unit: str | None
    values: dict[str, list[float | None]] = Field(description="district_id -> one value per year (null: none)")


def _check_level(twin: TwinHandle, level: str) -> None:
    levels = [lvl["level"] for lvl in twin.meta.get("district_levels", [])]
    if level not in levels:
        raise NotFoundError(f"no district level {level!r}", hint=f"levels: {', '.join(levels) or 'none'}")


def router() -> APIRouter:
    """Routes for the twin's 2D layers."""
    r = APIRouter(prefix="/api/twins/{twin}", tags=["layers"])

    @r.get("/districts/{level}.geojson", summary="Districts of one level with their statistics")
    def districts(twin: Twin, level: Level, year: Year = None) -> Response:
        _check_level(twin, level)
        return Response(queries.districts_geojson(twin.cursor(), level, year), media_type=GEOJSON)

    @r.get(
        "/districts/{level}/series",
        summary="One statistic of a district level in every year it has (one request instead of one per year)",
        response_model=DistrictSeriesOut,
    )
    def series(
        twin: Twin,
        level: Level,
        variable: Annotated[str, Query(pattern=r"^[A-Za-z0-9_]{1,64}$", description="the statistic, e.g. population")],
    ) -> dict[str, Any]:
        _check_level(twin, level)
        found = stat_series.district_series(twin.cursor(), level, variable)
        if not found["years"]:
            raise NotFoundError(f"variable {variable!r}: no statistic of that name for level {level!r}")
        return {"level": level, "variable": variable, **found}

    @r.get("/grid.geojson", summary="Census grid cells with their statistics")
    def grid(twin: Twin, year: Year = None) -> Response:
        return Response(queries.grid_geojson(twin.cursor(), year), media_type=GEOJSON)

    @r.get("/facilities.geojson", summary="Facilities (schools, Kitas, stops, doctors, ...)")
    def facilities(
        twin: Twin, category: Annotated[str | None, Query(max_length=80, pattern=r"^[\w:=.\- ]+$")] = None
    ) -> Response:
        return Response(queries.facilities_geojson(twin.cursor(), category), media_type=GEOJSON)

    @r.get("/paths.geojson", summary="Street and footpath network")
    def paths(twin: Twin) -> Response:
        return Response(queries.paths_geojson(twin.cursor()), media_type=GEOJSON)

    @r.get("/facilities/categories", summary="Facility categories with their counts")
    def categories(twin: Twin) -> list[dict[str, Any]]:
        return queries.facility_categories(twin.cursor())

    return r
