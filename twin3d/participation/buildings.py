"""The buildings a pin may sit on: heights and WGS 84 boxes of a twin's buildings, read once from its build store.

Posting a place on a building checks that the building exists, that the clicked point lies on it and that the
pin is not above its roof. A query per post costs more than the rest of the check, and the build store never changes
while the server runs, so the buildings are kept as arrays.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from twin3d.errors import InputError

SNAP_DEG = 0.0005  # about 35-55 m: how far a pin may lie from the box of the building it names
ROOF_MARGIN_M = 5.0  # a pin may float a little above the roof (antennas, the viewer's own picking)


class BuildingIndex:
    """Look up a building by id: its height above ground and its box.

    Args:
        cur: a cursor on the build store (read once, here).
    """

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        table: pa.Table = cur.execute(
            """
            SELECT building_id, height, ST_XMin(geom_wgs84) AS west, ST_YMin(geom_wgs84) AS south,
                   ST_XMax(geom_wgs84) AS east, ST_YMax(geom_wgs84) AS north
            FROM buildings
            """
        ).to_arrow_table()
        ids = table.column("building_id").to_pylist()
        self._row = dict(zip(ids, range(len(ids)), strict=True))
        self.height = table.column("height").to_numpy()
        self.box = np.column_stack([table.column(c).to_numpy() for c in ("west", "south", "east", "north")])

    def __len__(self) -> int:
        return len(self._row)

    def pin_height(self, building_id: str, lon: float, lat: float, height: float | None) -> float:
        """The height of a pin on a building: as given, or the roof.

        Raises:
            InputError: no such building, the point is not on it, or the height is above its roof.
        """
        row = self._row.get(building_id)
        if row is None:
            raise InputError(f"no building {building_id!r}", record="location.building_id")
        west, south, east, north = self.box[row]
        if not (west - SNAP_DEG <= lon <= east + SNAP_DEG and south - SNAP_DEG <= lat <= north + SNAP_DEG):
            raise InputError("the point is not on the building", record="location", hint="click on the building")
        roof = float(self.height[row])
        if height is not None and height > roof + ROOF_MARGIN_M:
            raise InputError(f"height {height} m is above the building ({roof:.1f} m)", record="location.height")
        return height if height is not None else round(roof, 2)
