"""A large OpenStreetMap extract cut into pieces, so that several workers read it and none holds it all.

A Land's extract (Bavaria's is about 800 MB of PBF) read by one process would cache every node location of the
Land and assemble every building in that process. Above ``split_mb`` a buildings source is cut first, in one
streaming pass of osmium-tool's ``extract`` (C++, the Debian package ``osmium-tool``), into a grid of boxes of
about that size each; each piece is then read by a task of its own.

Pieces are cut with the ``smart`` strategy: a way or multipolygon with one node in a box is in that box's piece
complete, with all its nodes and member ways, so a building on the line between two boxes is whole in both. Each
building belongs to exactly one piece: the one whose box (half-open; the grid's outer edges are open) holds the
centre of its footprint's bounding box in WGS 84. The pieces are cut with a margin around their boxes
(:data:`MARGIN_DEG`), so a building whose centre lies in a box but none of whose nodes does (a building larger than
the margin) is still in that box's piece.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer

from twin3d.errors import InputError

MARGIN_DEG = 0.02  # about 1.4-2.2 km in Germany: far larger than any building's distance from its centre
_INSTALL_HINT = "install osmium-tool (Debian: apt-get install osmium-tool), or raise split_mb to read the file whole"


@dataclass(frozen=True)
class OsmPiece:
    """One piece of a split extract and the box (lon/lat) whose buildings it hands on.

    Attributes:
        path: the piece's PBF file.
        box: west, south, east, north; ``-inf``/``inf`` on the grid's outer edges.
    """

    path: Path
    box: tuple[float, float, float, float]

    def owns(self, footprints: np.ndarray, crs: CRS) -> np.ndarray:
        """Which of ``footprints`` (in ``crs``) are this piece's: their bounding box's centre lies in its box."""
        if len(footprints) == 0:
            return np.zeros(0, dtype=bool)
        x0, y0, x1, y1 = shapely.bounds(footprints).T
        to_lonlat = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
        lon, lat = to_lonlat.transform((x0 + x1) / 2.0, (y0 + y1) / 2.0)
        west, south, east, north = self.box
        inside: np.ndarray = (lon >= west) & (lon < east) & (lat >= south) & (lat < north)
        return inside


def _data_box(path: Path) -> tuple[float, float, float, float]:
    """The extract's bounds: from its header, else from its nodes (a pass of ``osmium fileinfo``)."""
    import osmium  # noqa: PLC0415  (pyosmium only when a file is split)

    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if box.valid():
        return box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat
    done = _osmium(["fileinfo", "--extended", "--json", str(path)], path)
    found = json.loads(done.stdout).get("data", {}).get("bbox")
    if not found:
        raise InputError("the extract holds no nodes to split by", file=path, hint="check that the file is complete")
    return float(found[0]), float(found[1]), float(found[2]), float(found[3])


def grid_boxes(bounds: tuple[float, float, float, float], pieces: int) -> list[tuple[float, float, float, float]]:
    """About ``pieces`` boxes over ``bounds``, in columns then rows; the outer edges are open (``inf``)."""
    west, south, east, north = bounds
    columns = max(1, math.ceil(math.sqrt(pieces)))
    rows = max(1, math.ceil(pieces / columns))
    xs = np.linspace(west, east, columns + 1)
    ys = np.linspace(south, north, rows + 1)
    xs[0], xs[-1], ys[0], ys[-1] = -math.inf, math.inf, -math.inf, math.inf
    return [
        (float(xs[c]), float(ys[r]), float(xs[c + 1]), float(ys[r + 1])) for r in range(rows) for c in range(columns)
    ]


def split_osm(path: Path, split_mb: float, folder: Path) -> list[OsmPiece]:
    """Cut ``path`` into pieces of about ``split_mb`` megabytes in ``folder``; [] when it is not larger than that.

    Raises:
        InputError: osmium-tool is missing or cannot read the file.
    """
    size = path.stat().st_size
    if size <= split_mb * 1_000_000:
        return []
    bounds = _data_box(path)
    boxes = grid_boxes(bounds, math.ceil(size / (split_mb * 1_000_000)))
    west, south, east, north = bounds
    folder.mkdir(parents=True, exist_ok=True)
    extracts = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        # The open outer edges are cut at the data's bounds, every edge with the margin: osmium wants finite boxes.
        cut = [
            max(x0, west) - MARGIN_DEG,
            max(y0, south) - MARGIN_DEG,
            min(x1, east) + MARGIN_DEG,
            min(y1, north) + MARGIN_DEG,
        ]
        extracts.append({"output": f"piece-{i:04d}.osm.pbf", "bbox": cut})
    config = folder / "extracts.json"
    config.write_text(json.dumps({"directory": str(folder), "extracts": extracts}), encoding="utf-8")
    _osmium(
        ["extract", "--config", str(config), "--strategy", "smart", "--overwrite", "--no-progress", str(path)], path
    )
    return [OsmPiece(folder / str(e["output"]), box) for e, box in zip(extracts, boxes, strict=True)]


def _osmium(arguments: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("osmium")
    if tool is None:
        raise InputError("a file this large is read in pieces, which needs osmium-tool", file=path, hint=_INSTALL_HINT)
    done = subprocess.run([tool, *arguments], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise InputError(f"osmium could not split the file: {last}", file=path, hint="check that the file is complete")
    return done
