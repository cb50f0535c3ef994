"""CityGML 1.0, 2.0 and 3.0 buildings as flat arrays of 3D polygons, read as a stream.

A file of up to 64 MiB (an NRW or Bavarian 1-2 km tile) is parsed whole, its tree about 3-4 times the file; a
larger one is parsed with ``lxml.etree.iterparse``: buildings are read a batch at a time when their end tags have
arrived and are then dropped from the tree, so memory stays flat however large the file is. Both give the same
buildings in the same order. Buildings come out in :class:`~twin3d.io.surfaces.Buildings3D` chunks.

What is read:

* one record per top-level ``bldg:Building``; the polygons of its ``bldg:BuildingPart`` children (at any depth)
  belong to that record, as in the CityJSON reader;
* per building and part, LoD2 geometry when it has any, else LoD1 (``lod`` holds the LoD used, the lowest one
  where parts differ); LoD0, LoD3 and LoD4 geometry is not read. Building installations count with the LoD of
  their own geometry (``lod2Geometry``); a building without LoD1/LoD2 geometry is kept without polygons;
* attributes: the building's own, else those of its parts (measured height and storeys: the largest of the parts;
  CityGML 3.0 ``con:height`` stands in for ``bldg:measuredHeight``);
* boundary surfaces (``bldg:boundedBy`` in 1.0/2.0, ``core:boundary`` in 3.0) give each polygon its
  :class:`~twin3d.io.surfaces.SurfaceKind`; polygons of ``lodNSolid`` / ``lodNMultiSurface`` without one are
  ``SOLID``;
* ``xlink:href`` references to geometry are never followed as geometry, so each ``gml:Polygon`` element counts
  once. A reference from a boundary surface to a polygon of the solid only lends that polygon its kind. Where a
  building or part holds real polygons in its boundary surfaces, unlabelled polygons of the same LoD that no
  boundary surface references are taken for copies and left out;
* x, y are reprojected to the target CRS; z stays in the file's height system (the tiler adds the geoid).
  Coordinates are read easting first, except in geographic CRSs whose axis order is latitude first
  (``urn:ogc:def:crs:EPSG::4326``, as GML prescribes); each ``srsName`` met is honoured, polygon by polygon;
* textures and materials are not read: the surfaces that had one are counted per file in the ``skipped`` log.

How: buildings written the common way (boundary surfaces of ``gml:Polygon``s with ``gml:posList`` rings) are read
by :mod:`twin3d.io.citygml_plain`, whose numbers are parsed a batch at a time; every other building by the general
reader of :mod:`twin3d.io.citygml_geometry`, which gives the same result or the error with its reason.

Example:
    >>> from pyproj import CRS
    >>> for chunk in iter_citygml_buildings(Path("LoD2_32_328_5730_1_NW.gml"), CRS.from_epsg(25832)):
    ...     print(len(chunk), chunk.polygon_count)  # doctest: +SKIP
    91 872
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from pyproj import CRS

from twin3d.errors import CRSError, InputError
from twin3d.io.citygml_appearance import add_targets
from twin3d.io.citygml_attributes import building_attributes
from twin3d.io.citygml_geometry import Record, read_building
from twin3d.io.citygml_plain import Rings, Walked, parse_rings, polygon_count, profile, tally, walk
from twin3d.io.citygml_tags import (
    BUILDING_TAGS,
    CITYGML,
    PART_TAGS,
    SURFACE_DATA_TAGS,
    Invalid,
    envelope_srs,
    gml_id,
)
from twin3d.io.crs import parse_crs, transform_points
from twin3d.io.surfaces import ATTRIBUTE_SCHEMA, Buildings3D, SkipLog, concat

_SKIP_HINT = "repair the building in the source, or run with --skip-invalid to leave broken buildings out"
_SURFACE_DATA = frozenset(SURFACE_DATA_TAGS)
# Buildings read together while a file streams: one number parse per batch; the tree holds at most this many.
_BATCH = 256
# A file up to this size is parsed whole (its tree takes about 3-4 times the file), which is a fifth cheaper than
# streaming it; a larger one streams.
_WHOLE_FILE_BYTES = 64 << 20


def _latitude_first(crs: CRS) -> bool:
    """Whether coordinates in ``crs`` are written latitude first (GML follows the CRS's axis order).

    Only geographic CRSs are turned around: German projected data (UTM, and Gauss-Krüger, whose EPSG axis order is
    northing first) is written easting first in practice.
    """
    axes = crs.axis_info
    return bool(crs.is_geographic and axes and axes[0].direction.lower() == "north")


class _Chunk:
    """Buildings collected for the next Buildings3D, as blocks of arrays in building order."""

    def __init__(self) -> None:
        self.vertices: list[np.ndarray] = []
        self.ring_sizes: list[np.ndarray] = []
        self.ring_counts: list[int] = []
        self.kinds: list[int] = []
        self.srs: list[int] = []
        self.polygon_counts: list[int] = []
        self.rows: dict[str, list[Any]] = {f.name: [] for f in ATTRIBUTE_SCHEMA}

    def __len__(self) -> int:
        return len(self.polygon_counts)

    def _row(self, attributes: dict[str, Any], polygons: int) -> None:
        self.polygon_counts.append(polygons)
        for name, values in self.rows.items():
            values.append(attributes[name])

    def add(self, record: Record) -> None:
        if record.vertices is not None:
            self.vertices.append(record.vertices)
        self.ring_sizes.append(np.asarray(record.ring_sizes, dtype=np.int64))
        self.ring_counts += record.ring_counts
        self.kinds += record.kinds
        self.srs += record.srs
        self._row(record.attributes, len(record.kinds))

    def add_plain(self, attributes: dict[str, Any], walked: Walked, srs: list[int], rings: Rings, ring: int) -> None:
        """A building of the fast path whose rings start at index ``ring`` of the batch's ``rings``."""
        end = ring + len(walked.texts)
        self.ring_sizes.append(rings.sizes[ring:end])
        self.vertices.append(rings.vertices[rings.starts[ring] : rings.starts[end]])
        self.ring_counts += walked.ring_counts
        self.kinds += walked.kinds
        self.srs += srs
        self._row(attributes, len(walked.kinds))

    def build(self, path: Path, source_crs: CRS, crs_list: list[CRS], target_crs: CRS) -> Buildings3D:
        ring_sizes = np.concatenate(self.ring_sizes) if self.ring_sizes else np.zeros(0, np.int64)
        ring_counts = np.asarray(self.ring_counts, dtype=np.int64)
        vertices = np.concatenate(self.vertices) if self.vertices else np.zeros((0, 3))
        polygon_srs = np.asarray(self.srs, dtype=np.int64)
        used = np.unique(polygon_srs)
        vertex_srs = np.repeat(np.repeat(polygon_srs, ring_counts), ring_sizes) if len(used) > 1 else None
        for index in used:
            crs = crs_list[int(index)]
            rows = slice(None) if vertex_srs is None else vertex_srs == index
            x, y = vertices[rows, 0], vertices[rows, 1]
            if _latitude_first(crs):
                x, y = y, x
            vertices[rows, 0], vertices[rows, 1] = transform_points(x, y, crs, target_crs)

        def offsets(counts: np.ndarray) -> np.ndarray:
            out = np.zeros(len(counts) + 1, dtype=np.int64)
            np.cumsum(counts, out=out[1:])
            return out

        return Buildings3D(
            path=path,
            source_crs=source_crs,
            vertices=vertices,
            ring_offsets=offsets(ring_sizes),
            polygon_rings=offsets(ring_counts),
            polygon_kind=np.asarray(self.kinds, dtype=np.uint8),
            building_polygons=offsets(np.asarray(self.polygon_counts, dtype=np.int64)),
            attributes=pa.table(self.rows, schema=ATTRIBUTE_SCHEMA),
        )


def _release(element: Any) -> None:
    """Free a processed building and everything before it, so the tree does not grow with the file."""
    element.clear(keep_tail=True)
    node = element
    while (parent := node.getparent()) is not None:
        while node.getprevious() is not None:
            del parent[0]
        node = parent


def _inside(element: Any, ancestor: Any) -> bool:
    return any(node is ancestor for node in element.iterancestors())


def _tally_between(root: Any, first: Any, last: Any) -> tuple[int, int]:
    """Polygons and BuildingParts in the tree from ``first`` to ``last`` (buildings in file order): the tree less what
    lies before the first one and what was parsed after the last one."""
    polygons, parts = tally(root)
    for edge, preceding in ((first, True), (last, False)):
        node = edge
        while (parent := node.getparent()) is not None:
            for other in node.itersiblings(preceding=preceding):
                less = tally(other)
                polygons, parts = polygons - less[0], parts - less[1]
            node = parent
    return polygons, parts


class _Reader:
    """State of one pass over a file: CRSs met so far, the file's own srsName, the buildings waiting to be read."""

    def __init__(
        self, path: Path, target_crs: CRS, declared_crs: str | None, skip_invalid: bool, skipped: SkipLog | None
    ) -> None:
        self.path = Path(path)
        self.target_crs = target_crs
        self.skip_invalid = skip_invalid
        self.skipped = skipped if skipped is not None else SkipLog()
        self.crs_list: list[CRS] = []
        self.srs_index: dict[str, int] = {}
        self.declared = declared_crs is not None
        if declared_crs is not None:
            self.crs_list.append(parse_crs(declared_crs, file=self.path))
        self.file_srs: str | None = None
        self.last_id: str | None = None
        self.count = 0
        self.pending: list[tuple[Any, str]] = []
        self.chunk = _Chunk()
        self.textured: set[str] = set()

    def check_file(self) -> None:
        if not self.path.is_file():
            raise InputError("file not found", file=self.path, hint="check the path in the pipeline definition")
        if self.path.stat().st_size == 0:
            raise InputError("file is empty (0 bytes)", file=self.path, hint="download or export the file again")

    def source_crs(self) -> CRS:
        if self.crs_list:
            return self.crs_list[0]
        if self.file_srs is not None:
            return parse_crs(self.file_srs, file=self.path)
        return self.target_crs

    def srs(self, name: str | None) -> int:
        """Index into ``crs_list`` of the CRS called ``name`` (the file's when None)."""
        if self.declared:
            return 0
        name = name or self.file_srs
        if name is None:
            raise CRSError(
                "no srsName on the geometry, its building or the file's gml:Envelope",
                file=self.path,
                hint='declare the CRS with crs = "EPSG:...." for this source in the pipeline definition',
            )
        index = self.srs_index.get(name)
        if index is None:
            self.crs_list.append(parse_crs(name, file=self.path))
            index = self.srs_index[name] = len(self.crs_list) - 1
        return index

    def _plain_record(
        self, element: Any, building_id: str, walked: Walked, *, parts: bool, rings: Rings, ring: int
    ) -> None:
        """A building of the fast path (``parts``: whether its walk went through all its BuildingParts)."""
        all_parts = walked.parts if parts else list(element.iter(*PART_TAGS))
        attributes = building_attributes(element, all_parts, building_id)
        attributes["lod"] = 2.0 if walked.kinds else None
        srs = [self.srs(name) for name in walked.srs_names]
        self.chunk.add_plain(attributes, walked, srs, rings, ring)

    def _walks(self, root: Any) -> tuple[list[Walked | None], bool]:
        """The fast-path walk of each waiting building (None: the general reader must read it), and whether the walks
        went through every BuildingPart."""
        plans = [profile(element.tag) for element, _ in self.pending]
        walks = [walk(element, plan) if plan else None for (element, _), plan in zip(self.pending, plans, strict=True)]
        # Polygons the walks did not see (another LoD, a solid, a nested part): compare counts, batch first.
        polygons, parts = _tally_between(root, self.pending[0][0], self.pending[-1][0])
        walked = [w for w in walks if w is not None]
        if len(walked) < len(walks) or polygons != sum(len(w.kinds) for w in walked):
            walks = [
                w if w is not None and len(w.kinds) == polygon_count(element) else None
                for (element, _), w in zip(self.pending, walks, strict=True)
            ]
        return walks, len(walked) == len(walks) and parts == sum(len(w.parts) for w in walked)

    def flush(self, root: Any, chunk_size: int, *, release: bool = True) -> Iterator[Buildings3D]:
        """Read the waiting buildings in file order, yielding full chunks; then drop them from the tree."""
        if not self.pending:
            return
        walks, parts = self._walks(root)
        pending, self.pending = self.pending, []
        texts = [text for w in walks if w for text in w.texts]
        rings = parse_rings(texts) if texts else None
        if rings is None and texts:  # a number that does not parse: find the buildings, read those generally
            walks = [w if w and (not w.texts or parse_rings(w.texts)) else None for w in walks]
            texts = [text for w in walks if w for text in w.texts]
            rings = parse_rings(texts) if texts else None
        ring = 0
        for (element, building_id), walked in zip(pending, walks, strict=True):
            try:
                if walked is not None and (rings is None or rings.ok[ring : ring + len(walked.texts)].all()):
                    self._plain_record(element, building_id, walked, parts=parts, rings=rings, ring=ring)  # type: ignore[arg-type]
                else:
                    self.chunk.add(read_building(element, building_id, self.srs, self.declared))
            except Invalid as exc:
                if not self.skip_invalid:
                    raise InputError(str(exc), file=self.path, record=building_id, hint=_SKIP_HINT) from None
                self.skipped.add(self.path, building_id, str(exc))
            finally:
                ring += len(walked.texts) if walked is not None else 0
            if len(self.chunk) >= chunk_size:
                yield self.chunk.build(self.path, self.source_crs(), self.crs_list, self.target_crs)
                self.chunk = _Chunk()
        if release:
            last = pending[-1][0]
            del pending, walks, element
            _release(last)

    def _whole(self) -> tuple[Any, list[Any]] | None:
        """The file's tree and buildings, or None where it must stream: too large, not well-formed (streaming reads
        the buildings before the break and reports it), or buildings inside other elements than a member."""
        if self.path.stat().st_size > _WHOLE_FILE_BYTES:
            return None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
        try:
            root = etree.parse(str(self.path), parser).getroot()
        except etree.XMLSyntaxError:
            return None
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc}", file=self.path) from exc
        buildings = list(root.iter(*BUILDING_TAGS))
        if any(b.getparent().getparent() is not root for b in buildings):
            return None
        return root, buildings

    def _read_whole(self, root: Any, buildings: list[Any], chunk_size: int) -> Iterator[Buildings3D]:
        """Read a tree parsed whole: the same buildings, in the same order, as streaming it."""
        self.file_srs = envelope_srs(root) or root.get("srsName")
        for surface_data in root.iter(*SURFACE_DATA_TAGS):
            add_targets(surface_data, self.textured, free=False)
        name = self.path.name
        self.pending = [(b, gml_id(b) or f"{name}#{i}") for i, b in enumerate(buildings)]
        self.count = len(buildings)
        yield from self.flush(root, chunk_size, release=False)

    def chunks(self, chunk_size: int) -> Iterator[Buildings3D]:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
        self.check_file()
        whole = self._whole()
        if whole is not None:
            root = whole[0]
            yield from self._read_whole(*whole, chunk_size)
        else:
            root = yield from self._stream(chunk_size)
        if self.count == 0:
            self.file_srs = envelope_srs(root) or root.get("srsName")
            if not str(root.tag).startswith("{" + CITYGML):
                raise InputError(
                    f"not a CityGML file: no bldg:Building and the root element is {root.tag}",
                    file=self.path,
                    hint="give the LoD1/LoD2 CityGML file of the area",
                )
        self.skipped.add_textured(self.path, len(self.textured))
        if len(self.chunk):
            yield self.chunk.build(self.path, self.source_crs(), self.crs_list, self.target_crs)
            self.chunk = _Chunk()

    def _stream(self, chunk_size: int) -> Generator[Buildings3D, None, Any]:
        """Read the file as it is parsed, a batch of buildings at a time; return the root element."""
        # remove_blank_text: no text nodes for the indentation between elements (faster; every text read is
        # stripped, so nothing read changes).
        events = etree.iterparse(
            str(self.path),
            events=("end",),
            tag=BUILDING_TAGS + SURFACE_DATA_TAGS,
            resolve_entities=False,
            no_network=True,
            remove_blank_text=True,
        )
        batch = min(_BATCH, chunk_size)
        try:
            for _event, element in events:
                if element.tag in _SURFACE_DATA:
                    add_targets(element, self.textured)
                    continue
                if self.count == 0:
                    root = element.getroottree().getroot()
                    self.file_srs = envelope_srs(root) or root.get("srsName")
                # A building inside the one before (not valid CityGML) sees that one read and dropped first.
                if self.pending and _inside(self.pending[-1][0], element):
                    yield from self.flush(root, chunk_size)
                building_id = gml_id(element) or f"{self.path.name}#{self.count}"
                self.count += 1
                self.pending.append((element, building_id))
                self.last_id = building_id
                if len(self.pending) >= batch:
                    yield from self.flush(root, chunk_size)
        except etree.XMLSyntaxError as exc:
            # The buildings before the break are read first: a broken one among them is the error to report.
            if self.pending:
                yield from self.flush(self.pending[0][0].getroottree().getroot(), chunk_size)
            last = f"the last complete building is {self.last_id}" if self.last_id else "no building is complete"
            raise InputError(
                f"broken XML at line {exc.lineno} ({last}): {exc.msg}",
                file=self.path,
                hint="the file is truncated or not well-formed; download or export it again",
            ) from exc
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc}", file=self.path) from exc
        if self.pending:
            yield from self.flush(root, chunk_size)
        return events.root

    def empty(self) -> Buildings3D:
        return _Chunk().build(self.path, self.source_crs(), self.crs_list, self.target_crs)


