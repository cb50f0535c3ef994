"""``/api/twins/{twin}/buildings``: one building by id or at a clicked coordinate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from twin3d.errors import NotFoundError
from twin3d.server.deps import Twin
from twin3d.store import queries


def router(pick_tolerance_m: float) -> APIRouter:
    """Routes for buildings; a click may miss a footprint by up to ``pick_tolerance_m``."""
    r = APIRouter(prefix="/api/twins/{twin}/buildings", tags=["buildings"])

    @r.get("/at", summary="The building at a clicked coordinate (WGS 84)")
    def building_at(
        twin: Twin,
        lon: Annotated[float, Query(ge=-180, le=180)],
        lat: Annotated[float, Query(ge=-90, le=90)],
    ) -> dict[str, Any]:
        found = queries.building_at(twin.cursor(), lon, lat, twin.meta["crs"], pick_tolerance_m)
        if found is None:
            raise NotFoundError("no building at this point", hint="click on a building")
        return found

    @r.get("/{building_id:path}", summary="One building by id")
    def building(
        twin: Twin, building_id: Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[\w:/.\-]+$")]
    ) -> dict[str, Any]:
        found = queries.building(twin.cursor(), building_id)
        if found is None:
            raise NotFoundError(f"no building {building_id!r}")
        return found

    return r
