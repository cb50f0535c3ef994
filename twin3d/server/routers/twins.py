"""``/api/twins``: which twins are served, with what the viewer needs to show them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from twin3d.server.access import request_role, request_twins, request_user
from twin3d.server.deps import Twin
from twin3d.server.state import TwinFault, TwinHandle, Twins
from twin3d.store import queries


def tileset_url(handle: TwinHandle) -> str | None:
    """The root tileset of the twin's build: versioned (its files never change, so clients may keep them), or
    unversioned for a twin built before build ids."""
    tileset = handle.meta.get("tileset")
    if not tileset:
        return None
    return f"/tiles/{handle.name}/{handle.build_id}/{tileset}" if handle.build_id else f"/tiles/{handle.name}/{tileset}"


def basemap_url(handle: TwinHandle) -> str | None:
    """The URL template of the twin's basemap vector tiles (``{z}/{x}/{y}`` left in), resolved like the tileset's:
    relative to the build folder, versioned where the twin has build ids."""
    basemap = handle.meta.get("basemap")
    if not isinstance(basemap, dict) or not basemap.get("tiles"):
        return None
    tiles = str(basemap["tiles"])
    return f"/tiles/{handle.name}/{handle.build_id}/{tiles}" if handle.build_id else f"/tiles/{handle.name}/{tiles}"


class BasemapOut(BaseModel):
    """A twin's basemap: Mapbox Vector Tiles made in its build (``twin3d.pipeline.basemap``)."""

    tiles: str = Field(description="the tiles' path template, relative to the tileset folder")
    minzoom: int
    maxzoom: int = Field(description="tiles exist up to this zoom; viewers overzoom them beyond")
    bounds: list[float] = Field(description="west, south, east, north in degrees")
    layers: list[str] = Field(description="the vector tile layers present (landuse, water, roads, districts, ...)")
    attribution: str


class TwinOut(BaseModel):
    """A twin as the catalogue lists it; the fields not named here (identity, view, layers, counts) pass through."""

    model_config = ConfigDict(extra="allow")

    name: str
    available: bool
    title: str
    i18n: dict[str, dict[str, str | list[str]]] = Field(
        default_factory=dict, description="the twin's texts in English: {'en': {'title', 'description', 'attribution'}}"
    )
    tileset: str | None = None
    basemap_url: str | None = Field(
        default=None, description="URL template of the basemap tiles, {z}/{x}/{y} left in; null: no basemap"
    )
    basemap: BasemapOut | None = None


def english(texts: dict[str, str | None]) -> dict[str, Any]:
    """``{"i18n": {"en": {...}}}`` with the English texts the twin definition gives, or nothing: what a
    municipality wrote in German (titles, labels) reaches the English viewer this way; the viewer translates
    the texts the server itself names by their ``title_key``."""
    given = {key: text for key, text in texts.items() if text}
    return {"i18n": {"en": given}} if given else {}


def choropleth(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """The default choropleth as the viewer reads it: its English label (``label_en``) under ``i18n``."""
    if not config:
        return config
    out = {key: value for key, value in config.items() if key != "label_en"}
    return out | english({"label": config.get("label_en")})


def describe_fault(fault: TwinFault) -> dict[str, Any]:
    """A twin that cannot be served: its name and why (one line, no path)."""
    return {"name": fault.name, "title": fault.name, "available": False, "reason": fault.reason}


def describe(handle: TwinHandle) -> dict[str, Any]:
    """A twin as the viewer sees it: identity, where it is, its layers and the default choropleth."""
    meta = handle.meta
    name = handle.name
    counts = handle.counts
    years = handle.stat_years
    layers: list[dict[str, Any]] = [
        {
            "id": f"districts:{lvl['level']}",
            "title": lvl["title"],
            **english({"title": lvl.get("title_en")}),
            "kind": "districts",
            "url": f"/api/twins/{name}/districts/{lvl['level']}.geojson",
            # The years of its statistics (any variable, and per variable): the steps of the viewer's time slider.
            "years": sorted({y for ys in years.get(lvl["level"], {}).values() for y in ys}),
            "variable_years": years.get(lvl["level"], {}),
            "series_url": f"/api/twins/{name}/districts/{lvl['level']}/series",
        }
        for lvl in meta.get("district_levels", [])
    ]
    if counts.get("grid_cells"):
        layers.append(
            {
                "id": "grid",
                "title": "Zensus-Gitter",
                "title_key": "layerGrid",
                "kind": "grid",
                "url": f"/api/twins/{name}/grid.geojson",
            }
        )
    if counts.get("facilities"):
        layers.append(
            {
                "id": "facilities",
                "title": "Einrichtungen",
                "title_key": "layerFacilities",
                "kind": "facilities",
                "url": f"/api/twins/{name}/facilities.geojson",
            }
        )
    if counts.get("paths"):
        layers.append(
            {
                "id": "paths",
                "title": "Wegenetz",
                "title_key": "layerPaths",
                "kind": "paths",
                "url": f"/api/twins/{name}/paths.geojson",
            }
        )
    return {
        "name": name,
        "available": True,
        "title": meta.get("title", name),
        "description": meta.get("description", ""),
        "i18n": {"en": meta.get("i18n", {}).get("en", {})},
        "crs": meta.get("crs"),
        "origin": meta.get("origin"),
        "bbox": meta.get("bbox_wgs84"),
        "home_bbox": meta.get("home_bbox_wgs84") or meta.get("bbox_wgs84"),
        "ground_height": meta.get("ground_height"),
        "geoid_undulation": meta.get("geoid_undulation"),
        "attribution": meta.get("attribution", []),
        "choropleth": choropleth(meta.get("choropleth")),
        "tileset": tileset_url(handle),
        "basemap_url": basemap_url(handle),
        "basemap": meta.get("basemap"),
        "counts": counts,
        "layers": layers,
        "built_at": meta.get("built_at"),
        "build_id": handle.build_id,
    }


def router() -> APIRouter:
    """Routes for the twin catalogue."""
    r = APIRouter(prefix="/api/twins", tags=["twins"])

    # Fields a twin lacks (a twin that cannot be served has only its name and the reason) stay out of the answer.
    @r.get(
        "",
        summary="The twins this server serves, then those it cannot serve (with the reason)",
        response_model=list[TwinOut],
        response_model_exclude_unset=True,
    )
    async def list_twins(request: Request) -> list[dict[str, Any]]:
        twins: Twins = request.app.state.twins
        entries = twins.entries()
        served = [describe(e) for e in entries if isinstance(e, TwinHandle)]
        return served + [describe_fault(e) for e in entries if isinstance(e, TwinFault)]

    @r.get(
        "/{twin}", summary="One twin with its build report", response_model=TwinOut, response_model_exclude_unset=True
    )
    def get_twin(twin: Twin) -> dict[str, Any]:
        out = describe(twin)
        out["build_report"] = queries.meta(twin.cursor(), "build_report")
        return out

    return r


def me_router() -> APIRouter:
    """``/api/me``: who the caller is, so the viewer shows the controls of its role (upload, moderation)."""
    r = APIRouter(tags=["twins"])

    @r.get("/api/me", summary="The caller's role, user name and the twins the role applies in (null: all)")
    def whoami(request: Request) -> JSONResponse:
        body = {"role": request_role(request), "user": request_user(request), "twins": request_twins(request)}
        return JSONResponse(body, headers={"Cache-Control": "private, no-store", "Vary": "Authorization"})

    return r
