"""Nachverdichtung (infill potential): the floor area a parcel may still gain under its Bebauungsplan, and how much
of it storeys on the existing buildings can take **without new sealing**.

Per parcel (cadastre, :mod:`twin3d.pipeline.cadastre`; built-up land only unless other land uses are named):

- allowed floor area = parcel area x GFZ, the GFZ of the loaded plan's area covering at least half of the parcel
  (:mod:`twin3d.layers.xplan`; a GFZ the plan gives, or GRZ x Z where it gives those), else the measure's default;
- unused = max(0, allowed - floor area today);
- realisable without sealing = the unused floor area on parcels that have buildings already, at most what the
  plan's storeys allow on their footprints (built area x Z - floor area, where a plan area gives Z); parcels
  without buildings would need new sealing: they are reported apart and add no homes;
- realised = realisable x ``take_up`` (the share built within the horizon); dwellings = realised x
  :data:`~twin3d.simulation.housing.NET_SHARE` / ``dwelling_m2``.

Parcels are cadastre data, not persons: they may be listed, the :data:`MAX_LISTED` with the most unused floor area,
with their outlines for the map. The newcomers are added by the engine through the privacy gate like every housing
measure's (:meth:`~twin3d.population.privacy.PublishedUnits.with_new_housing`); this module never sees a household.

Example:
    >>> outcome = infill_potential(Parcels.from_store(con), measure, area=None, plan=None)  # doctest: +SKIP
    >>> outcome.summary["dwellings"]  # doctest: +SKIP
    42
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow.parquet as pq
import shapely

from twin3d.errors import NotFoundError, StoreError
from twin3d.io.alkis import SEALED_LAND_USE
from twin3d.layers.catalogue import get_layer, layer_file
from twin3d.layers.model import visible_to
from twin3d.settings import PathSettings
from twin3d.simulation.housing import NET_SHARE
from twin3d.simulation.scenario import Infill

MAX_LISTED = 2_000
"""Parcels listed in a result (those with the most unused floor area): a bound on the result's size."""
COVER_SHARE = 0.5
"""A plan area sets a parcel's limit where it covers at least this share of the parcel."""
OUTLINE_DEGREES = 1e-6
"""Listed outlines are rounded to this grid in lon/lat (about 0.1 m)."""


@dataclass(frozen=True)
class Parcels:
    """A built twin's parcels as infill uses them: figures from the build, points and outlines.

    Attributes:
        x, y: where newcomers' homes go: a point on the largest building on the parcel, else on the parcel.
        px, py: a point inside the parcel (for the measure's area).
        land_use: the land-use class covering most of the parcel, "" where none is known.
        geometry: outlines in the twin's CRS; ``wgs84``: the same as lon/lat WKB, parsed for listed parcels only.
    """

    ids: np.ndarray
    labels: np.ndarray
    area_m2: np.ndarray
    built_m2: np.ndarray
    floor_area_m2: np.ndarray
    buildings: np.ndarray
    land_use: np.ndarray
    x: np.ndarray
    y: np.ndarray
    px: np.ndarray
    py: np.ndarray
    geometry: np.ndarray
    wgs84: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def empty(cls) -> Parcels:
        """No parcels (a twin built without a cadastre)."""
        f, o = np.zeros(0), np.zeros(0, dtype=object)
        return cls(
            ids=o, labels=o, area_m2=f, built_m2=f, floor_area_m2=f, buildings=np.zeros(0, np.int64),
            land_use=np.zeros(0, dtype=str),
            x=f, y=f, px=f, py=f, geometry=o, wgs84=o,
        )  # fmt: skip

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection) -> Parcels:
        """Every parcel of a built twin (none where the store predates the cadastre tables)."""
        try:
            t = con.execute(
                """
                WITH main AS (
                    SELECT parcel_id, arg_max(building_id, area_m2) AS building_id FROM building_parcels
                    GROUP BY parcel_id
                ), home AS (
                    SELECT p.*, ST_PointOnSurface(coalesce(b.geom, p.geom)) AS home,
                           ST_PointOnSurface(p.geom) AS inner_point
                    FROM parcels AS p LEFT JOIN main AS m USING (parcel_id)
                    LEFT JOIN buildings AS b ON b.building_id = m.building_id
                )
                SELECT parcel_id, label, area_m2, built_m2, floor_area_m2, buildings, land_use,
                       ST_X(home) AS x, ST_Y(home) AS y, ST_X(inner_point) AS px, ST_Y(inner_point) AS py,
                       ST_AsWKB(geom) AS wkb, ST_AsWKB(geom_wgs84) AS wkb84
                FROM home ORDER BY parcel_id
                """
            ).to_arrow_table()
        except duckdb.CatalogException:
            return cls.empty()

        def col(name: str, dtype: Any = np.float64) -> np.ndarray:
            return np.asarray(t[name].to_numpy(zero_copy_only=False)).astype(dtype)

        return cls(
            col("parcel_id", object),
            col("label", object),
            col("area_m2"),
            col("built_m2"),
            col("floor_area_m2"),
            col("buildings", np.int64),
            np.asarray(t["land_use"].fill_null("").to_numpy(zero_copy_only=False)).astype(str),
            col("x"),
            col("y"),
            col("px"),
            col("py"),
            shapely.from_wkb(col("wkb", object)),
            col("wkb84", object),
        )


