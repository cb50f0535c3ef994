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
from pyproj.exceptions import ProjError

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


_BY_CRS: dict[int, tuple[CRS, Transformer]] = {}


def _lonlat_transformer(crs: CRS) -> Transformer:
    """The horizontal transformer of ``crs``, looked up by object first: ``crs.to_wkt()`` costs 0.2 ms a tile."""
    hit = _BY_CRS.get(id(crs))
    if hit is not None and hit[0] is crs:  # the entry holds the CRS, so its id cannot be reused while cached
        return hit[1]
    if len(_BY_CRS) >= 16:
        _BY_CRS.clear()
    tr = _to_lonlat(crs.to_wkt())
    _BY_CRS[id(crs)] = (crs, tr)
    return tr


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
    lon, lat = transform_arrays(_lonlat_transformer(crs), x, y, errcheck=True)
    return geodetic_to_ecef(np.asarray(lon), np.asarray(lat), np.asarray(h, dtype=np.float64))


def projected_to_enu_normal(x: np.ndarray, y: np.ndarray, crs: CRS, frame: LocalFrame) -> tuple[np.ndarray, np.ndarray]:
    """Where projected points lie on the ellipsoid, and the ellipsoid normal there, both in ``frame``; (3, n) each.

    An ellipsoidal height is measured along the ellipsoid normal, so the point at height ``h`` is exactly
    ``foot + h * normal`` (the ECEF formula is linear in ``h``). Callers that need a point at several heights (a
    wall's foot and top) transform its horizontal position once. Rows are x, y, z so that each axis is contiguous.

    Many points in a small box (a tile's) go through a cubic fitted to exact transforms in that box, which agrees
    with the exact transform to within :data:`FIT_TOLERANCE_M` (see :func:`_fitted`); otherwise every point is
    transformed exactly.
    """
    if len(x) >= FIT_MIN_POINTS:
        fitted = _fitted(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), crs, frame)
        if fitted is not None:
            return fitted
    return _exact_enu_normal(x, y, crs, frame)


def _exact_enu_normal(x: np.ndarray, y: np.ndarray, crs: CRS, frame: LocalFrame) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = transform_arrays(_lonlat_transformer(crs), x, y, errcheck=True)
    lam, phi = np.radians(lon), np.radians(lat)
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    normal = np.empty((3, len(lam)))
    normal[0] = cos_phi * np.cos(lam)
    normal[1] = cos_phi * np.sin(lam)
    normal[2] = sin_phi
    n = WGS84_A / np.sqrt(1 - WGS84_E2 * sin_phi * sin_phi)  # the prime vertical radius of curvature
    ecef = normal * n
    ecef[2] *= 1 - WGS84_E2
    ecef -= frame.origin[:, None]
    return frame.axes.T @ ecef, frame.axes.T @ normal


# The fitted transform (see _fitted): used from this many points on (below, fitting costs more than it saves), for
# boxes up to this span, when it agrees with the exact transform to this tolerance at every check point.
FIT_MIN_POINTS = 400
FIT_MAX_SPAN_M = 20_000.0
FIT_TOLERANCE_M = 1e-5


def _cubic_basis(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The ten monomials of degree <= 3 in (u, v), one row each."""
    uu, uv, vv = u * u, u * v, v * v
    return np.stack([np.ones_like(u), u, v, uu, uv, vv, uu * u, uu * v, u * vv, vv * v])


def _grid(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u, v = np.meshgrid(nodes, nodes)
    return u.reshape(-1), v.reshape(-1)


# Fit nodes: a 6 x 6 grid of Chebyshev nodes (a well-conditioned least-squares fit); check nodes: a 7 x 7 grid with
# the box's edges, corners and centre, between and beyond the fit nodes. Both in box coordinates (-1..1), so the
# least-squares solution is one matrix, made once.
_FIT_U, _FIT_V = _grid(np.cos(np.pi * (2 * np.arange(6) + 1) / 12))
_CHECK_U, _CHECK_V = _grid(np.linspace(-1.0, 1.0, 7))
_NODES_U, _NODES_V = np.concatenate([_FIT_U, _CHECK_U]), np.concatenate([_FIT_V, _CHECK_V])
_SOLVE = np.linalg.pinv(_cubic_basis(_FIT_U, _FIT_V))  # (36, 10): values at the fit nodes -> coefficients
_AT_CHECK = _cubic_basis(_CHECK_U, _CHECK_V)  # (10, 49): coefficients -> values at the check nodes


def _fitted(x: np.ndarray, y: np.ndarray, crs: CRS, frame: LocalFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """The foot points and normals of :func:`projected_to_enu_normal` from a cubic in the points' box, or None.

    Why it is exact enough: the map from projected metres to the ellipsoid is smooth on the Earth's scale; in a box
    of half-width D its Taylor terms of order k are of size about R (D / R)^k (R the Earth's radius), so a cubic
    leaves about D^4 / R^3, a few micrometres at most for the largest box (20 km); measured for UTM, Gauss-Krueger,
    RD and LAEA Europe: 0.003 um for a 1 km box, 0.2 um for 10 km, 3.6 um for 20 km. The fit is not trusted on that
    argument alone: it is compared with the exact transform on a 7 x 7 grid over the box, whose nodes lie between
    and beyond the fit's, and must agree within FIT_TOLERANCE_M (0.01 mm) there. The error is a smooth function
    whose largest value the check grid sees to within a small factor (measured: the same to 2 digits), so every
    point is well inside 1 mm. A transformation that is not smooth (a datum-shift grid, whose cells join with kinks)
    is never fitted, and one that distorts strongly fails the check; its points are then transformed exactly.
    tests/tiling/test_geodesy.py compares the result with the exact transform on random points in several CRSs.
    """
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    if max(x1 - x0, y1 - y0) > FIT_MAX_SPAN_M or not np.isfinite([x0, x1, y0, y1]).all():
        return None
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    sx, sy = max((x1 - x0) / 2.0, 1.0), max((y1 - y0) / 2.0, 1.0)
    try:
        foot, normal = _exact_enu_normal(cx + sx * _NODES_U, cy + sy * _NODES_V, crs, frame)
    except ProjError:
        return None  # a corner of the box outside the CRS's domain: the points themselves may not be
    if "grid" in _lonlat_transformer(crs).definition:
        return None  # a datum-shift grid: smooth only within each of its cells
    exact = np.vstack([foot, normal])
    n_fit = len(_FIT_U)
    coef = exact[:, :n_fit] @ _SOLVE
    error = np.abs(coef @ _AT_CHECK - exact[:, n_fit:])
    # Normals move a point by height times their error: within tolerance for heights up to 10 km.
    if error[:3].max() > FIT_TOLERANCE_M or error[3:].max() > FIT_TOLERANCE_M / 10_000.0:
        return None
    out = coef @ _cubic_basis((x - cx) / sx, (y - cy) / sy)
    return out[:3], out[3:]


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
