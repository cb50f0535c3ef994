from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import shapely
from pyproj import CRS

from twin3d.errors import CRSError
from twin3d.io.crs import transform_points
from twin3d.io.vector import FeatureTable
from twin3d.pipeline.validate import POLYGONAL, check_geometries, duplicate_mask

UTM32 = CRS.from_epsg(25832)
X, Y = 662_000.0, 5_486_000.0  # Lauf


def _table(geoms: list[object]) -> FeatureTable:
    return FeatureTable(Path("test.geojson"), UTM32, np.array(geoms, dtype=object), pa.table({"i": range(len(geoms))}))


def test_repairs_bow_ties_and_drops_what_cannot_be_used_with_reasons() -> None:
    bow_tie = shapely.Polygon([(X, Y), (X + 10, Y + 10), (X + 10, Y), (X, Y + 10)])
    square = shapely.box(X, Y, X + 10, Y + 10)
    tiny = shapely.box(X, Y, X + 0.5, Y + 0.5)
    line = shapely.LineString([(X, Y), (X + 5, Y)])
    far_away = shapely.box(0, 0, 10, 10)  # valid UTM coordinates, but at the equator
    result = check_geometries(_table([square, bow_tie, None, tiny, line, far_away]), UTM32, POLYGONAL, min_area=1.0)
    assert result.keep.tolist() == [True, True, False, False, False, False]
    assert result.repaired == 1
    assert shapely.is_valid(result.geometry[1])
    assert shapely.area(result.geometry[1]) == pytest.approx(50.0)
    reasons = {reason: rows.tolist() for reason, rows in result.reasons.items()}
    assert reasons["no geometry"] == [2]
    assert reasons["footprint smaller than 1 m²"] == [3]
    assert reasons["geometry type LineString (expected Polygon or MultiPolygon)"] == [4]
    assert reasons["outside the twin's region"] == [5]


def test_a_file_entirely_elsewhere_means_a_wrong_crs() -> None:
    # Lon/lat degrees read as UTM metres land near the equator: that is a CRS mistake, not bad records.
    with pytest.raises(CRSError, match="no feature lies in the twin's region"):
        check_geometries(_table([shapely.box(11.2, 49.5, 11.3, 49.6)]), UTM32, POLYGONAL)


def test_duplicate_ids_keep_the_first() -> None:
    assert duplicate_mask(pa.array(["a", "b", "a", "c", "b"])).tolist() == [False, False, True, False, True]


def test_eastern_bavaria_stays_in_a_utm32_twin() -> None:
    # Bavaria keeps its whole territory in EPSG:25832, up to the Bavarian Forest at 13.8 E.
    x, y = transform_points(np.array([13.75]), np.array([48.85]), CRS.from_epsg(4326), UTM32)
    house = shapely.box(x[0], y[0], x[0] + 10, y[0] + 10)
    assert check_geometries(_table([house]), UTM32, POLYGONAL).keep.tolist() == [True]
