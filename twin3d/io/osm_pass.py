"""The machinery the OpenStreetMap readers share: one pyosmium pass, its areas and lines, and why objects are left out.

Both :mod:`twin3d.io.osm` (the twin's buildings, points of interest, greens and paths) and
:mod:`twin3d.io.osm_basemap` (the basemap's layers) read extracts the same way: libosmium caches node locations and
assembles areas (closed ways and multipolygon relations) in C++, geometries leave C++ as WKB that shapely parses in
bulk, and every object that cannot be built is listed with its reason (the ``SKIP_*`` constants) in a
:class:`~twin3d.io.surfaces.SkipLog`, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeGuard

import numpy as np
import osmium
import osmium.filter
import osmium.geom
import osmium.osm
import pyarrow as pa
import shapely
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.crs import reproject
from twin3d.io.surfaces import SkipLog

WGS84 = CRS.from_epsg(4326)

# --- why an object was left out (the reasons in the SkipLog) -----------------------------------------------------

SKIP_NODES_MISSING = "area could not be assembled (nodes missing at the extract edge)"
SKIP_RING_BROKEN = "area could not be assembled (ring self-intersecting or with fewer than three distinct nodes)"
SKIP_RELATION_INCOMPLETE = (
    "area could not be assembled (multipolygon members missing at the extract edge, or its rings do not close)"
)
SKIP_OPEN_WAY = "way is not closed, so it has no area"
SKIP_AREA_NO = "closed way tagged area=no, so it has no area"
SKIP_LINE_NODES_MISSING = "line could not be built (nodes missing at the extract edge)"
SKIP_LINE_DEGENERATE = "line could not be built (fewer than two distinct nodes)"
_AREA_RELATION_TYPES = frozenset({"multipolygon", "boundary"})


def check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", file=path, hint="check the path in the pipeline definition")
    if not path.is_file():
        raise InputError("not a file", file=path, hint="point the source at an .osm.pbf or .osm file")
    if path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", file=path, hint="download or export the extract again")


@contextmanager
def osmium_errors(path: Path) -> Iterator[None]:
    """Turn libosmium's reader errors (all ``RuntimeError``) into an :class:`InputError` naming the file."""
    try:
        yield
    except RuntimeError as exc:
        detail = str(exc)
        if "detect file format" in detail:
            raise InputError(
                "not an OpenStreetMap file name osmium knows",
                file=path,
                hint="name the file *.osm.pbf, *.osm, *.osm.gz or *.osm.bz2 after its content",
            ) from exc
        raise InputError(
            f"cannot be read as OpenStreetMap data: {detail}",
            file=path,
            hint="the file may be truncated or in another format; download or export the extract again",
        ) from exc


def way_line(factory: osmium.geom.WKBFactory, way: osmium.osm.Way) -> bytes | str:
    """A way as a WKB LineString, or the reason (a ``SKIP_LINE_*``) why it cannot be one.

    libosmium's line builder raises on a missing node location, except at the start of the way: there it skips
    the missing nodes silently (they compare equal to its unset "previous location") and returns a shortened
    line. Checking the first node as well makes the answer exact without a Python loop over the nodes.
    """
    if len(way.nodes) == 0:
        return SKIP_LINE_DEGENERATE
    first_known = way.nodes[0].location.valid()
    try:
        wkb = factory.create_linestring(way)
    except osmium.InvalidLocationError:
        return SKIP_LINE_NODES_MISSING
    except RuntimeError:  # geometry_error: fewer than two distinct locations
        return SKIP_LINE_DEGENERATE if first_known else SKIP_LINE_NODES_MISSING
    return bytes.fromhex(wkb) if first_known else SKIP_LINE_NODES_MISSING


def _way_failure(factory: osmium.geom.WKBFactory, way: osmium.osm.Way) -> str:
    """Why a closed way may give no area: nodes missing at the extract edge, or else a broken ring."""
    return SKIP_NODES_MISSING if way_line(factory, way) == SKIP_LINE_NODES_MISSING else SKIP_RING_BROKEN


class Rows:
    """Geometries (as WKB) and string columns collected object by object, turned into arrays at the end."""

    def __init__(self, fixed: Sequence[str], tags: Sequence[str]) -> None:
        self.fixed = tuple(fixed)
        self.tags = tuple(tags)
        self.wkb: list[bytes] = []
        self.columns: dict[str, list[str | None]] = {name: [] for name in (*self.fixed, *self.tags)}

    def add(self, wkb: bytes, tags: osmium.osm.TagList, *values: str) -> None:
        """One row: its geometry, the values of the ``fixed`` columns in order, and its tags."""
        self.wkb.append(wkb)
        for name, value in zip(self.fixed, values, strict=True):
            self.columns[name].append(value)
        for tag in self.tags:
            self.columns[tag].append(tags.get(tag))

    def geometries(self) -> np.ndarray:
        out = np.empty(len(self.wkb), dtype=object)
        out[:] = self.wkb
        return np.asarray(shapely.from_wkb(out), dtype=object)

    def attributes(self) -> pa.Table:
        return pa.table({name: pa.array(values, type=pa.string()) for name, values in self.columns.items()})


