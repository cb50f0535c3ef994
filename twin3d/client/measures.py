"""Measures of a scenario, built from Python values: the server's own models (:mod:`twin3d.simulation.scenario`).

Each helper returns the pydantic model the server validates, so a mistake (a storey count of 0, an open ring, an
unknown facility type) fails here, naming the field, before anything is sent. Geometries may be shapely objects,
GeoJSON mappings or (lon, lat) pairs; with ``crs`` (the twin's, say ``twin.crs``) they are turned to lon/lat first.

Example:
    >>> from twin3d.client import measures
    >>> kita = measures.add_facility("kita", (11.2795, 49.5105), capacity=75, name="Kita am Bahnhof")
    >>> spec = measures.scenario("Neue Kita", [kita])
    >>> spec.measures[0].capacity
    75
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import numpy as np
import shapely
import shapely.geometry
from pyproj import CRS, Transformer

from twin3d.population.personas import FacilityType
from twin3d.simulation.scenario import (
    AddFacility,
    AddRoad,
    AddStoreys,
    CloseRoad,
    Flood,
    FloodWall,
    GreenSpace,
    Hazard,
    Infill,
    Landmark,
    Measure,
    NewHousing,
    NoiseMap,
    PlannedBuilding,
    Projection,
    RemoveBuildings,
    RemoveFacility,
    ScenarioSpec,
)

__all__ = [
    "AddFacility", "AddRoad", "AddStoreys", "CloseRoad", "Flood", "FloodWall", "GreenSpace", "Hazard", "Infill",
    "Landmark", "Measure", "NewHousing", "NoiseMap", "PlannedBuilding", "Projection", "RemoveBuildings",
    "RemoveFacility", "ScenarioSpec", "add_facility", "add_road", "add_storeys", "close_road", "flood",
    "flood_wall", "green_space", "hazard", "infill", "landmark", "lonlat", "new_housing", "noise_map",
    "planned_building", "projection", "remove_buildings", "remove_facility", "scenario",
]  # fmt: skip

GeometryLike: TypeAlias = shapely.Geometry | Mapping[str, Any] | Sequence[float]
Visibility = Literal["public", "council", "admin"]


def lonlat(geometry: GeometryLike, crs: Any = None) -> dict[str, Any]:
    """A geometry as a GeoJSON mapping in lon/lat: a shapely object, a GeoJSON mapping or a (lon, lat) pair, in
    ``crs`` (None: already lon/lat)."""
    if isinstance(geometry, shapely.Geometry):
        shape = geometry
    elif isinstance(geometry, Mapping):
        shape = shapely.geometry.shape(geometry)
    else:
        shape = shapely.Point(*geometry)
    if crs is not None and not CRS.from_user_input(crs).equals(CRS.from_epsg(4326)):
        to_wgs84 = Transformer.from_crs(crs, 4326, always_xy=True)
        # Lists, not arrays: pyproj takes an array of one value (a point) for a scalar and NumPy warns about it.
        shape = shapely.transform(
            shape, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0].tolist(), xy[:, 1].tolist()))
        )
    mapped = dict(shapely.geometry.mapping(shape))
    if mapped["type"] == "Polygon":  # the server takes closed rings of positions; shapely gives tuples of tuples
        mapped["coordinates"] = [list(ring) for ring in mapped["coordinates"]]
    elif mapped["type"] == "LineString":
        mapped["coordinates"] = list(mapped["coordinates"])
    return mapped


def _ids(values: Iterable[Any]) -> list[str]:
    """Ids from a list, a pandas Series or a GeoDataFrame's column, as strings."""
    return [str(v) for v in values]


def add_facility(
    facility: FacilityType, location: GeometryLike, *, capacity: int = 0, name: str = "", crs: Any = None
) -> AddFacility:
    """A new facility (Kita, school, care home, stop, park, playground, doctor, ...); ``capacity``: its places
    (0: not rationed)."""
    return AddFacility.model_validate(
        {"kind": "add_facility", "facility": facility, "location": lonlat(location, crs), "capacity": capacity,
         "name": name}
    )  # fmt: skip


def remove_facility(facility_id: str) -> RemoveFacility:
    """A facility of the twin that closes (its ``facility_id`` from ``twin.facilities()``)."""
    return RemoveFacility(kind="remove_facility", facility_id=facility_id)


def new_housing(area: GeometryLike, storeys: int, *, crs: Any = None, **options: Any) -> NewHousing:
    """A new quarter on ``area`` with ``storeys`` floors; ``options``: dwellings, site_coverage, dwelling_m2,
    occupancy, mix (``new_build`` or ``like:<level>:<code>``)."""
    return NewHousing.model_validate({"kind": "new_housing", "area": lonlat(area, crs), "storeys": storeys, **options})


def add_storeys(building_ids: Iterable[Any], storeys: int, **options: Any) -> AddStoreys:
    """Storeys on existing buildings (new dwellings, no new sealing); ``options``: dwelling_m2, occupancy, mix."""
    return AddStoreys.model_validate(
        {"kind": "add_storeys", "building_ids": _ids(building_ids), "storeys": storeys, **options}
    )


