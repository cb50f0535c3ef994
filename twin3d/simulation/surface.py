"""The top of the world as a raster: the ground plus every building, for sun rays, noise screening and sightlines.

:class:`Obstacles` are the twin's buildings as prisms (a footprint standing on its ground height ``base_m``, raised
by ``height_m``), with the changes a scenario makes (planned buildings added, buildings removed, storeys added).
:class:`Surface` rasterises them onto the terrain at ``cell_m``: per cell the highest top (ground or roof, metres
above NHN), the ground, and the obstacle standing there (the tallest where footprints overlap). Cells are addressed
by their top-left corner: cell (r, c) covers x in [west + c * cell_m, west + (c + 1) * cell_m) and y in
(north - (r + 1) * cell_m, north - r * cell_m]; a point belongs to the cell it lies in.

Two queries run on it, vectorised over many segments or rays at once:

- :meth:`Surface.highest_along`: the highest top on a segment and where it stands (screening of noise);
- :meth:`Surface.ray_blocked`: whether the surface rises above a rising ray (sun rays). Rays stop as soon as they
  are above the highest top of the raster, and skip ahead where a max-filtered copy of the raster (the highest top
  within a few cells, :data:`CLEARANCE_CELLS`) lies below them: a ray that has risen above the roofs around it
  jumps over the next street instead of walking it cell by cell.

Heights outside the raster, and where the terrain has no data, are NaN: they block nothing.

Example:
    >>> surface = Surface.build(Obstacles.from_store(con), load_terrain(con), cell_m=1.0)  # doctest: +SKIP
    >>> surface.ray_blocked(x, y, z, dx, dy, np.tan(np.radians(20.0)), max_m=500.0)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import duckdb
import numpy as np
import numpy.typing as npt
import shapely
from rasterio.features import rasterize
from rasterio.transform import Affine
from scipy import ndimage

from twin3d.errors import InputError
from twin3d.simulation.terrain import Terrain

CELL_M = 1.0
"""Default cell size: a street's width is several cells, a façade's offset sample lies outside its own wall."""
MARGIN_M = 100.0
"""The raster reaches this far beyond the obstacles when no bounds are given (shadows and screens near the edge)."""
MAX_CELLS = 40_000_000
"""The most cells a surface may have: 24 bytes each with the clearance copies, about 1 GB (Lauf at 1 m: 16 million
cells, 385 MB). A larger area needs larger cells or bounds around what is asked."""
CLEARANCE_CELLS = (4, 16, 64)
"""Half-widths (cells) of the max-filtered copies a ray consults to skip ahead once it is above the roofs."""
CHUNK = 4_000_000
"""Points per batch of a segment query (bounds memory at about 200 MB)."""


def positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """int64 (len(wanted),): where each of the ids ``wanted`` stands in ``ids`` (any order), -1 where it does not."""
    keys = np.asarray(ids, dtype=object).astype(str)
    asked = np.asarray(wanted, dtype=object).astype(str)
    if not len(keys):
        return np.full(len(asked), -1, np.int64)
    order = np.argsort(keys, kind="stable")
    at = np.minimum(np.searchsorted(keys[order], asked), len(keys) - 1)
    return np.where(keys[order][at] == asked, order[at], -1).astype(np.int64)


def fitting_cell_m(bounds: tuple[float, float, float, float], margin_m: float = MARGIN_M) -> float:
    """:data:`CELL_M`, or the smallest half-metre step above it whose raster over ``bounds`` (plus ``margin_m`` on
    every side) stays within :data:`MAX_CELLS`: a large town gets coarser cells instead of a refusal."""
    west, south, east, north = bounds
    area = max(east - west + 2 * margin_m, 0.0) * max(north - south + 2 * margin_m, 0.0)
    return max(CELL_M, float(np.ceil(np.sqrt(area / (0.95 * MAX_CELLS)) * 2) / 2))


@dataclass(frozen=True)
class Obstacles:
    """Prisms that block sun, sound and sight: a footprint on its ground height, raised by its height.

    Attributes:
        ids: object (n,), the building ids (planned buildings: the id their scenario gives them).
        geometry: shapely polygons (n,) in the twin's CRS.
        base_m: float64 (n,), the ground the obstacle stands on, metres above NHN.
        height_m: float64 (n,), metres above its ground.
    """

    ids: np.ndarray
    geometry: np.ndarray
    base_m: np.ndarray
    height_m: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def top_m(self) -> np.ndarray:
        """float64 (n,): the roof, metres above NHN."""
        top: np.ndarray = self.base_m + self.height_m
        return top

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection) -> Obstacles:
        """Every building of a built twin, ordered by id (as :class:`~twin3d.simulation.housing.Footprints`)."""
        t = con.execute(
            "SELECT building_id, ground_height, height, ST_AsWKB(geom) AS wkb FROM buildings ORDER BY building_id"
        ).to_arrow_table()
        return cls(
            t["building_id"].to_numpy(zero_copy_only=False).astype(object),
            shapely.from_wkb(t["wkb"].to_numpy(zero_copy_only=False)),
            t["ground_height"].to_numpy(zero_copy_only=False).astype(np.float64),
            t["height"].to_numpy(zero_copy_only=False).astype(np.float64),
        )

    def matched(self, other: Obstacles) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """How ``other`` (a changed set) relates to these obstacles, matched by id.

        Returns:
            int64 (n,): the index in ``other`` of each obstacle (-1: gone); bool (n,): whether it is there unchanged
            (same footprint, ground and height); bool (len(other),): whether an obstacle of ``other`` is new or
            changed.
        """
        remap = positions(other.ids, self.ids)
        same = np.zeros(len(self), bool)
        if (remap >= 0).any():
            o = np.flatnonzero(remap >= 0)
            n = remap[o]
            same[o] = (
                (self.base_m[o] == other.base_m[n])
                & (self.height_m[o] == other.height_m[n])
                & shapely.equals_exact(self.geometry[o], other.geometry[n], tolerance=0.0)
            )
        fresh = np.ones(len(other), bool)
        fresh[remap[same]] = False
        return remap, same, fresh

    def with_changes(
        self,
        added: Sequence[tuple[str, shapely.Polygon, float, float]] = (),
        removed: np.ndarray | None = None,
        raised_m: np.ndarray | None = None,
    ) -> Obstacles:
        """The obstacles after a scenario: ``raised_m`` metres more on each (added storeys), those ``removed``
        (bool per obstacle) left out, and ``added`` (id, footprint, base_m, height_m) appended at the end.

        The kept obstacles keep their order, so an index of a kept obstacle maps to ``np.flatnonzero(~removed)``.

        Raises:
            InputError: an array of the wrong length, an added id that is already taken, or an added building with
                an empty footprint or a height that is not positive.
        """
        n = len(self)
        keep = np.ones(n, bool) if removed is None else ~np.asarray(removed, bool)
        extra = np.zeros(n) if raised_m is None else np.asarray(raised_m, np.float64)
        for name, array in (("removed", keep), ("raised_m", extra)):
            if array.shape != (n,):
                raise InputError(
                    f"{name} has {array.shape} entries for {n} obstacles", record=name, hint="give one per obstacle"
                )
        ids = [str(a[0]) for a in added]
        geometry = np.array([a[1] for a in added], dtype=object)
        base = np.array([a[2] for a in added], np.float64)
        height = np.array([a[3] for a in added], np.float64)
        taken = np.isin(np.asarray(ids, dtype=object), self.ids[keep]) | (
            np.unique(ids, return_counts=True)[1].max(initial=1) > 1
        )
        bad = taken | shapely.is_empty(geometry) | ~(height > 0) | ~np.isfinite(base)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"added obstacle {ids[i]!r} is a duplicate, empty or not above its ground",
                record=f"added.{i}",
                hint="give each planned building a new id, a footprint and a positive height",
            )
        return Obstacles(
            np.concatenate([self.ids[keep], np.asarray(ids, dtype=object)]),
            np.concatenate([self.geometry[keep], geometry]),
            np.concatenate([self.base_m[keep], base]),
            np.concatenate([(self.height_m + extra)[keep], height]),
        )


def _resample(terrain: Terrain, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """float32 (len(ys), len(xs)): the terrain bilinearly interpolated at the grid of cell centres xs x ys (NaN off
    the terrain). Separable: along the terrain's rows first, then its columns."""
    if terrain.flat:
        return np.full((len(ys), len(xs)), terrain.ground_m, np.float32)
    (ox, oy), (px, py) = terrain.origin, terrain.pixel
    rows, cols = terrain.shape

    def weights(position: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lower = np.clip(np.floor(position), 0, max(size - 2, 0)).astype(np.int64)
        upper = np.minimum(lower + 1, size - 1)
        w = np.clip(position - lower, 0.0, 1.0)
        off = (position < -0.5) | (position > size - 0.5)  # beyond the terrain's outer cells by half a cell
        return lower, upper, np.where(off, np.nan, w)

    c0, c1, wc = weights((xs - ox) / px, cols)
    r0, r1, wr = weights((oy - ys) / py, rows)
    h = terrain.heights
    along = h[:, c0] * (1 - wc) + h[:, c1] * wc
    out: np.ndarray = (along[r0] * (1 - wr)[:, None] + along[r1] * wr[:, None]).astype(np.float32)
    return out


@dataclass(frozen=True)
class Surface:
    """The top of the world (ground and buildings) on a regular raster in the twin's CRS.

    Attributes:
        top: float32 (rows, cols), the highest point of each cell, metres above NHN (NaN: no data).
        ground: float32 (rows, cols), the terrain under it.
        owner: int32 (rows, cols), index of the obstacle standing there (the tallest of overlapping ones), else -1.
        west, north: the raster's top-left corner.
        cell_m: the cells' size.
        obstacles: what was rasterised (a changed set re-rasterises only where it differs).
    """

    top: np.ndarray
    ground: np.ndarray
    owner: np.ndarray
    west: float
    north: float
    cell_m: float
    obstacles: Obstacles = field(repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        rows, cols = self.top.shape
        return int(rows), int(cols)

    @property
    def transform(self) -> Affine:
        """The raster's affine transform (top-left corner), as rasterio wants it."""
        return Affine(self.cell_m, 0.0, self.west, 0.0, -self.cell_m, self.north)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north)."""
        rows, cols = self.shape
        return self.west, self.north - rows * self.cell_m, self.west + cols * self.cell_m, self.north

    @cached_property
    def max_top(self) -> float:
        """The highest top of the raster (a ray above it is free)."""
        return float(np.nanmax(self.top)) if np.isfinite(self.top).any() else -np.inf

    @cached_property
    def _clearance(self) -> list[tuple[float, np.ndarray]]:
        """(safe jump in metres, flat float32 raster of the highest top within the half-width) per level."""
        filled = np.where(np.isnan(self.top), -np.inf, self.top).astype(np.float32)
        levels = []
        for half in CLEARANCE_CELLS:
            near = ndimage.maximum_filter(filled, size=2 * half + 1, mode="nearest")
            # Every point within (half - 0.5) cells of a point lies in the filter's window around the point's cell.
            levels.append(((half - 1) * self.cell_m, near.ravel()))
        return levels

    @classmethod
    def build(
        cls,
        obstacles: Obstacles,
        terrain: Terrain,
        *,
        cell_m: float = CELL_M,
        bounds: tuple[float, float, float, float] | None = None,
    ) -> Surface:
        """Rasterise the obstacles onto the terrain.

        Args:
            obstacles: the buildings (and planned ones).
            terrain: the twin's terrain (its DEM or its twin-wide ground).
            cell_m: the cells' size in metres (:func:`fitting_cell_m` for a whole town).
            bounds: (west, south, east, north) in the twin's CRS; left out: the obstacles' extent plus
                :data:`MARGIN_M`. Obstacles outside are cut off.

        Raises:
            InputError: the raster would exceed :data:`MAX_CELLS`, or the cell size is not positive.
        """
        if not cell_m > 0:
            raise InputError(f"cell_m must be positive, not {cell_m}", record="cell_m", hint="give e.g. 1 or 2")
        if bounds is None:
            if len(obstacles):
                x0, y0, x1, y1 = shapely.total_bounds(obstacles.geometry)
            else:
                (ox, oy), (px, py) = terrain.origin, terrain.pixel
                rows, cols = terrain.shape
                x0, y0, x1, y1 = ox, oy - (rows - 1) * py, ox + (cols - 1) * px, oy
            bounds = (x0 - MARGIN_M, y0 - MARGIN_M, x1 + MARGIN_M, y1 + MARGIN_M)
        west, south, east, north = (float(v) for v in bounds)
        west, north = np.floor(west / cell_m) * cell_m, np.ceil(north / cell_m) * cell_m  # cells on a fixed grid
        cols, rows = int(np.ceil((east - west) / cell_m)), int(np.ceil((north - south) / cell_m))
        if rows <= 0 or cols <= 0 or rows * cols > MAX_CELLS:
            raise InputError(
                f"a surface of {rows} x {cols} cells of {cell_m} m is empty or too large",
                record="bounds",
                hint=f"give bounds with an area, or larger cells (at most {MAX_CELLS:,} cells)",
            )
        xs = west + (np.arange(cols) + 0.5) * cell_m
        ys = north - (np.arange(rows) + 0.5) * cell_m
        ground = _resample(terrain, xs, ys)
        surface = cls(ground.copy(), ground, np.full((rows, cols), -1, np.int32), west, north, cell_m, obstacles)
        surface._burn(obstacles, (0, rows, 0, cols), np.arange(len(obstacles)))
        return surface

    def _burn(self, obstacles: Obstacles, window: tuple[int, int, int, int], which: np.ndarray) -> None:
        """Rasterise obstacles ``which`` into ``window`` (r0, r1, c0, c1) of the (fresh, unshared) arrays: cells
        whose centre lies in a footprint, the tallest last so it owns the cell."""
        r0, r1, c0, c1 = window
        top, owner = self.top[r0:r1, c0:c1], self.owner[r0:r1, c0:c1]
        owner[:] = -1
        if len(which):
            which = which[np.argsort(obstacles.top_m[which], kind="stable")]
            transform = self.transform @ Affine.translation(c0, r0)
            burnt = rasterize(
                zip(obstacles.geometry[which], which.tolist(), strict=True),
                out_shape=top.shape,
                transform=transform,
                fill=-1,
                dtype="int32",
            )
            owner[:] = burnt
        tops = np.append(obstacles.top_m, np.nan).astype(np.float32)
        top[:] = np.where(owner >= 0, tops[owner], self.ground[r0:r1, c0:c1])

    def with_obstacles(self, obstacles: Obstacles) -> Surface:
        """The surface of a changed set of obstacles (matched to the current ones by id): only the window around
        the obstacles that were added, removed or changed is rasterised again."""
        old, new = self.obstacles, obstacles
        remap, same, fresh = old.matched(new)
        changed = np.concatenate([old.geometry[~same], new.geometry[fresh]])
        lut = np.append(np.where(same, remap, -1), -1).astype(np.int32)
        owner = lut[self.owner]
        surface = replace(self, top=self.top.copy(), owner=owner, obstacles=new)
        if not len(changed):
            return surface
        x0, y0, x1, y1 = shapely.total_bounds(changed)
        rows, cols = self.shape
        c0 = int(np.clip(np.floor((x0 - self.west) / self.cell_m) - 1, 0, cols))
        c1 = int(np.clip(np.ceil((x1 - self.west) / self.cell_m) + 1, 0, cols))
        r0 = int(np.clip(np.floor((self.north - y1) / self.cell_m) - 1, 0, rows))
        r1 = int(np.clip(np.ceil((self.north - y0) / self.cell_m) + 1, 0, rows))
        if r1 <= r0 or c1 <= c0:
            return surface  # every change lies off the raster
        box = shapely.box(self.west + c0 * self.cell_m, self.north - r1 * self.cell_m,
                          self.west + c1 * self.cell_m, self.north - r0 * self.cell_m)  # fmt: skip
        which = shapely.STRtree(new.geometry).query(box, predicate="intersects") if len(new) else np.zeros(0, int)
        surface._burn(new, (r0, r1, c0, c1), np.sort(which))
        if "_clearance" in self.__dict__:  # computed here already: filter again only around the window
            surface.__dict__["_clearance"] = surface._clearance_near(self._clearance, (r0, r1, c0, c1))
        return surface

    def _clearance_near(
        self, before: list[tuple[float, np.ndarray]], window: tuple[int, int, int, int]
    ) -> list[tuple[float, np.ndarray]]:
        """The clearance levels of a surface whose top changed only in ``window``, from those of before: each
        level's max filter runs again on the window widened by its half-width (reading twice as far)."""
        r0, r1, c0, c1 = window
        rows, cols = self.shape
        levels = []
        for (jump, near), half in zip(before, CLEARANCE_CELLS, strict=True):
            out = near.copy().reshape(rows, cols)
            o = (max(r0 - half, 0), min(r1 + half, rows), max(c0 - half, 0), min(c1 + half, cols))
            i = (max(r0 - 2 * half, 0), min(r1 + 2 * half, rows), max(c0 - 2 * half, 0), min(c1 + 2 * half, cols))
            read = self.top[i[0] : i[1], i[2] : i[3]]
            filtered = ndimage.maximum_filter(
                np.where(np.isnan(read), -np.inf, read).astype(np.float32), size=2 * half + 1, mode="nearest"
            )
            out[o[0] : o[1], o[2] : o[3]] = filtered[o[0] - i[0] : o[1] - i[0], o[2] - i[2] : o[3] - i[2]]
            levels.append((jump, out.ravel()))
        return levels

    def cell_of(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """The flat index (row * cols + col) of the cell each point lies in, and whether it is on the raster at all
        (index 0 where it is not)."""
        rows, cols = self.shape
        col = np.floor((np.asarray(x, np.float64) - self.west) / self.cell_m)
        row = np.floor((self.north - np.asarray(y, np.float64)) / self.cell_m)
        inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        return np.where(inside, row * cols + col, 0).astype(np.int64), inside

    def _at(self, raster: np.ndarray, x: npt.ArrayLike, y: npt.ArrayLike) -> np.ndarray:
        index, inside = self.cell_of(x, y)
        values: np.ndarray = np.where(inside, raster.ravel()[index], np.nan)
        return values

    def top_at(self, x: npt.ArrayLike, y: npt.ArrayLike) -> np.ndarray:
        """float64: the top of the surface at each point (NaN off the raster or without data)."""
        return self._at(self.top, x, y)

    def ground_at(self, x: npt.ArrayLike, y: npt.ArrayLike) -> np.ndarray:
        """float64: the terrain at each point (NaN off the raster or without data)."""
        return self._at(self.ground, x, y)

    def owner_at(self, x: npt.ArrayLike, y: npt.ArrayLike) -> np.ndarray:
        """int64: the obstacle standing at each point, -1 where none (or off the raster)."""
        index, inside = self.cell_of(x, y)
        owner: np.ndarray = np.where(inside, self.owner.ravel()[index], -1).astype(np.int64)
        return owner

    def samples_along(
        self,
        x0: npt.ArrayLike,
        y0: npt.ArrayLike,
        x1: npt.ArrayLike,
        y1: npt.ArrayLike,
        *,
        step_m: float | None = None,
        skip_owner: npt.ArrayLike | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Points along each segment, every ``step_m`` at most (the middles of equal pieces: the ends are not
        sampled), in batches of at most :data:`CHUNK`: (segment index, distance from its start, top there; float32).
        The cells of the segment's ``skip_owner`` obstacle count as their ground."""
        step = self.cell_m if step_m is None else float(step_m)
        x0, y0, x1, y1 = (np.asarray(v, np.float64).ravel() for v in np.broadcast_arrays(x0, y0, x1, y1))
        n = len(x0)
        skip = np.broadcast_to(np.asarray(-2 if skip_owner is None else skip_owner, np.int64), (n,))
        length = np.hypot(x1 - x0, y1 - y0)
        pieces = np.maximum(np.ceil(length / step), 1).astype(np.int64)
        ends = np.cumsum(pieces)
        rows, cols = self.shape
        # Per segment, in cells from the raster's corner: its start and the change per piece; and how far from its
        # start its skipped obstacle can reach (its bounding box's farthest corner), the only points worth a look.
        col0, row0 = (x0 - self.west) / self.cell_m, (self.north - y0) / self.cell_m
        dcol, drow = (x1 - x0) / pieces / self.cell_m, (y0 - y1) / pieces / self.cell_m
        piece = length / pieces
        reach = np.full(n, -1.0)
        mine = (skip >= 0) & (skip < len(self.obstacles))
        if mine.any():
            b = shapely.bounds(self.obstacles.geometry[skip[mine]])
            dx = np.maximum(np.abs(x0[mine] - b[:, 0]), np.abs(x0[mine] - b[:, 2]))
            dy = np.maximum(np.abs(y0[mine] - b[:, 1]), np.abs(y0[mine] - b[:, 3]))
            reach[mine] = np.hypot(dx, dy) + step
        flat_top, flat_owner, flat_ground = self.top.ravel(), self.owner.ravel(), self.ground.ravel()
        first = 0
        while first < n:
            done = ends[first - 1] if first else 0
            last = max(int(np.searchsorted(ends, done + CHUNK, side="right")), first + 1)
            count = pieces[first:last]

            def spread(
                values: np.ndarray, count: np.ndarray = count, first: int = first, last: int = last
            ) -> np.ndarray:
                return np.repeat(values[first:last].astype(np.float32), count)

            seg = np.repeat(np.arange(first, last), count)
            k = (np.arange(len(seg)) - np.repeat(ends[first:last] - count - done, count)).astype(np.float32) + 0.5
            # Truncating (value + 1) toward zero and taking 1 floors every value above -1; lower ones go negative
            # too, and a negative int32 read as uint32 is beyond the raster: one comparison per axis.
            col = (spread(col0) + k * spread(dcol) + 1).astype(np.int32) - 1
            row = (spread(row0) + k * spread(drow) + 1).astype(np.int32) - 1
            inside = (col.view(np.uint32) < cols) & (row.view(np.uint32) < rows)
            index = np.where(inside, row * np.int32(cols) + col, 0)
            top = np.where(inside, flat_top[index], np.float32(np.nan))
            distance = k * spread(piece)
            near = np.flatnonzero(distance <= spread(reach))
            own = near[flat_owner[index[near]] == skip[seg[near]]]
            top[own] = flat_ground[index[own]]
            yield seg, distance, top
            first = last

    def highest_along(
        self,
        x0: npt.ArrayLike,
        y0: npt.ArrayLike,
        x1: npt.ArrayLike,
        y1: npt.ArrayLike,
        *,
        step_m: float | None = None,
        skip_owner: npt.ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The highest top on each segment from (x0, y0) to (x1, y1) and its distance from (x0, y0).

        Args:
            x0, y0, x1, y1: the segments' ends (arrays broadcast together), twin CRS.
            step_m: the largest distance between two points looked at (default: the cell size).
            skip_owner: an obstacle index per segment (or one for all) whose cells count as ground (the building a
                receiver stands at); None: none skipped.

        Returns:
            float64 (n,) top (metres above NHN; NaN where the segment lies off the raster) and float64 (n,) its
            distance from the start (the nearest of equal highest points).
        """
        n = int(np.broadcast(x0, y0, x1, y1).size)
        best = np.full(n, np.nan)
        where = np.full(n, np.nan)
        for seg, distance, top in self.samples_along(x0, y0, x1, y1, step_m=step_m, skip_owner=skip_owner):
            # A batch holds whole segments, in order: reduce each run of one segment's points.
            starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
            value = np.where(np.isnan(top), -np.inf, top)
            high = np.maximum.reduceat(value, starts)
            at = np.minimum.reduceat(np.where(value == np.repeat(high, np.diff(np.r_[starts, len(seg)])), distance,
                                              np.inf), starts)  # fmt: skip
            known = np.isfinite(high)
            best[seg[starts][known]], where[seg[starts][known]] = high[known], at[known]
        return best, where

    def ray_blocked(  # noqa: PLR0917 (a ray is six numbers: where it starts, its direction and its rise)
        self,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        z: npt.ArrayLike,
        dx: npt.ArrayLike,
        dy: npt.ArrayLike,
        tan_elevation: npt.ArrayLike,
        *,
        max_m: npt.ArrayLike,
        step_m: float | None = None,
        skip_owner: npt.ArrayLike | None = None,
    ) -> np.ndarray:
        """Whether the surface rises above each ray from (x, y, z) toward (dx, dy) climbing at ``tan_elevation``.

        Args:
            x, y, z: the rays' starts (z metres above NHN); arrays broadcast together with the other arguments.
            dx, dy: the horizontal direction (need not be unit vectors).
            tan_elevation: the rise per metre travelled horizontally (>= 0).
            max_m: how far to follow a ray horizontally.
            step_m: the distance between two points looked at below the roofs (default: the cell size); the
                first lies half a step from the start, each stands for the ray over its step.
            skip_owner: the obstacle each ray starts at (its own building blocks nothing); None: none skipped.

        Returns:
            bool (n,): True where a cell's top lies above the ray within ``max_m`` (off the raster: nothing).
        """
        step = self.cell_m if step_m is None else float(step_m)
        half = step / 2
        arrays = np.broadcast_arrays(x, y, z, dx, dy, tan_elevation, max_m, -2 if skip_owner is None else skip_owner)
        px, py, pz, ux, uy, rise, reach = (np.asarray(a, np.float64).ravel() for a in arrays[:7])
        skip = np.asarray(arrays[7], np.int64).ravel()
        rows, cols = self.shape
        norm = np.hypot(ux, uy)
        norm[norm == 0] = 1.0
        # Positions in cells from the top-left corner, so a cell's index is two truncations away.
        col0, row0 = (px - self.west) / self.cell_m, (self.north - py) / self.cell_m
        dcol, drow = ux / norm / self.cell_m, -uy / norm / self.cell_m
        with np.errstate(divide="ignore", invalid="ignore"):
            # Where each ray leaves the raster (a little early, so the last cell is never one too far) or rises
            # above its highest top: its end, so no point needs a test whether it is on the raster.
            leave_c = np.where(dcol > 0, (cols - 1e-3 - col0) / dcol, np.where(dcol < 0, col0 / -dcol, np.inf))
            leave_r = np.where(drow > 0, (rows - 1e-3 - row0) / drow, np.where(drow < 0, row0 / -drow, np.inf))
            free = np.where(rise > 0, (self.max_top - pz) / rise, np.inf)
        end = np.minimum(np.minimum(leave_c, leave_r), np.minimum(free, reach))
        start = (col0 >= 0) & (col0 < cols) & (row0 >= 0) & (row0 < rows) & (pz <= self.max_top) & (end >= half)
        alive = np.flatnonzero(start)
        # One float32 block per ray (start col, row, their change per metre, height half a step back, rise): a ray
        # that is done leaves with one copy. Each point stands for the ray from half a step before it to half a step
        # after, so the ray's lowest height there (half a step back) is compared with the cell's top.
        state = np.stack([col0, row0, dcol, drow, pz - rise * half, rise, end])[:, alive].astype(np.float32)
        own = skip[alive].astype(np.int32)
        t = np.full(len(alive), half, np.float32)
        flat_top, flat_owner, flat_ground = self.top.ravel(), self.owner.ravel(), self.ground.ravel()
        levels = [(np.float32(max(jump, step)), near) for jump, near in self._clearance]
        blocked = np.zeros(len(px), bool)
        while len(alive):
            col = state[0] + state[2] * t
            row = state[1] + state[3] * t
            index = row.astype(np.int32) * np.int32(cols) + col.astype(np.int32)
            low = state[4] + state[5] * t
            above = flat_top[index] > low
            hit = np.flatnonzero(above)
            if len(hit):
                mine = hit[flat_owner[index[hit]] == own[hit]]  # the ray's own building: its ground counts
                above[mine] = flat_ground[index[mine]] > low[mine]
                blocked[alive[above]] = True
            advance = np.full(len(t), np.float32(step))
            for jump, near in levels:  # the levels widen: where a wider one is clear, so are the narrower
                advance = np.where(near[index] < low, jump, advance)
            t = t + advance
            done = above | (t > state[6])
            if done.any():
                stay = ~done
                alive, t, state, own = alive[stay], t[stay], state[:, stay], own[stay]
        return blocked
