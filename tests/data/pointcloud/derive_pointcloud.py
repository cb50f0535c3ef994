"""Derive the small LAZ test cloud from the real Köln DGM1 sample (see SOURCE.md).

Run from the repository root: ``python tests/data/pointcloud/derive_pointcloud.py``. Deterministic (fixed seed).
"""

from __future__ import annotations

from pathlib import Path

import laspy
import numpy as np
import rasterio
from pyproj import CRS

HERE = Path(__file__).resolve().parent
DEM = HERE.parent / "dem" / "dgm1_32_357_5646_koeln_sub20m.tif"
OUT = HERE / "koeln_dgm1_ground_4000.laz"
INTERPOLATED = 1500


def main() -> None:
    with rasterio.open(DEM) as src:
        z = src.read(1).astype(np.float64)
        t = src.transform
    rows, cols = np.indices(z.shape)
    # Pixel centres are the original DGM1 sample points (every 20th point of the 1 m grid).
    x = t.c + (cols + 0.5) * t.a
    y = t.f + (rows + 0.5) * t.e
    xs, ys, zs = x.ravel(), y.ravel(), z.ravel()
    rng = np.random.default_rng(5646)
    # Further points bilinearly interpolated between four neighbouring samples.
    r = rng.integers(0, z.shape[0] - 1, INTERPOLATED)
    c = rng.integers(0, z.shape[1] - 1, INTERPOLATED)
    fr, fc = rng.random(INTERPOLATED), rng.random(INTERPOLATED)
    zi = (z[r, c] * (1 - fc) + z[r, c + 1] * fc) * (1 - fr) + (z[r + 1, c] * (1 - fc) + z[r + 1, c + 1] * fc) * fr
    xi = t.c + (c + 0.5 + fc) * t.a
    yi = t.f + (r + 0.5 + fr) * t.e
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([357000.0, 5646000.0, 0.0])
    header.add_crs(CRS.from_user_input("EPSG:25832+7837"))  # ETRS89 / UTM 32N + DHHN2016 heights
    las = laspy.LasData(header)
    las.x = np.concatenate([xs, xi])
    las.y = np.concatenate([ys, yi])
    las.z = np.concatenate([zs, zi])
    las.classification = np.full(len(las.x), 2, dtype=np.uint8)  # ground
    las.write(OUT)


if __name__ == "__main__":
    main()