def iter_citygml_buildings(
    path: Path,
    target_crs: CRS,
    *,
    declared_crs: str | None = None,
    chunk_size: int = 5000,
    skip_invalid: bool = False,
    skipped: SkipLog | None = None,
) -> Iterator[Buildings3D]:
    """Stream the buildings of a CityGML 1.0, 2.0 or 3.0 file as chunks of 3D polygons.

    Args:
        path: the ``.gml`` / ``.xml`` file.
        target_crs: the twin's projected CRS; x and y are reprojected to it, z is kept as written.
        declared_crs: a CRS that overrides every ``srsName`` in the file (for files without one or a wrong one).
        chunk_size: the most buildings per chunk.
        skip_invalid: leave out buildings with broken geometry or attributes instead of raising.
        skipped: where left-out buildings are recorded (file, building id, reason), and per file the number of
            surfaces whose texture or material was left out.

    Yields:
        :class:`Buildings3D` chunks of at most ``chunk_size`` buildings, in file order.

    Raises:
        InputError: the file is missing, empty, not well-formed XML (truncated), not CityGML, or (unless
            ``skip_invalid``) a building has a ring with fewer than 3 distinct points, coordinates that do not
            fit ``srsDimension``, or a non-numeric height.
        CRSError: an ``srsName`` is unknown, or missing everywhere and no ``declared_crs`` was given.
    """
    reader = _Reader(path, target_crs, declared_crs, skip_invalid, skipped)
    yield from reader.chunks(chunk_size)


def read_citygml_buildings(
    path: Path,
    target_crs: CRS,
    *,
    declared_crs: str | None = None,
    chunk_size: int = 5000,
    skip_invalid: bool = False,
    skipped: SkipLog | None = None,
) -> Buildings3D:
    """Read all buildings of a CityGML file into one :class:`Buildings3D` (see :func:`iter_citygml_buildings`).

    Returns:
        All buildings in file order; an empty :class:`Buildings3D` when the file has none.

    Raises:
        InputError: as :func:`iter_citygml_buildings`.
        CRSError: as :func:`iter_citygml_buildings`.
    """
    reader = _Reader(path, target_crs, declared_crs, skip_invalid, skipped)
    chunks = list(reader.chunks(chunk_size))
    return concat(chunks) if chunks else reader.empty()
