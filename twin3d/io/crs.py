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
from pyproj.crs import CompoundCRS
from pyproj.exceptions import CRSError as ProjCRSError
from pyproj.transformer import AreaOfInterest, TransformerGroup

from twin3d.errors import CRSError

# German survey offices write compound CRS URNs with the height system; the horizontal part is what we need.
_ADV_URN = re.compile(r"ETRS89_UTM(\d{2})", re.IGNORECASE)
# Older data is in Gauss-Krueger on DHDN: "DE_DHDN_3GK4" (a Land's realisation may follow: "DE_DHDN_3GK4_BY120").
_ADV_GAUSS_KRUEGER = re.compile(r"DE_DHDN_3GK([2-5])(?![0-9])", re.IGNORECASE)
ADV_FORMS = "urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH, urn:adv:crs:DE_DHDN_3GK4*DE_DHHN92_NH"
ETRS89 = CRS.from_epsg(4258)
WGS84 = CRS.from_epsg(4326)


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


def crs_label(crs: CRS) -> str:
    """``EPSG:31468 (DHDN / 3-degree Gauss-Kruger zone 4)``: the code a user writes and the name PROJ knows."""
    code = crs.to_authority()
    return f"{':'.join(code)} ({crs.name})" if code else crs.name


def grid_fix(grids: tuple[str, ...]) -> str:
    """How to install PROJ grids: with pyproj's own tool (it knows pyproj's data folder), or fetched on demand."""
    if len(grids) == 1:
        commands = f"pyproj sync --file {grids[0]} (or projsync --file {grids[0]})"
    else:
        commands = ", ".join(f"pyproj sync --file {g}" for g in grids) + " (or projsync with the same options)"
    return f"{commands}, or set PROJ_NETWORK=ON to fetch grids on demand"


def _steps(op: Any) -> str:
    """The transformation steps of an operation ("DHDN to WGS 84 (2)"), without its map projections and axis swaps."""
    parts = [o.name for o in (getattr(op, "operations", None) or ()) if o.type_name != "Conversion"]
    return " + ".join(parts) or str(op.name)


def _accuracy(value: float | None) -> str:
    return f"accuracy {value:g} m" if value is not None and value >= 0 else "accuracy unknown"


@dataclass(frozen=True)
class TransformationFallback:
    """PROJ transforms between two CRSs with a less accurate operation than its database knows, for want of a grid.

    Attributes:
        source: the CRS transformed from, as :func:`crs_label` writes it.
        target: the CRS transformed to.
        used: the transformation PROJ uses, e.g. ``DHDN to WGS 84 (2)``.
        used_accuracy: its accuracy in metres (negative: unknown).
        best: the most accurate transformation in PROJ's database, e.g. ``DHDN to WGS 84 (4)``.
        best_accuracy: its accuracy in metres.
        missing_grids: the grid files the better transformations need, most accurate first.
    """

    source: str
    target: str
    used: str
    used_accuracy: float
    best: str
    best_accuracy: float
    missing_grids: tuple[str, ...]

    def message(self) -> str:
        """One line for the build report: which CRS, the accuracy used against the best one, the grid, the fix."""
        grids = ", ".join(self.missing_grids)
        needs = f"grids {grids} are" if len(self.missing_grids) > 1 else f"grid {grids} is"
        return (
            f"{self.source} to {self.target}: PROJ uses the less accurate {self.used} ({_accuracy(self.used_accuracy)})"
            f" instead of {self.best} ({_accuracy(self.best_accuracy)}) because the {needs} not installed; "
            f"fix: {grid_fix(self.missing_grids)}"
        )


def transformation_fallback(
    source: CRS, target: CRS, near: tuple[float, float] | None = None
) -> TransformationFallback | None:
    """Whether PROJ transforms ``source`` to ``target`` less accurately than it could, for want of a grid.

    Args:
        source: the CRS transformed from.
        target: the CRS transformed to.
        near: a place (lon, lat) the transformation is used at: PROJ picks among operations by their area of use
            (DHDN has one for the former West and one for the former East Germany). None: anywhere in the CRS's area.

    Returns:
        What is used and what would be better, or None when PROJ uses the best operation it knows (or the two CRSs
        are one). Cached per CRS pair and place.
    """
    if source == target:
        return None
    # Operations' areas of use are regions or countries: a tenth of a degree tells them apart and keeps the cache small.
    place = None if near is None else (round(near[0], 1), round(near[1], 1))
    return _fallback(source.to_wkt(), target.to_wkt(), place)


def reprojection_warning(source: CRS, target: CRS, geoms: np.ndarray) -> str | None:
    """The report line for geometries reprojected from ``source`` to ``target`` (their CRS now) with a fallback
    transformation (see :func:`transformation_fallback`), judged at the middle of the geometries; None if none."""
    if source == target or not len(geoms):
        return None
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    if not np.isfinite([x0, y0, x1, y1]).all():
        return None
    lon, lat = transform_points(np.array([(x0 + x1) / 2]), np.array([(y0 + y1) / 2]), target, WGS84)
    fallback = transformation_fallback(source, target, (float(lon[0]), float(lat[0])))
    return None if fallback is None else fallback.message()


