"""Scenarios: a baseline plus measures (new housing, facilities, green space, hazards, a projection).

A scenario is plain data, validated here and identified by the hash of its canonical JSON, so the same measures
always get the same id and their results can be cached by it. Geometry comes as GeoJSON in lon/lat (WGS 84). Names
and descriptions are cleaned as every text people send (:mod:`twin3d.plaintext`) before the id is computed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from twin3d.errors import InputError
from twin3d.layers.model import LAYER_ID_PATTERN
from twin3d.plaintext import Line, Text
from twin3d.population.personas import FacilityType

MAX_RING_POSITIONS = 10_000
ABOVE_TERRAIN_M = 30.0
"""A water level or a wall crest may lie at most this far above the terrain's highest cell."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


LonLat = tuple[Annotated[float, Field(ge=-180, le=180)], Annotated[float, Field(ge=-90, le=90)]]


class Polygon(_Strict):
    """A GeoJSON polygon in lon/lat: an outer ring and optional holes, each closed, valid (no self-intersection)."""

    type: Literal["Polygon"]
    coordinates: list[Annotated[list[LonLat], Field(min_length=4, max_length=MAX_RING_POSITIONS)]] = Field(
        min_length=1, max_length=50
    )

    @field_validator("coordinates")
    @classmethod
    def _valid(cls, rings: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        for i, ring in enumerate(rings):
            if ring[0] != ring[-1]:
                raise ValueError(f"ring {i} is not closed: its first and last positions differ")
        geom = shapely.Polygon(rings[0], rings[1:])
        if not geom.is_valid:
            # e.g. "Self-intersection[12.1 54.1]": the reason names the place to fix.
            raise ValueError(f"invalid polygon: {shapely.is_valid_reason(geom)}")
        if geom.area <= 0:
            raise ValueError("the polygon has no area")
        return rings

    def shape(self) -> shapely.Polygon:
        """The polygon as a shapely geometry (lon/lat)."""
        return shapely.Polygon(self.coordinates[0], self.coordinates[1:])


class Point(_Strict):
    """A GeoJSON point in lon/lat."""

    type: Literal["Point"]
    coordinates: LonLat

    def shape(self) -> shapely.Point:
        """The point as a shapely geometry (lon/lat)."""
        return shapely.Point(self.coordinates)


class LineString(_Strict):
    """A GeoJSON line in lon/lat (a wall): at least two positions, of some length."""

    type: Literal["LineString"]
    coordinates: list[LonLat] = Field(min_length=2, max_length=MAX_RING_POSITIONS)

    @field_validator("coordinates")
    @classmethod
    def _has_length(cls, positions: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len(set(positions)) < 2:
            raise ValueError("the line has no length: its positions are all the same")
        return positions

    def shape(self) -> shapely.LineString:
        """The line as a shapely geometry (lon/lat)."""
        return shapely.LineString(self.coordinates)


HEIGHT_NHN = Field(
    ge=-100, le=5_000, allow_inf_nan=False, description="metres above NHN (DHHN2016), as the twin's terrain"
)


MIX = Field(
    default="new_build",
    pattern=r"^(new_build|like:[a-z0-9_]+:[A-Za-z0-9_.-]+)$",
    description="'new_build', or 'like:<level>:<code>' for households like a district's",
)
DWELLING_M2 = Field(default=80.0, ge=20, le=400, description="mean gross floor area per dwelling (m²)")


class NewHousing(_Strict):
    """A new quarter: buildings on ``site_coverage`` of the area with ``storeys`` floors give the floor area and so
    the dwellings (unless ``dwellings`` is given), occupied by households like a district's, or a new-build mix."""

    kind: Literal["new_housing"]
    area: Polygon
    storeys: int = Field(ge=1, le=40)
    dwellings: int | None = Field(default=None, ge=1, le=50_000, description="left out: from the floor area")
    site_coverage: float = Field(default=0.4, gt=0, le=1, description="share of the area built over (GRZ)")
    dwelling_m2: float = DWELLING_M2
    occupancy: float = Field(default=1.0, gt=0, le=1, description="share of dwellings occupied")
    mix: str = MIX


class AddStoreys(_Strict):
    """Storeys added on existing buildings: new dwellings without new sealing."""

    kind: Literal["add_storeys"]
    building_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=10_000)
    storeys: int = Field(ge=1, le=10)
    dwelling_m2: float = DWELLING_M2
    occupancy: float = Field(default=1.0, gt=0, le=1, description="share of dwellings occupied")
    mix: str = MIX


class Infill(_Strict):
    """Nachverdichtung: the floor area parcels may still gain under the GFZ of a loaded Bebauungsplan (XPlanGML
    layer) or ``default_gfz``, realised as storeys on existing buildings (no new sealing); ``take_up`` of it is
    built within the horizon. Only parcels of ``land_uses`` count (left out: ALKIS built-up land; parcels without a
    land use count where buildings stand). See :mod:`twin3d.simulation.infill`."""

    kind: Literal["infill"]
    area: Polygon | None = Field(default=None, description="left out: the whole twin")
    plan_layer: str | None = Field(
        default=None, pattern=LAYER_ID_PATTERN, description="id of a loaded XPlanGML layer; left out: the default"
    )
    default_gfz: float = Field(default=0.8, ge=0.1, le=4.0, description="GFZ where no plan area sets one")
    take_up: float = Field(default=0.3, gt=0, le=1, description="share of the potential realised within the horizon")
    land_uses: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]] | None = Field(
        default=None, min_length=1, max_length=50, description="land-use classes counted (ALKIS, lower case)"
    )
    dwelling_m2: float = DWELLING_M2
    occupancy: float = Field(default=1.0, gt=0, le=1, description="share of dwellings occupied")
    mix: str = MIX


