"""``/api/twins/{twin}/parcels``: one cadastre parcel (Flurstück) by id or under a clicked coordinate, with its
figures (areas, land use, GRZ, GFZ, floor area) and the buildings standing on it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from twin3d.errors import NotFoundError
from twin3d.server.deps import Twin
from twin3d.store import parcels


class ParcelBuilding(BaseModel):
    """A building standing (partly) on the parcel."""

    building_id: str
    name: str | None
    building_type: str | None = Field(description="the source's value or code, e.g. ALKIS 1000 or OSM house")
    building_type_name: str | None = Field(description="what a person reads, e.g. Wohngebäude (the code without one)")
    building_type_name_en: str | None
    levels: float | None = Field(description="storeys above ground, where the source gives them")
    height: float | None = Field(description="m")
    area_m2: float = Field(description="footprint area on this parcel")
    share: float = Field(description="share of the building's footprint on this parcel (0..1)")


class ParcelLabelParts(BaseModel):
    """The parts of a parcel's name, for a client to write it in its reader's language (``label`` is German)."""

    gemarkung_name: str | None = Field(description="the Gemarkung (cadastral district), e.g. Monzel")
    gemarkung: str | None = Field(description="Gemarkungsnummer, e.g. 2566")
    flur: str | None = Field(description="Flurnummer (the Flur: a numbered part of the Gemarkung)")
    numerator: str | None = Field(description="Flurstücksnummer: Zähler, e.g. 6 of 6/2")
    denominator: str | None = Field(description="Flurstücksnummer: Nenner, e.g. 2 of 6/2 (null: none)")


class Parcel(BaseModel):
    """A parcel and what stands on it. GRZ = built-up area / parcel area; GFZ = floor area / parcel area."""

    parcel_id: str
    label: str = Field(description="in German, e.g. Gemarkung Monzel (2566), Flur 1, Flurstück 6/2")
    label_parts: ParcelLabelParts | None = Field(
        description="what the label is made of (null: the parcel has no number; the label is its key or id)"
    )
    cadastral_id: str | None = Field(description="Flurstückskennzeichen")
    gemarkung: str | None
    flur: str | None
    number: str | None = Field(description="Flurstücksnummer: Zähler or Zähler/Nenner")
    area_m2: float = Field(description="of the geometry")
    official_area_m2: float | None = Field(description="amtliche Fläche")
    land_use: str | None = Field(description="the land-use class covering most of the parcel")
    land_use_name: str | None
    land_use_name_en: str | None
    buildings: int
    built_m2: float = Field(description="building footprint area on the parcel")
    floor_area_m2: float = Field(description="footprint area on the parcel times storeys")
    storeys_estimated: bool = Field(description="some storeys were estimated from a height (no storey count known)")
    grz: float | None = Field(description="Grundflächenzahl")
    gfz: float | None = Field(description="Geschossflächenzahl")
    geometry: dict[str, Any] = Field(description="GeoJSON geometry in WGS 84")
    lon: float = Field(description="a point on the parcel (WGS 84)")
    lat: float
    building_list: list[ParcelBuilding] = Field(description="the buildings on the parcel, the largest part first")


def router() -> APIRouter:
    """Routes for parcels."""
    r = APIRouter(prefix="/api/twins/{twin}/parcels", tags=["parcels"])

    @r.get("/at", summary="The parcel at a clicked coordinate (WGS 84)", response_model=Parcel)
    def parcel_at(
        twin: Twin,
        lon: Annotated[float, Query(ge=-180, le=180)],
        lat: Annotated[float, Query(ge=-90, le=90)],
    ) -> dict[str, Any]:
        found = parcels.parcel_at(twin.cursor(), lon, lat, twin.meta["crs"])
        if found is None:
            raise NotFoundError("no parcel at this point", hint="click inside the twin's cadastre")
        return found

    @r.get("/{parcel_id}", summary="One parcel by id", response_model=Parcel)
    def parcel(
        twin: Twin, parcel_id: Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[\w:.\-]+$")]
    ) -> dict[str, Any]:
        found = parcels.parcel(twin.cursor(), parcel_id)
        if found is None:
            raise NotFoundError(f"no parcel {parcel_id!r}")
        return found

    return r