@lru_cache(maxsize=64)
def _fallback(source_wkt: str, target_wkt: str, place: tuple[float, float] | None) -> TransformationFallback | None:
    source, target = CRS.from_wkt(source_wkt), CRS.from_wkt(target_wkt)
    area = None if place is None else AreaOfInterest(place[0], place[1], place[0], place[1])
    with warnings.catch_warnings():
        # PROJ warns that the best transformation is unavailable; the caller reports it with the fix instead.
        warnings.simplefilter("ignore", UserWarning)
        group = TransformerGroup(source, target, always_xy=True, area_of_interest=area)
    if group.best_available:
        return None
    used = group.transformers[0] if group.transformers else None
    # A ballpark or unknown accuracy counts as worse than any known one.
    used_accuracy = used.accuracy if used is not None and used.accuracy >= 0 else float("inf")
    better = sorted(
        (op for op in group.unavailable_operations if 0 <= op.accuracy < used_accuracy), key=lambda op: op.accuracy
    )
    grids = tuple(dict.fromkeys(g.short_name for op in better for g in op.grids if not g.available))
    if not grids:
        return None
    return TransformationFallback(
        source=crs_label(source),
        target=crs_label(target),
        used=_steps(used) if used is not None else "no transformation",
        used_accuracy=used.accuracy if used is not None else -1.0,
        best=_steps(better[0]),
        best_accuracy=better[0].accuracy,
        missing_grids=grids,
    )


def datum_fallback(crs: CRS, near: tuple[float, float]) -> TransformationFallback | None:
    """The first fallback of ``crs`` to WGS 84 (the tiles, the store's lon/lat) or to ETRS89 (the frame of the
    ellipsoidal heights and of the national grids: RD's RDNAPTRANS, DHDN's BETA2007), at ``near``."""
    return transformation_fallback(crs, WGS84, near) or transformation_fallback(crs, ETRS89, near)


@dataclass(frozen=True)
class GeoidUndulation:
    """Height of the (quasi)geoid above the ellipsoid at a place, or why PROJ could not tell.

    Attributes:
        value: metres, or None when the grid is missing.
        method: the PROJ operation used.
        missing_grids: grid files PROJ would need (install them into its data folder, see :func:`grid_fix`).
        height_system: the vertical CRS the undulation is for, as :func:`crs_label` writes it.
    """

    value: float | None
    method: str
    missing_grids: tuple[str, ...]
    height_system: str = ""


def vertical_crs(height_system: str) -> CRS:
    """The vertical CRS a height system names (code, URN or WKT); of a compound CRS such as EPSG:7415, its heights.

    Raises:
        CRSError: PROJ does not know it, or it is no vertical CRS.
    """
    hint = 'set [twin] height_system to the vertical CRS of the heights, e.g. "EPSG:7837" (DHHN2016), "EPSG:5709" (NAP)'
    try:
        crs = CRS.from_user_input(height_system)
    except ProjCRSError as exc:
        raise CRSError(f"unknown height system {height_system!r}", hint=hint) from exc
    if crs.is_compound:
        crs = crs.sub_crs_list[-1]
    if not crs.is_vertical:
        raise CRSError(f"height system {height_system!r} is not a vertical CRS", hint=hint)
    return crs


def geoid_undulation(lon: float, lat: float, height_system: str = "EPSG:7837") -> GeoidUndulation:
    """The undulation at ``lon, lat`` (ETRS89) for a vertical CRS (default DHHN2016), through PROJ's grids.

    Each height system has its own grid (DHHN2016: ``de_bkg_gcg2016.tif``, NAP: ``nl_nsgi_nlgeo2018.tif``); the one
    missing is named. PROJ falls back to a "ballpark" operation that ignores the geoid when the grid is not installed;
    that is reported as missing rather than used.

    Raises:
        CRSError: ``height_system`` names no vertical CRS.
    """
    vertical = vertical_crs(height_system)
    label = crs_label(vertical)
    source = CompoundCRS(f"ETRS89 + {vertical.name}", [ETRS89, vertical])
    with warnings.catch_warnings():
        # PROJ warns about the missing grid; the caller reports it with the fix instead.
        warnings.simplefilter("ignore", UserWarning)
        group = TransformerGroup(
            source, CRS.from_epsg(4937), always_xy=True, area_of_interest=AreaOfInterest(lon, lat, lon, lat)
        )
    missing = tuple(sorted({g.short_name for op in group.unavailable_operations for g in op.grids if not g.available}))
    if not group.best_available or not group.transformers:
        return GeoidUndulation(None, "", missing, label)
    best = group.transformers[0]
    if "ballpark" in best.description.lower():
        return GeoidUndulation(None, best.description, missing, label)
    _, _, h = best.transform(lon, lat, 0.0)
    if not np.isfinite(h):  # the grid is there but does not reach this place
        return GeoidUndulation(None, f"{best.description}: no value at {lon:.3f} E {lat:.3f} N", missing, label)
    return GeoidUndulation(float(h), best.description, missing, label)
