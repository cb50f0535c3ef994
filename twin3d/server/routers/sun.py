"""``/api/twins/{twin}/sun`` and ``.../shadows``: where the sun stands over a day, and the shadows the buildings
(existing, planned and less the removed ones) cast at one moment, for the viewer's date and time slider.

Geometry only: no person, household or figure derived from them is read, so the answers are public. The work per
request is bounded by the caps below (box size, planned buildings, removed ids, body size); a twin's buildings and
terrain are read once per build and kept (:class:`ShadowScenes`), and the last answers are remembered, since a
slider that plays a day asks for the same moments again. See :mod:`twin3d.simulation.shadows` for the model and
its simplifications (flat ground under each building, prisms, a cap on the length).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pyproj import CRS, Geod

from twin3d.errors import InputError
from twin3d.io.crs import reproject
from twin3d.server.deps import Twin
from twin3d.server.state import TwinHandle
from twin3d.simulation.scenario import Polygon
from twin3d.simulation.shadows import (
    MAX_SHADOW_M,
    WGS84,
    Casters,
    cast_shadows,
    feature_collection,
    grid_north_deg,
    shadow_features,
    sun_at,
    sun_day,
)
from twin3d.simulation.solar import TOWN_ZONE
from twin3d.simulation.terrain import Terrain, load_terrain

GEOJSON = "application/geo+json"
GEOD = Geod(ellps="WGS84")
MAX_BOX_M = 2500.0
"""The longest side (on the ground) of a box shadows are computed for (about 0.6 s of work on Lauf's densest 2.5 km)."""
MAX_PLANNED = 50
MAX_REMOVED = 10_000
"""As many removed buildings as a scenario's ``remove_buildings`` measure may name."""
MAX_BODY_BYTES = 1 << 20
STEP_MINUTES = 10
YEARS = (1900, 2100)
"""The years the solar formulae hold for (to about 0.01°)."""
KEPT_SCENES = 4
"""Twins (builds) whose buildings and terrain are kept in memory."""
KEPT_ANSWERS = 64
"""Shadow answers remembered (a day's slider has about 100 steps)."""

LonLatBox = tuple[
    Annotated[float, Field(ge=-180, le=180)],
    Annotated[float, Field(ge=-90, le=90)],
    Annotated[float, Field(ge=-180, le=180)],
    Annotated[float, Field(ge=-90, le=90)],
]
BuildingId = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlannedPrism(_Strict):
    """A planned building as a prism: its footprint (GeoJSON, lon/lat) raised to ``height_m`` above the ground."""

    footprint: Polygon
    height_m: float = Field(gt=0, le=400, allow_inf_nan=False)


class ShadowsIn(_Strict):
    """One moment, a box of the map, and the draft's changes to the buildings."""

    time: datetime = Field(description="local date and time (ISO 8601); without an offset: Europe/Berlin")
    bbox: LonLatBox = Field(description=f"west, south, east, north (WGS 84); at most {MAX_BOX_M:.0f} m a side")
    planned: list[PlannedPrism] = Field(default_factory=list, max_length=MAX_PLANNED)
    removed: list[BuildingId] = Field(default_factory=list, max_length=MAX_REMOVED, description="building ids")

    @field_validator("time")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        if not YEARS[0] <= value.year <= YEARS[1]:
            raise ValueError(f"the sun's position is computed for the years {YEARS[0]} to {YEARS[1]}")
        return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(TOWN_ZONE))

    @field_validator("bbox")
    @classmethod
    def _ordered(cls, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        if not (box[0] < box[2] and box[1] < box[3]):
            raise ValueError("bbox must be west, south, east, north with west < east and south < north")
        return box


class SunOut(BaseModel):
    """Where the sun stands."""

    azimuth: float = Field(description="degrees clockwise from north")
    elevation: float = Field(description="apparent degrees above the horizon (refraction included)")
    above_horizon: bool


class DayOut(BaseModel):
    """When the sun rises and sets that local day (null: it does not, e.g. in a polar night)."""

    date: Date
    sunrise: datetime | None
    sunset: datetime | None


class ShadowProperties(BaseModel):
    """Whose shadow a polygon is: the existing buildings' or, where they add to it, the planned ones'."""

    source: Literal["existing", "planned"]
    area_m2: float


class ShadowGeometry(BaseModel):
    """A GeoJSON polygon: positions [lon, lat, height of the ground above the WGS 84 ellipsoid in m]."""

    type: Literal["Polygon"]
    coordinates: list[list[tuple[float, float, float]]]


class ShadowFeature(BaseModel):
    """One connected shadow."""

    type: Literal["Feature"]
    properties: ShadowProperties
    geometry: ShadowGeometry


class ShadowsOut(BaseModel):
    """A GeoJSON FeatureCollection of the shadows in the box, with the sun and the day as further members."""

    type: Literal["FeatureCollection"]
    time: datetime
    sun: SunOut
    day: DayOut
    shadow_per_metre: float | None = Field(description="metres of shadow per metre of height (1 / tan(elevation))")
    max_length_m: float = Field(description="shadows longer than this are clipped to it")
    capped: int = Field(description="buildings whose shadow was clipped to max_length_m")
    casters: int = Field(description="buildings (planned ones included) whose shadows were computed")
    replaced: int = Field(description="existing buildings left out: removed, or standing under a planned building")
    ground: Literal["flat"] = Field(description="each shadow lies in the plane of its building's ground")
    features: list[ShadowFeature]


class PathStep(BaseModel):
    """The sun at one step of the day."""

    time: datetime
    azimuth: float
    elevation: float


class SunPathOut(BaseModel):
    """The sun's path over a local day at the twin, every ``step_minutes``, for the viewer's time slider."""

    date: Date
    zone: str
    lon: float
    lat: float
    sunrise: datetime | None
    sunset: datetime | None
    step_minutes: int
    path: list[PathStep]


@dataclass(frozen=True)
class ShadowScene:
    """What one build of a twin casts shadows with: its buildings, their index, terrain and CRS."""

    casters: Casters
    tree: shapely.STRtree
    terrain: Terrain
    crs: CRS
    undulation_m: float
    tallest_m: float
    extent: shapely.Geometry  # the twin's lon/lat box


class ShadowScenes:
    """Scenes per twin build, read on first use and kept for :data:`KEPT_SCENES` builds; the last answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scenes: OrderedDict[tuple[Any, ...], ShadowScene] = OrderedDict()
        self._answers: OrderedDict[str, bytes] = OrderedDict()

    def scene(self, twin: TwinHandle) -> ShadowScene:
        """The twin's scene (read once per build)."""
        key = twin.build_key
        with self._lock:
            if key in self._scenes:
                self._scenes.move_to_end(key)
                return self._scenes[key]
        cur = twin.cursor()
        casters = Casters.from_store(cur)
        meta = twin.meta
        bbox = meta.get("bbox_wgs84") or [-180.0, -90.0, 180.0, 90.0]
        scene = ShadowScene(
            casters,
            shapely.STRtree(casters.footprints),
            load_terrain(cur),
            CRS.from_user_input(meta["crs"]),
            float(meta.get("geoid_undulation") or 0.0),
            float(casters.height_m.max()) if len(casters) else 0.0,
            shapely.box(*bbox),
        )
        with self._lock:
            self._scenes[key] = scene
            while len(self._scenes) > KEPT_SCENES:
                self._scenes.popitem(last=False)
        return scene

    def answer(self, key: str) -> bytes | None:
        """A remembered answer."""
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                self._answers.move_to_end(key)
            return found

    def keep(self, key: str, body: bytes) -> None:
        """Remember an answer."""
        with self._lock:
            self._answers[key] = body
            while len(self._answers) > KEPT_ANSWERS:
                self._answers.popitem(last=False)


def _place(scene: ShadowScene) -> tuple[float, float]:
    """The point the sun is computed for: the middle of the twin."""
    centre = scene.extent.centroid
    return float(centre.x), float(centre.y)


def _box(scene: ShadowScene, bbox: tuple[float, float, float, float]) -> shapely.Geometry:
    """The requested box in the twin's CRS, checked against the twin and the size cap."""
    lonlat = shapely.box(*bbox)
    if not scene.extent.intersects(lonlat):
        raise InputError(
            "bbox lies outside the twin",
            record="bbox",
            hint=f"send a box that overlaps the twin's extent {[round(v, 5) for v in scene.extent.bounds]}",
        )
    # The sides as measured on the ground, not the extent of the box in the twin's grid: a lon/lat box stands
    # turned in a UTM grid by the meridian convergence (2.4° in Rostock), so a box of 2,400 m a side spanned
    # 2,515 m of grid easting there and was refused, while its area (the work) is the same.
    longest = _longest_side_m(bbox)
    if longest > MAX_BOX_M:
        raise InputError(
            f"bbox is {longest:.0f} m a side, more than {MAX_BOX_M:.0f} m",
            record="bbox",
            hint="zoom in, or ask for the shadows of a smaller box around the place of interest",
        )
    densified = shapely.segmentize(lonlat, max(bbox[2] - bbox[0], bbox[3] - bbox[1]) / 16)
    return reproject(np.array([densified], dtype=object), WGS84, scene.crs)[0]


def _longest_side_m(bbox: tuple[float, float, float, float]) -> float:
    """The longest of a lon/lat box's four sides on the WGS 84 ellipsoid, in metres."""
    w, s, e, n = bbox
    _, _, lengths = GEOD.inv([w, w, w, e], [s, n, s, s], [e, e, w, e], [s, n, n, n])
    return float(np.max(lengths))


def _planned(scene: ShadowScene, planned: list[PlannedPrism]) -> tuple[np.ndarray, np.ndarray]:
    """The planned footprints in the twin's CRS and their heights, each checked to lie in the twin."""
    footprints = np.array([p.footprint.shape() for p in planned], dtype=object)
    outside = np.flatnonzero(~shapely.intersects(scene.extent, footprints)) if len(footprints) else np.zeros(0, int)
    if len(outside):
        raise InputError(
            f"planned.{outside[0]}.footprint lies outside the twin",
            record=f"planned.{outside[0]}.footprint",
            hint="draw the planned building within the twin",
        )
    return reproject(footprints, WGS84, scene.crs), np.array([p.height_m for p in planned], np.float64)


def _request_key(twin: TwinHandle, body: ShadowsIn) -> str:
    text = json.dumps([repr(twin.build_key), body.model_dump(mode="json")], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def shadows_answer(scene: ShadowScene, body: ShadowsIn) -> bytes:
    """The GeoJSON answer of ``POST .../shadows`` (see :class:`ShadowsOut`)."""
    box = _box(scene, body.bbox)
    lon, lat = _place(scene)
    local = body.time.astimezone(ZoneInfo(TOWN_ZONE))  # the twin's wall clock, whatever offset was sent
    azimuth, elevation = sun_at(local, lon=lon, lat=lat)
    day = sun_day(local.date(), lon=lon, lat=lat, step_minutes=STEP_MINUTES)
    footprints, heights = _planned(scene, body.planned)
    per_metre = 1.0 / np.tan(np.radians(elevation)) if elevation > 0 else 0.0
    tallest = max([scene.tallest_m, *heights.tolist()])
    casters = scene.casters.near(box, min(MAX_SHADOW_M, tallest * per_metre), scene.tree)
    nearby = casters.ids
    casters = casters.without(body.removed).with_planned(footprints, heights)
    shadows = cast_shadows(
        casters,
        azimuth,
        elevation,
        grid_north=grid_north_deg(scene.crs, lon, lat),
        clip=box,
    )
    features = shadow_features(shadows, scene.crs, scene.terrain, scene.undulation_m)
    members: dict[str, object] = {
        "time": local.isoformat(),
        "sun": {"azimuth": round(azimuth, 3), "elevation": round(elevation, 3), "above_horizon": elevation > 0},
        "day": {
            "date": local.date().isoformat(),
            "sunrise": day.sunrise.isoformat() if day.sunrise else None,
            "sunset": day.sunset.isoformat() if day.sunset else None,
        },
        "shadow_per_metre": round(shadows.per_metre, 4) if shadows.per_metre is not None else None,
        "max_length_m": MAX_SHADOW_M,
        "capped": shadows.capped,
        "casters": shadows.casters,
        "replaced": len(np.setdiff1d(nearby, casters.ids[~casters.planned])),
        "ground": "flat",
    }
    return feature_collection(features, members)


def router() -> APIRouter:
    """The sun's path and the shadows of a twin's buildings."""
    r = APIRouter(prefix="/api/twins/{twin}", tags=["sun"], max_body_size=MAX_BODY_BYTES)
    scenes = ShadowScenes()

    @r.get("/sun", summary="The sun's path over a local day at the twin (every 10 minutes), sunrise and sunset")
    def sun_path(
        twin: Twin,
        date: Annotated[Date, Query(description="the local day, YYYY-MM-DD")],
    ) -> SunPathOut:
        if not YEARS[0] <= date.year <= YEARS[1]:
            raise InputError(
                f"date: the sun's position is computed for the years {YEARS[0]} to {YEARS[1]}",
                record="date",
                hint="ask for a day between 1900 and 2100",
            )
        scene = scenes.scene(twin)
        lon, lat = _place(scene)
        day = sun_day(date, lon=lon, lat=lat, step_minutes=STEP_MINUTES)
        return SunPathOut(
            date=date,
            zone=TOWN_ZONE,
            lon=round(lon, 6),
            lat=round(lat, 6),
            sunrise=day.sunrise,
            sunset=day.sunset,
            step_minutes=STEP_MINUTES,
            path=[
                PathStep(time=t, azimuth=round(float(a), 3), elevation=round(float(e), 3))
                for t, a, e in zip(day.times, day.azimuth, day.elevation, strict=True)
            ],
        )

    @r.post(
        "/shadows",
        summary="The shadows in a box at one moment (GeoJSON), with planned buildings and without removed ones",
        response_model=ShadowsOut,
        responses={200: {"content": {GEOJSON: {}}}},
    )
    def shadows(twin: Twin, body: Annotated[ShadowsIn, Body()]) -> Response:
        key = _request_key(twin, body)
        answer = scenes.answer(key)
        if answer is None:
            answer = shadows_answer(scenes.scene(twin), body)
            scenes.keep(key, answer)
        return Response(answer, media_type=GEOJSON)

    return r