class RemoveBuildings(_Strict):
    """Buildings demolished or no longer lived in; their households leave the twin."""

    kind: Literal["remove_buildings"]
    building_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=10_000)


class AddFacility(_Strict):
    """A new Kita, school, care home, stop, park, playground, doctor, ... with its capacity."""

    kind: Literal["add_facility"]
    facility: FacilityType
    location: Point
    capacity: int = Field(default=0, ge=0, le=100_000, description="places (Kita, school, care home); 0: not rationed")
    name: Line = Field(default="", max_length=200)


class RemoveFacility(_Strict):
    """A facility that closes."""

    kind: Literal["remove_facility"]
    facility_id: str = Field(min_length=1, max_length=200)


class GreenSpace(_Strict):
    """A new park or green area."""

    kind: Literal["green_space"]
    area: Polygon
    name: Line = Field(default="", max_length=200)


class Hazard(_Strict):
    """An area exposed to a hazard, such as a flood zone: drawn (``area``) or the polygons of a loaded vector layer
    (``layer``, e.g. a state's flood zones read from a WFS)."""

    kind: Literal["hazard"]
    area: Polygon | None = None
    layer: str | None = Field(default=None, pattern=LAYER_ID_PATTERN, description="id of a loaded vector layer")
    hazard: Literal["flood", "heavy_rain", "heat", "other"] = "flood"
    name: Line = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _one_source(self) -> Hazard:
        if (self.area is None) == (self.layer is None):
            raise ValueError("a hazard needs either a drawn area or a layer, not both and not neither")
        return self


class Flood(_Strict):
    """A flood from the terrain: the water at ``level_m`` fills the cells below it that are connected to the
    ``source`` (the river; left out: the lowest cell), within ``area`` where one is drawn (a depth polygon)."""

    kind: Literal["flood"]
    level_m: float = HEIGHT_NHN
    area: Polygon | None = None
    source: Point | None = Field(default=None, description="where the water comes from, e.g. a point on the river")
    name: Line = Field(default="", max_length=200)


class FloodWall(_Strict):
    """A protective wall: the cells along ``line`` hold the water back while the level is below ``crest_m``."""

    kind: Literal["flood_wall"]
    line: LineString
    crest_m: float = HEIGHT_NHN
    name: Line = Field(default="", max_length=200)


STOREY_M = 3.0
"""Metres per storey where a planned building gives storeys and no height (and storeys from a height)."""


