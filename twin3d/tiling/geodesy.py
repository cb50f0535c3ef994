"""Earth-centred coordinates and the local east-north-up frame the tiles are written in.

Tiles hold float32 positions relative to a local origin; the tileset places them on the globe with a
``transform`` from the twin's east-north-up (ENU) frame to ECEF (EPSG:4978). Converting every vertex through
ECEF, rather than treating projected metres as local metres, keeps the map projection's scale error and the
Earth's curvature out of the geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

from twin3d.io.crs import transform_arrays

ECEF = CRS.from_epsg(4978)
WGS84_3D = CRS.from_epsg(4979)


@lru_cache(maxsize=16)
def _to_ecef(crs_wkt: str) -> Transformer:
    # to_3d(): the z of the projected CRS is read as height above the ellipsoid.
    return Transformer.from_crs(CRS.from_wkt(crs_wkt).to_3d(), ECEF, always_xy=True)


def projected_to_ecef(x: np.ndarray, y: np.ndarray, h: np.ndarray, crs: CRS) -> np.ndarray:
    """Projected coordinates with ellipsoidal heights to ECEF, shape (n, 3)."""
    ex, ey, ez = transform_arrays(_to_ecef(crs.to_wkt()), x, y, h, errcheck=True)
    return np.column_stack([ex, ey, ez])


@dataclass(frozen=True)
class LocalFrame:
    """An east-north-up frame tangent to the ellipsoid at an origin.

    Attributes:
        lon: origin longitude, degrees.
        lat: origin latitude, degrees.
        height: origin height above the ellipsoid, metres.
        origin: the origin in ECEF, metres.
        axes: 3x3 matrix whose columns are the east, north and up unit vectors in ECEF.
    """

    lon: float
    lat: float
    height: float
    origin: np.ndarray
    axes: np.ndarray

    def from_ecef(self, ecef: np.ndarray) -> np.ndarray:
        """ECEF points (n, 3) to local ENU coordinates (n, 3)."""
        return np.asarray((ecef - self.origin) @ self.axes)

    def to_ecef(self, enu: np.ndarray) -> np.ndarray:
        """Local ENU points (n, 3) to ECEF (n, 3)."""
        return np.asarray(enu @ self.axes.T + self.origin)

    def transform(self) -> list[float]:
        """The 4x4 ENU-to-ECEF matrix in the column-major order 3D Tiles expects."""
        m = np.eye(4)
        m[:3, :3] = self.axes
        m[:3, 3] = self.origin
        return [float(v) for v in m.T.reshape(-1)]


def frame_at(lon: float, lat: float, height: float) -> LocalFrame:
    """The ENU frame at a geodetic position (WGS 84 / GRS80 ellipsoid)."""
    tr = Transformer.from_crs(WGS84_3D, ECEF, always_xy=True)
    origin = np.array(tr.transform(lon, lat, height), dtype=np.float64)
    lam, phi = np.radians(lon), np.radians(lat)
    east = np.array([-np.sin(lam), np.cos(lam), 0.0])
    north = np.array([-np.sin(phi) * np.cos(lam), -np.sin(phi) * np.sin(lam), np.cos(phi)])
    up = np.array([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])
    return LocalFrame(lon, lat, height, origin, np.column_stack([east, north, up]))