def infill(area: GeometryLike | None = None, *, crs: Any = None, **options: Any) -> Infill:
    """Nachverdichtung within ``area`` (None: the whole twin); ``options``: plan_layer, default_gfz, take_up,
    land_uses, dwelling_m2, occupancy, mix."""
    fields: dict[str, Any] = {"kind": "infill", **options}
    if area is not None:
        fields["area"] = lonlat(area, crs)
    return Infill.model_validate(fields)


def remove_buildings(building_ids: Iterable[Any]) -> RemoveBuildings:
    """Buildings demolished or no longer lived in (ids from ``twin.buildings()``)."""
    return RemoveBuildings(kind="remove_buildings", building_ids=_ids(building_ids))


def green_space(area: GeometryLike, *, name: str = "", crs: Any = None) -> GreenSpace:
    """A new park or green area."""
    return GreenSpace.model_validate({"kind": "green_space", "area": lonlat(area, crs), "name": name})


def hazard(
    area: GeometryLike | None = None,
    *,
    layer: str | None = None,
    hazard: Literal["flood", "heavy_rain", "heat", "other"] = "flood",
    name: str = "",
    crs: Any = None,
) -> Hazard:
    """An area exposed to a hazard: drawn (``area``) or a loaded layer's polygons (``layer``), not both."""
    fields: dict[str, Any] = {"kind": "hazard", "hazard": hazard, "name": name, "layer": layer}
    if area is not None:
        fields["area"] = lonlat(area, crs)
    return Hazard.model_validate(fields)


def flood(
    level_m: float,
    *,
    area: GeometryLike | None = None,
    source: GeometryLike | None = None,
    name: str = "",
    crs: Any = None,
) -> Flood:
    """A flood from the terrain up to ``level_m`` metres above NHN, from ``source`` (None: the lowest cell)."""
    fields: dict[str, Any] = {"kind": "flood", "level_m": level_m, "name": name}
    if area is not None:
        fields["area"] = lonlat(area, crs)
    if source is not None:
        fields["source"] = lonlat(source, crs)
    return Flood.model_validate(fields)


def flood_wall(line: GeometryLike, crest_m: float, *, name: str = "", crs: Any = None) -> FloodWall:
    """A protective wall along ``line`` with its crest at ``crest_m`` metres above NHN (needs a flood as well)."""
    return FloodWall.model_validate({"kind": "flood_wall", "line": lonlat(line, crs), "crest_m": crest_m, "name": name})


def projection(years: int) -> Projection:
    """Age the population by ``years`` (births, deaths, migration)."""
    return Projection(kind="projection", years=years)


def planned_building(footprint: GeometryLike, *, crs: Any = None, **options: Any) -> PlannedBuilding:
    """A planned building on a drawn footprint; ``options``: height_m or storeys, use, dwellings, dwelling_m2,
    occupancy, mix, name."""
    return PlannedBuilding.model_validate({"kind": "planned_building", "footprint": lonlat(footprint, crs), **options})


def add_road(line: GeometryLike, road_class: str, *, crs: Any = None, **options: Any) -> AddRoad:
    """A new road of an OSM ``highway`` class; ``options``: vehicles_per_day, speed_kmh, heavy_share, name."""
    return AddRoad.model_validate({"kind": "add_road", "line": lonlat(line, crs), "road_class": road_class, **options})


def close_road(
    road_ids: Iterable[Any] | None = None, *, area: GeometryLike | None = None, name: str = "", crs: Any = None
) -> CloseRoad:
    """Roads closed to motor traffic: by their ids, or all within ``area``."""
    fields: dict[str, Any] = {"kind": "close_road", "name": name}
    if road_ids is not None:
        fields["road_ids"] = _ids(road_ids)
    if area is not None:
        fields["area"] = lonlat(area, crs)
    return CloseRoad.model_validate(fields)


def landmark(
    location: GeometryLike,
    height_m: float,
    *,
    structure: Literal["tower", "wind_turbine", "other"] = "tower",
    name: str = "",
    crs: Any = None,
) -> Landmark:
    """A planned high point: who will see it."""
    return Landmark.model_validate(
        {"kind": "landmark", "location": lonlat(location, crs), "height_m": height_m, "structure": structure,
         "name": name}
    )  # fmt: skip


def noise_map(layer: str) -> NoiseMap:
    """A loaded raster noise map (levels in dB): residents in its bands."""
    return NoiseMap(kind="noise_map", layer=layer)


def scenario(
    name: str, measures: Sequence[Measure], *, description: str = "", visibility: Visibility = "public"
) -> ScenarioSpec:
    """A scenario of ``measures`` (``visibility``: the lowest role that sees it; council: the council's drafts)."""
    return ScenarioSpec(name=name, description=description, measures=list(measures), visibility=visibility)