class ModelPlacement(_Strict):
    """An uploaded glTF/GLB model (its sha256, see :mod:`twin3d.layers.models`) standing at ``location``, scaled
    and turned (degrees clockwise from north) about its vertical axis: its footprint and height are the model's."""

    model_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    location: Point
    scale: float = Field(default=1.0, gt=0, le=100, allow_inf_nan=False)
    rotation_deg: float = Field(default=0.0, ge=-360, le=360, allow_inf_nan=False)


class PlannedBuilding(_Strict):
    """A planned building: a drawn ``footprint`` raised to ``height_m`` (or ``storeys`` x :data:`STOREY_M`), or a
    placed glTF ``model``. The existing buildings it stands on are replaced (their households leave); a residential
    or mixed one houses households like new housing. It casts shadows, screens noise and blocks views."""

    kind: Literal["planned_building"]
    footprint: Polygon | None = None
    height_m: float | None = Field(default=None, gt=0, le=400, allow_inf_nan=False)
    storeys: int | None = Field(default=None, ge=1, le=100)
    model: ModelPlacement | None = None
    use: Literal["residential", "mixed", "non_residential"] = "residential"
    dwellings: int | None = Field(default=None, ge=1, le=5_000, description="left out: from the floor area")
    dwelling_m2: float = DWELLING_M2
    occupancy: float = Field(default=1.0, gt=0, le=1, description="share of dwellings occupied")
    mix: str = MIX
    name: Line = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _shape(self) -> PlannedBuilding:
        if (self.footprint is None) == (self.model is None):
            raise ValueError("a planned building needs either a drawn footprint or a placed model, not both")
        if self.footprint is not None and self.height_m is None and self.storeys is None:
            raise ValueError("a drawn planned building needs its height_m or its storeys")
        return self

    @property
    def floors(self) -> int:
        """Storeys, given or from the height (at least one)."""
        if self.storeys is not None:
            return self.storeys
        return max(1, round((self.height_m or STOREY_M) / STOREY_M))


ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential", "service")
"""Road classes a scenario may add: OSM ``highway`` values, each with its traffic assumption (noise model)."""


class AddRoad(_Strict):
    """A new road: its axis, class and traffic (left out: the class's assumption in the noise model's table)."""

    kind: Literal["add_road"]
    line: LineString
    road_class: Literal[
        "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential", "service"
    ]
    vehicles_per_day: int | None = Field(default=None, ge=0, le=200_000, description="DTV, vehicles per day")
    speed_kmh: int | None = Field(default=None, ge=10, le=130)
    heavy_share: float | None = Field(default=None, ge=0, le=0.6, description="share of heavy vehicles (Lkw)")
    name: Line = Field(default="", max_length=200)


class CloseRoad(_Strict):
    """Roads closed to motor traffic: those named (``road_ids`` of the twin's roads) or all within ``area``."""

    kind: Literal["close_road"]
    road_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=10_000
    )
    area: Polygon | None = None
    name: Line = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _one_source(self) -> CloseRoad:
        if (self.road_ids is None) == (self.area is None):
            raise ValueError("close roads by their road_ids or by an area, not both and not neither")
        return self


class Landmark(_Strict):
    """A planned high point (a tower, a wind turbine): who will see it (a viewshed over buildings and terrain)."""

    kind: Literal["landmark"]
    location: Point
    height_m: float = Field(gt=0, le=400, allow_inf_nan=False, description="metres above the ground")
    structure: Literal["tower", "wind_turbine", "other"] = "tower"
    name: Line = Field(default="", max_length=200)


class NoiseMap(_Strict):
    """A noise map (a loaded raster layer of levels in dB, e.g. a state's L_DEN map): residents in its bands."""

    kind: Literal["noise_map"]
    layer: str = Field(pattern=LAYER_ID_PATTERN, description="id of a loaded raster layer of levels in dB")
    name: Line = Field(default="", max_length=200)


class Projection(_Strict):
    """Age the population over a number of years (births, deaths, migration from the projection rates)."""

    kind: Literal["projection"]
    years: int = Field(ge=1, le=30)


Measure = Annotated[
    NewHousing
    | AddStoreys
    | Infill
    | RemoveBuildings
    | AddFacility
    | RemoveFacility
    | GreenSpace
    | Hazard
    | Flood
    | FloodWall
    | Projection
    | PlannedBuilding
    | AddRoad
    | CloseRoad
    | Landmark
    | NoiseMap,
    Field(discriminator="kind"),
]


