"""``/api/twins/{twin}/buildings``: one building by id or at a clicked coordinate, with its type's name and the
parcels it stands on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from twin3d.errors import NotFoundError
from twin3d.server.deps import Twin
from twin3d.store import parcels, queries


def _described(twin: Twin, found: dict[str, Any]) -> dict[str, Any]:
    """A building's details plus what a person reads: its type's name (``type_names``; the value without one) and
    the parcels it stands on (id, label, share of the footprint)."""
    cur = twin.cursor()
    found["building_type_name"], found["building_type_name_en"] = parcels.type_name(
        cur, "building_type", found.get("building_type")
    )
    found["parcels"] = parcels.building_parcels(cur, found["building_id"])
    return found


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
        return _described(twin, found)

    @r.get("/{building_id:path}", summary="One building by id")
    def building(
        twin: Twin, building_id: Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[\w:/.\-]+$")]
    ) -> dict[str, Any]:
        found = queries.building(twin.cursor(), building_id)
        if found is None:
            raise NotFoundError(f"no building {building_id!r}")
        return _described(twin, found)

    return r