class AreaBook:
    """Which ways and relations should give an area, which did, and what was left out and why."""

    def __init__(self, path: Path, factory: osmium.geom.WKBFactory) -> None:
        self.path = path
        self.factory = factory
        self.log: list[tuple[str, str]] = []
        self.expected: dict[str, str] = {}  # osm id -> the reason to log if no area comes for it
        self.assembled: set[str] = set()

    def skip(self, osm_id: str, reason: str) -> None:
        self.log.append((osm_id, reason))

    def expect_way(self, way: osmium.osm.Way) -> None:
        osm_id = f"way/{way.id}"
        if not way.is_closed():
            self.skip(osm_id, SKIP_OPEN_WAY)
        elif way.tags.get("area") == "no":
            self.skip(osm_id, SKIP_AREA_NO)
        else:
            self.expected[osm_id] = _way_failure(self.factory, way)

    def expect_relation(self, relation: osmium.osm.Relation) -> None:
        self.expected[f"relation/{relation.id}"] = SKIP_RELATION_INCOMPLETE

    def polygon(self, area: osmium.osm.Area) -> tuple[str, bytes | None]:
        """The area's id and WKB MultiPolygon (``None``, logged, where libosmium cannot write it)."""
        osm_id = f"{'way' if area.from_way() else 'relation'}/{area.orig_id()}"
        self.assembled.add(osm_id)
        try:
            return osm_id, bytes.fromhex(self.factory.create_multipolygon(area))
        except (RuntimeError, osmium.InvalidLocationError):
            self.skip(osm_id, SKIP_RING_BROKEN)
            return osm_id, None

    def close(self, skipped: SkipLog | None) -> None:
        """Log the expected areas that never came, and hand everything to ``skipped``."""
        self.log.extend((osm_id, why) for osm_id, why in self.expected.items() if osm_id not in self.assembled)
        if skipped is not None:
            for osm_id, reason in self.log:
                skipped.add(self.path, osm_id, reason)


def is_area_relation(obj: object) -> TypeGuard[osmium.osm.Relation]:
    return isinstance(obj, osmium.osm.Relation) and obj.tags.get("type") in _AREA_RELATION_TYPES


def area_polygons(rows: Rows, target_crs: CRS) -> np.ndarray:
    """Assembled areas as (Multi)Polygons in ``target_crs``: single-part ones as Polygon, invalid ones repaired."""
    geoms = rows.geometries()
    single = shapely.get_num_geometries(geoms) == 1
    geoms[single] = shapely.get_geometry(geoms[single], 0)
    geoms = reproject(geoms, WGS84, target_crs)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        # libosmium rejects self-intersecting rings, but rings touching in a point or reprojection rounding can
        # still make an OGC-invalid polygon; "structure" keeps it polygonal.
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    return geoms


def way_lines(
    path: Path,
    target_crs: CRS,
    rows: Rows,
    tag_filter: osmium.filter.KeyFilter | osmium.filter.TagFilter,
    skip: Callable[[osmium.osm.TagList], str | None],
    *,
    skipped: SkipLog | None,
) -> tuple[np.ndarray, pa.Table]:
    """One pass over the ways that pass ``tag_filter``: each as a LineString (``target_crs``) with its tags in
    ``rows``, in file order. ``skip(tags)`` decides per way: None keeps it, ``""`` leaves it out without a record,
    any other text is the reason it is left out and listed in ``skipped``; so are ways :func:`way_line` cannot
    build (nodes missing at the extract's edge, fewer than two distinct nodes).

    Returns:
        The lines and the attribute table of the ways kept.

    Raises:
        InputError: the file is missing, empty, truncated or not OSM data.
    """
    check_readable(path)
    factory = osmium.geom.WKBFactory()
    log: list[tuple[str, str]] = []
    processor = (
        osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(tag_filter)
    )
    with osmium_errors(path):
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way):
                continue
            reason = skip(obj.tags)
            line = way_line(factory, obj) if reason is None else reason
            if isinstance(line, str):
                if line:
                    log.append((f"way/{obj.id}", line))
            else:
                rows.add(line, obj.tags, f"way/{obj.id}")
    if skipped is not None:
        for osm_id, why in log:
            skipped.add(path, osm_id, why)
    return reproject(rows.geometries(), WGS84, target_crs), rows.attributes()