class ScenarioSpec(_Strict):
    """What a planner asks: a name, a description and the measures applied to the baseline."""

    name: Line = Field(min_length=1, max_length=120)
    description: Text = Field(default="", max_length=2_000)
    measures: list[Measure] = Field(min_length=1, max_length=50)
    visibility: Literal["public", "council", "admin"] = Field(
        default="public", description="the lowest role that sees the scenario (council: the council's own drafts)"
    )

    @model_validator(mode="after")
    def _walls_hold_a_flood(self) -> ScenarioSpec:
        walls = [i for i, m in enumerate(self.measures) if isinstance(m, FloodWall)]
        if walls and not any(isinstance(m, Flood) for m in self.measures):
            raise ValueError(f"measures.{walls[0]}: a flood wall needs a flood (a water level) in the same scenario")
        return self

    def canonical_json(self) -> str:
        """The spec as canonical JSON (sorted keys, no spaces): what the id is computed from. A public scenario
        leaves its visibility out, and new housing its later fields at their defaults, so ids of scenarios stored
        before those existed stay the same."""
        data = self.model_dump(mode="json")
        if data["visibility"] == "public":
            del data["visibility"]
        for measure in data["measures"]:
            if measure["kind"] == "new_housing":  # fields added later: at their defaults, the id stays as it was
                for key, default in (("dwellings", None), ("site_coverage", 0.4), ("dwelling_m2", 80.0)):
                    if measure.get(key) == default:
                        del measure[key]
            if measure["kind"] == "hazard" and measure.get("layer") is None:  # a later field, as above
                measure.pop("layer", None)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def content_hash(self) -> str:
        """The scenario id: SHA-256 of the canonical JSON, 64 hex digits."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


GEOMETRY_FIELDS = ("area", "location", "line", "source", "footprint")
"""The fields a measure may draw on the map, in the order a measure's place is read from them."""


def measure_geometries(measure: BaseModel) -> list[tuple[str, Polygon | Point | LineString]]:
    """The geometries a measure draws on the map, each with its field (a placed model's ``model.location``)."""
    found = [(name, getattr(measure, name)) for name in GEOMETRY_FIELDS if getattr(measure, name, None) is not None]
    if isinstance(measure, PlannedBuilding) and measure.model is not None:
        found.append(("model.location", measure.model.location))
    return found


def check_within(spec: ScenarioSpec, bbox: tuple[float, float, float, float]) -> None:
    """Every geometry of the scenario must touch the twin's extent (lon/lat bounding box).

    Raises:
        InputError: a measure lies outside the twin; ``record`` names the field (``measures.<i>.area``).
    """
    extent = shapely.box(*bbox)
    for i, measure in enumerate(spec.measures):
        for field, geometry in measure_geometries(measure):
            if not extent.intersects(geometry.shape()):
                raise InputError(
                    f"measures.{i}.{field} lies outside the twin",
                    record=f"measures.{i}.{field}",
                    hint=f"draw it within lon {bbox[0]:.4f}..{bbox[2]:.4f}, lat {bbox[1]:.4f}..{bbox[3]:.4f}",
                )


def check_heights(spec: ScenarioSpec, low: float, high: float) -> None:
    """Every water level and wall crest must lie within the twin's terrain: from its lowest cell ``low`` to
    :data:`ABOVE_TERRAIN_M` above its highest ``high`` (metres above NHN).

    Raises:
        InputError: a height out of that range; ``record`` names the field (``measures.<i>.level_m``).
    """
    top = high + ABOVE_TERRAIN_M
    for i, measure in enumerate(spec.measures):
        name = "level_m" if isinstance(measure, Flood) else "crest_m" if isinstance(measure, FloodWall) else None
        if name is None:
            continue
        value = getattr(measure, name)
        if not low <= value <= top:
            raise InputError(
                f"measures.{i}.{name} = {value:g} m lies outside the twin's terrain ({low:.2f} to {high:.2f} m NHN)",
                record=f"measures.{i}.{name}",
                hint=f"give a height between {low:.2f} and {top:.2f} m above NHN",
            )
