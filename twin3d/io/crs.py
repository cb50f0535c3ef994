"""CRS resolution and vectorised reprojection shared by the readers."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCRSError
from pyproj.transformer import TransformerGroup

from twin3d.errors import CRSError

# German survey offices write compound CRS URNs with the height system; the horizontal part is what we need.
_ADV_URN = re.compile(r"ETRS89_UTM(\d{2})", re.IGNORECASE)
# Older data is in Gauss-Krueger on DHDN: "DE_DHDN_3GK4" (a Land's realisation may follow: "DE_DHDN_3GK4_BY120").
_ADV_GAUSS_KRUEGER = re.compile(r"DE_DHDN_3GK([2-5])(?![0-9])", re.IGNORECASE)
ADV_FORMS = "urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH, urn:adv:crs:DE_DHDN_3GK4*DE_DHHN92_NH"


def parse_crs(text: str, *, file: str | Path | None = None) -> CRS:
    """Turn a CRS string from a file or a definition into a pyproj CRS.

    Accepts EPSG codes in their usual spellings (``EPSG:25832``, ``urn:ogc:def:crs:EPSG::25832``,
    ``http://www.opengis.net/def/crs/EPSG/0/25832``), WKT and PROJ strings, and the AdV URNs
    ``urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH`` and ``urn:adv:crs:DE_DHDN_3GK4*DE_DHHN92_NH`` (Gauss-Krueger zones
    2 to 5, also with a Land's realisation such as ``DE_DHDN_3GK4_BY120``). Compound CRSs are reduced to their
    horizontal part.

    Raises:
        CRSError: the string names no CRS that PROJ knows.
    """
    adv = text.lower().startswith("urn:adv:crs:")
    if adv and (match := _ADV_URN.search(text)):
        return CRS.from_epsg(25800 + int(match.group(1)))
    if adv and (match := _ADV_GAUSS_KRUEGER.search(text)):
        return CRS.from_epsg(31464 + int(match.group(1)))  # DHDN / 3-degree Gauss-Kruger zone 2..5: 31466..31469
    try:
        crs = CRS.from_user_input(text)
    except ProjCRSError as exc:
        hint = 'declare the right one with crs = "EPSG:...." for this source in the pipeline definition'
        if adv:
            hint = f"AdV names known here: {ADV_FORMS}; otherwise {hint}"
        raise CRSError(f"unknown CRS {text!r}", file=file, hint=hint) from exc
    if crs.is_compound:
        horizontal = crs.sub_crs_list[0]
        return CRS.from_user_input(horizontal.to_wkt())
    return crs


@lru_cache(maxsize=64)
def _transformer(source_wkt: str, target_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(source_wkt), CRS.from_wkt(target_wkt), always_xy=True)


def transformer(source: CRS, target: CRS) -> Transformer:
    """A cached, axis-order-safe (x=east/lon, y=north/lat) transformer."""
    return _transformer(source.to_wkt(), target.to_wkt())


def transform_arrays(tr: Transformer, *arrays: np.ndarray, errcheck: bool = False) -> tuple[np.ndarray, ...]:
    """Run a transformer over coordinate arrays of any length.

    pyproj first tries its single-point path, which turns one-element arrays into scalars with a NumPy
    deprecation warning; one-element inputs are therefore passed as plain floats.
    """
    single = bool(arrays) and np.size(arrays[0]) == 1
    args: list[Any] = [float(np.ravel(a)[0]) for a in arrays] if single else list(arrays)
    out = tr.transform(*args, errcheck=errcheck)  # type: ignore[call-overload]
    return tuple(np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in out)


def reproject(geoms: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """Reproject an array of shapely geometries to 2D; coordinates PROJ cannot transform become ``inf``.

    Heights are not touched here: 3D readers reproject coordinate arrays with :func:`transform_points` and keep
    their z values in the file's height system.
    """
    if source == target:
        return geoms
    tr = transformer(source, target)

    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = transform_arrays(tr, coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, _xy, include_z=False))


def transform_points(x: np.ndarray, y: np.ndarray, source: CRS, target: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Reproject coordinate arrays (always x=east/lon, y=north/lat)."""
    if source == target:
        return x, y
    tx, ty = transform_arrays(transformer(source, target), x, y)
    return tx, ty


def finite_mask(geoms: np.ndarray) -> np.ndarray:
    """True where every coordinate of a geometry is finite (reprojection did not fail)."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    out = np.ones(len(geoms), dtype=bool)
    out[np.unique(index[bad])] = False
    return out


@dataclass(frozen=True)
class GeoidUndulation:
    """Height of the (quasi)geoid above the ellipsoid at a place, or why PROJ could not tell.

    Attributes:
        value: metres, or None when the grid is missing.
        method: the PROJ operation used.
        missing_grids: grid files PROJ would need (install them into its data folder, e.g. with ``projsync``).
    """

    value: float | None
    method: str
    missing_grids: tuple[str, ...]


def geoid_undulation(lon: float, lat: float, height_system: str = "EPSG:7837") -> GeoidUndulation:
    """The undulation at ``lon, lat`` (ETRS89) for a vertical CRS (default DHHN2016), through PROJ's grids.

    PROJ falls back to a "ballpark" operation that ignores the geoid when the grid is not installed; that is
    reported as missing rather than used.
    """
    source = CRS.from_user_input(f"EPSG:4258+{CRS.from_user_input(height_system).to_epsg()}")
    with warnings.catch_warnings():
        # PROJ warns about the missing grid; the caller reports it with the fix instead.
        warnings.simplefilter("ignore", UserWarning)
        group = TransformerGroup(source, CRS.from_epsg(4937), always_xy=True)
    missing = tuple(sorted({g.short_name for op in group.unavailable_operations for g in op.grids}))
    if not group.best_available or not group.transformers:
        return GeoidUndulation(None, "", missing)
    best = group.transformers[0]
    if "ballpark" in best.description.lower():
        return GeoidUndulation(None, best.description, missing)
    _, _, h = best.transform(lon, lat, 0.0)
    return GeoidUndulation(float(h), best.description, missing)
