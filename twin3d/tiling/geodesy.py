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
WGS84_LONLAT = CRS.from_epsg(4326)
WGS84_A = 6378137.0
WGS84_E2 = (1 / 298.257223563) * (2 - 1 / 298.257223563)


@lru_cache(maxsize=16)
def _to_lonlat(crs_wkt: str) -> Transformer:
    # Horizontal only: the datum shift of a Bessel-based CRS (RD, Gauss-Krueger) moves positions, never the heights,
    # which are ellipsoidal (GRS80/WGS 84) already. Through the CRS in 3D, PROJ would add its ellipsoid's shift too.
    return Transformer.from_crs(CRS.from_wkt(crs_wkt), WGS84_LONLAT, always_xy=True)


def geodetic_to_ecef(lon: np.ndarray, lat: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Longitude and latitude (degrees) with heights above the WGS 84 ellipsoid to ECEF, shape (n, 3)."""
    lam, phi = np.radians(lon), np.radians(lat)
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = WGS84_A / np.sqrt(1 - WGS84_E2 * sin_phi * sin_phi)  # the prime vertical radius of curvature
    return np.column_stack(
        [(n + h) * cos_phi * np.cos(lam), (n + h) * cos_phi * np.sin(lam), (n * (1 - WGS84_E2) + h) * sin_phi]
    )


def projected_to_ecef(x: np.ndarray, y: np.ndarray, h: np.ndarray, crs: CRS) -> np.ndarray:
    """Projected coordinates with heights above the GRS80/WGS 84 ellipsoid to ECEF, shape (n, 3).

    The heights are applied in geographic WGS 84 whatever the CRS's own datum: only the horizontal position goes
    through the CRS (see CONVENTIONS: a Bessel-based CRS would otherwise lift every building by 43-51 m).
    """
    lon, lat = transform_arrays(_to_lonlat(crs.to_wkt()), x, y, errcheck=True)
    return geodetic_to_ecef(np.asarray(lon), np.asarray(lat), np.asarray(h, dtype=np.float64))


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