@dataclass(frozen=True)
class PlanAreas:
    """The areas of a loaded plan layer that set a GFZ or a number of storeys, in the twin's CRS."""

    layer: dict[str, Any]
    geometry: np.ndarray
    gfz: np.ndarray
    z: np.ndarray
    estimated: np.ndarray  # bool: the GFZ is GRZ x Z
    feature: np.ndarray  # the plan's object id (gml:id)

    @classmethod
    def from_file(cls, path: Path, layer: dict[str, Any]) -> PlanAreas:
        """Read a plan layer's ``features.parquet`` (see :mod:`twin3d.layers.xplan`)."""
        t = pq.read_table(path, columns=["geometry", "gfz", "z", "gfz_source", "source_feature"])
        gfz = np.asarray(t["gfz"].to_numpy(zero_copy_only=False), np.float64)
        z = np.asarray(t["z"].to_numpy(zero_copy_only=False), np.float64)
        keep = np.isfinite(gfz) | np.isfinite(z)
        source = np.asarray(t["gfz_source"].to_numpy(zero_copy_only=False), object)
        return cls(
            layer,
            shapely.from_wkb(np.asarray(t["geometry"].to_numpy(zero_copy_only=False), object)[keep]),
            gfz[keep],
            z[keep],
            (source == "grz_x_z")[keep],
            np.asarray(t["source_feature"].to_numpy(zero_copy_only=False), object)[keep],
        )


@dataclass(frozen=True)
class LayerSource:
    """Where a twin's loaded layers are: ``<store_dir>/layers/<twin>/`` beside its store (see
    :attr:`twin3d.settings.PathSettings.layers_dir`). Plans are read when a scenario runs, not with the baseline,
    so that a plan loaded while the server runs counts at once."""

    paths: PathSettings
    twin: str

    @classmethod
    def of_store(cls, con: duckdb.DuckDBPyConnection) -> LayerSource | None:
        """The layers beside the store ``con`` has open (None for an in-memory store)."""
        try:
            row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
            name = con.execute("SELECT value->>'name' FROM twin_meta WHERE key = 'twin'").fetchone()
        except duckdb.Error:
            return None
        if not row or not row[0] or not name or not name[0]:
            return None
        return cls(PathSettings(store_dir=Path(row[0]).parent), str(name[0]))

    def plan(self, layer_id: str, visibility: str) -> tuple[PlanAreas | None, str | None]:
        """The plan layer ``layer_id`` if a scenario of ``visibility`` may use it, else None and why (a code):
        ``plan_layer_missing``, ``plan_layer_not_a_plan`` (not XPlanGML), ``plan_layer_hidden`` (the layer is for a
        narrower audience than the scenario, whose results would show its limits)."""
        try:
            entry = get_layer(self.paths, self.twin, layer_id)
            path = layer_file(self.paths, entry, "features")
        except (NotFoundError, StoreError):
            return None, "plan_layer_missing"
        if entry.format != "xplangml":
            return None, "plan_layer_not_a_plan"
        if not visible_to(entry.visibility, visibility):
            return None, "plan_layer_hidden"
        described = {
            "id": entry.id,
            "title": entry.title,
            "source": entry.source,
            "source_sha256": entry.source_sha256,
            "updated_at": entry.updated_at.isoformat(),
        }
        return PlanAreas.from_file(path, described), None


def best_cover(geometry: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Per geometry, the index of the area that covers most of it where that is at least :data:`COVER_SHARE` of
    it, else -1."""
    out = np.full(len(geometry), -1, np.int64)
    if not len(geometry) or not len(areas):
        return out
    parcel, area = shapely.STRtree(areas).query(geometry, predicate="intersects")
    if not len(parcel):
        return out
    shared = shapely.area(shapely.intersection(geometry[parcel], areas[area]))
    cover = shared / np.maximum(shapely.area(geometry[parcel]), 1e-9)
    order = np.lexsort((-shared, parcel))  # per parcel, the largest overlap first
    first = order[np.r_[True, parcel[order][1:] != parcel[order][:-1]]]
    hit = first[cover[first] >= COVER_SHARE]
    out[parcel[hit]] = area[hit]
    return out


@dataclass
class InfillOutcome:
    """Where the realised floor area goes (home points and their floor area) and the measure's result."""

    x: np.ndarray
    y: np.ndarray
    floor_m2: np.ndarray
    dwellings: int
    summary: dict[str, Any] = field(default_factory=dict)


def _outlines(wkb: np.ndarray) -> list[dict[str, Any] | None]:
    """GeoJSON geometries (lon/lat, on a 0.1 m grid, simplified to it) of the listed parcels."""
    if not len(wkb):
        return []
    # Vertices closer than the grid to the line through their neighbours add bytes, not shape: dropped.
    geoms = shapely.set_precision(shapely.simplify(shapely.from_wkb(wkb), OUTLINE_DEGREES), OUTLINE_DEGREES)
    return [json.loads(text) if text else None for text in shapely.to_geojson(geoms)]


def infill_potential(
    parcels: Parcels,
    m: Infill,
    *,
    area: shapely.Geometry | None,
    plan: PlanAreas | None,
    notes: list[dict[str, Any]] | None = None,
) -> InfillOutcome:
    """The measure's infill potential per parcel, its totals and its listed parcels (see the module docstring).

    Args:
        parcels: the twin's parcels.
        m: the measure.
        area: the measure's area in the twin's CRS (None: the whole twin); a parcel counts where its inner point
            lies in it.
        plan: the plan layer's areas, or None (the default GFZ everywhere).
        notes: what the caller found (e.g. a plan layer it could not use), passed on into the result.
    """
    uses = np.asarray(sorted(m.land_uses if m.land_uses is not None else SEALED_LAND_USE), dtype=str)
    unknown = parcels.land_use == ""
    counted = np.isin(parcels.land_use, uses) | (unknown & (parcels.buildings > 0))
    inside = np.ones(len(parcels), bool) if area is None else shapely.contains_xy(area, parcels.px, parcels.py)
    idx = np.flatnonzero(counted & inside & (parcels.area_m2 > 0))
    geometry = parcels.geometry[idx]
    gfz_plan, z_plan = np.full(len(idx), np.nan), np.full(len(idx), np.nan)
    estimated = np.zeros(len(idx), bool)
    if plan is not None:
        with_gfz, with_z = np.isfinite(plan.gfz), np.isfinite(plan.z)
        which = best_cover(geometry, plan.geometry[with_gfz])
        hit = which >= 0
        gfz_plan[hit] = plan.gfz[with_gfz][which[hit]]
        estimated[hit] = plan.estimated[with_gfz][which[hit]]
        which = best_cover(geometry, plan.geometry[with_z])
        z_plan[which >= 0] = plan.z[with_z][which[which >= 0]]
    from_plan = np.isfinite(gfz_plan)
    gfz = np.where(from_plan, gfz_plan, m.default_gfz)
    area_m2, floor = parcels.area_m2[idx], parcels.floor_area_m2[idx]
    unused = np.maximum(area_m2 * gfz - floor, 0.0)
    built = parcels.buildings[idx] > 0
    storeys_cap = np.where(np.isfinite(z_plan), np.maximum(parcels.built_m2[idx] * z_plan - floor, 0.0), np.inf)
    realisable = np.where(built, np.minimum(unused, storeys_cap), 0.0)
    sealing = ~built & (unused > 0)
    realised = realisable * m.take_up
    dwellings = round(float(realised.sum()) * NET_SHARE / m.dwelling_m2)
    homes = realised > 0
    limit = np.where(from_plan, np.where(estimated, "plan_grz_x_z", "plan"), "default")
    listed = np.flatnonzero(unused > 0)
    listed = listed[np.argsort(-unused[listed], kind="stable")][:MAX_LISTED]
    outlines = _outlines(parcels.wgs84[idx[listed]])
    rows = [
        {
            "parcel_id": str(parcels.ids[idx[k]]),
            "label": str(parcels.labels[idx[k]]),
            "gfz_now": round(float(floor[k] / area_m2[k]), 2),
            "gfz_allowed": round(float(gfz[k]), 2),
            "limit": str(limit[k]),
            "storeys_max": None if not np.isfinite(z_plan[k]) else int(z_plan[k]),
            "unused_m2": round(float(unused[k])),
            "realisable_m2": round(float(realisable[k])),
            "needs_sealing": bool(sealing[k]),
            "outline": outline,
        }
        for k, outline in zip(listed, outlines, strict=True)
    ]
    summary = {
        "plan_layer": plan.layer if plan is not None else None,
        "default_gfz": m.default_gfz,
        "take_up": m.take_up,
        "land_uses": [str(u) for u in uses],
        "parcels_considered": len(idx),
        "parcels_with_plan": int(from_plan.sum()),
        "parcels_default": int((~from_plan).sum()),
        "parcels_with_buildings": int(built.sum()),
        "unused_m2": round(float(unused.sum())),
        "realisable_m2": round(float(realisable.sum())),
        "capped_by_storeys": int((built & (storeys_cap < unused)).sum()),
        "realised_m2": round(float(realised.sum())),
        "dwellings": dwellings,
        "needs_sealing": {
            "parcels": int(sealing.sum()),
            "unused_m2": round(float(unused[sealing].sum())),
            "area_m2": round(float(area_m2[sealing].sum())),
        },
        "listed": len(rows),
        "listed_max": MAX_LISTED,
        "parcels": rows,
        "notes": list(notes or []) + ([] if len(parcels) else [{"code": "no_parcels"}]),
    }
    return InfillOutcome(parcels.x[idx[homes]], parcels.y[idx[homes]], realised[homes], dwellings, summary)
