"""Bebauungspläne in XPlanGML (4.x, 5.x, 6.x) as a layer: the plan's areas that set a building density.

One plan file holds many feature types (areas, lines, points, texts). The layer keeps the **areas that carry a
building-density value** (GRZ, GFZ, GR, GF, Z, BM, or their ``max`` forms: BP_BaugebietsTeilFlaeche,
BP_UeberbaubareGrundstuecksFlaeche, BP_GemeinbedarfsFlaeche, BP_BesondererNutzungszweckFlaeche, ...) and the plan's
boundary (``BP_Plan``, its Geltungsbereich), normalised into the same columns whatever the version:

- ``plan``: the plan's name and number; ``feature_type``: the XPlanung class; ``source_feature``: its gml:id;
- ``grz``, ``gfz``, ``gr``, ``gf``, ``z``, ``bm``: the value, else its ``max`` form (``z``: full storeys);
- ``gfz_source``: ``plan`` (GFZ or GFZmax given), ``grz_x_z`` (estimated as GRZ x Z: the floor area the plan allows
  at most when every allowed storey covers the allowed footprint) or ``none``;
- ``use``: the type of building area (Art der baulichen Nutzung) by name, e.g. ``allgemeines Wohngebiet (WA)``.

Everything else of the plan (building lines, texts, heights, green and traffic areas ...) is left out, and the load
report says what (by feature type). GDAL's GML driver reads the file (arcs come linearised through pyogrio's
non-Arrow reader); it works on a private copy, so that the schema file (``.gfs``) GDAL writes never lands beside
the user's file and a stale one there is never used.

Example:
    >>> table = read_plan(Path("Rotherbaum27.gml"), LoadOptions(), LayerSettings(), report)  # doctest: +SKIP
    >>> table.attributes.column_names[:4]  # doctest: +SKIP
    ['plan', 'feature_type', 'grz', 'gfz']
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyogrio.raw import read as read_raw

from twin3d.errors import CRSError, InputError
from twin3d.io.crs import parse_crs, reproject
from twin3d.layers.context import LoadOptions
from twin3d.layers.model import LayerStyle
from twin3d.layers.report import LoadReport
from twin3d.layers.vector import SourceTable
from twin3d.settings import LayerSettings

XPLAN_NAMESPACE = re.compile(rb"http://www\.xplanung\.de/xplangml/(\d+)/(\d+)")
"""The XPlanGML namespace on the root element: 4/0, 4/1, 5/0 ... 5/4, 6/0, 6/1."""
PLAN_CLASS = "BP_Plan"
# The value a normalised column takes, in order of preference (a fixed value, else the upper end of a range).
DENSITY: dict[str, tuple[str, ...]] = {
    "grz": ("GRZ", "GRZmax"),
    "gfz": ("GFZ", "GFZmax"),
    "gr": ("GR", "GRmax"),
    "gf": ("GF", "GFmax"),
    "z": ("Z", "Zmax"),
    "bm": ("BM", "BMmax"),
}
DENSITY_FIELDS = frozenset(name for names in DENSITY.values() for name in names)

# Names of the coded type of building area, from the XPlanung code lists XP_AllgArtDerBaulNutzung (Bauflächen,
# FNP level) and XP_BesondereArtDerBaulNutzung (Baugebiete of the BauNVO), as in the Objektartenkatalog XPlanGML
# 5.x/6.0 of the Leitstelle XPlanung (https://xleitstelle.de/xplanung, "XPlanung - Objektartenkatalog", section
# XP_Enumerationen); 1450 (dörfliches Wohngebiet, §5a BauNVO 2021) from 5.4 on. The abbreviation is the BauNVO's.
ALLG_ART: dict[int, str] = {
    1000: "Wohnbaufläche (W)",
    2000: "gemischte Baufläche (M)",
    3000: "gewerbliche Baufläche (G)",
    4000: "Sonderbaufläche (S)",
    9999: "sonstige Baufläche",
}
BESONDERE_ART: dict[int, str] = {
    1000: "Kleinsiedlungsgebiet (WS)",
    1100: "reines Wohngebiet (WR)",
    1200: "allgemeines Wohngebiet (WA)",
    1300: "besonderes Wohngebiet (WB)",
    1400: "Dorfgebiet (MD)",
    1450: "dörfliches Wohngebiet (MDW)",
    1500: "Mischgebiet (MI)",
    1550: "urbanes Gebiet (MU)",
    1600: "Kerngebiet (MK)",
    1700: "Gewerbegebiet (GE)",
    1800: "Industriegebiet (GI)",
    2000: "Sondergebiet, das der Erholung dient (SO)",
    2100: "sonstiges Sondergebiet (SO)",
    3000: "Wochenendhausgebiet",
    4000: "Sondergebiet (SO)",
    9999: "sonstiges Gebiet",
}
# Areas whose use is their class itself, not a coded Art der baulichen Nutzung.
CLASS_USE: dict[str, str] = {
    "BP_GemeinbedarfsFlaeche": "Fläche für den Gemeinbedarf",
    "BP_BesondererNutzungszweckFlaeche": "Fläche mit besonderem Nutzungszweck",
    "BP_SpielSportanlagenFlaeche": "Fläche für Spiel- und Sportanlagen",
}
STYLE = LayerStyle(fill_color="#db2777", line_color="#831843", line_width=1.5, opacity=0.3)
"""Plan areas in the magenta of printed plans, light enough to see the buildings through."""

_POLYGONAL = {3, 6}  # shapely type ids of Polygon and MultiPolygon
_COLUMNS = ("plan", "feature_type", "grz", "gfz", "gfz_source", "gr", "gf", "z", "bm", "use", "source_feature")


def xplan_version(head: bytes) -> str | None:
    """The XPlanGML version (``"5.2"``) named by the namespace in a file's first bytes, or None."""
    found = XPLAN_NAMESPACE.search(head)
    return f"{int(found[1])}.{int(found[2])}" if found else None


def _numbers(names: list[str], fields: list[Any], wanted: str, n: int) -> np.ndarray:
    """A field as float64 (NaN where missing or not a number); all NaN where the layer lacks it."""
    if wanted not in names:
        return np.full(n, np.nan)
    values = np.asarray(fields[names.index(wanted)])
    if values.dtype.kind in "fiu":  # pyogrio gives integer fields with gaps as float with NaN already
        return values.astype(np.float64)
    # Text values (a file whose schema GDAL guessed as strings): parsed one by one, plans are small.
    out = np.full(n, np.nan)
    for i, v in enumerate(values):
        try:
            out[i] = float(str(v).replace(",", ".")) if v is not None else np.nan
        except ValueError:
            out[i] = np.nan
    return out


def _texts(names: list[str], fields: list[Any], wanted: str, n: int) -> np.ndarray:
    if wanted not in names:
        return np.full(n, None, dtype=object)
    return np.array([None if v is None else str(v) for v in fields[names.index(wanted)]], dtype=object)


def _use(feature_type: str, allg: np.ndarray, besondere: np.ndarray) -> np.ndarray:
    """The Art der baulichen Nutzung by name: the Baugebiet, else the Baufläche, else the class's own purpose."""
    out = np.full(len(allg), CLASS_USE.get(feature_type), dtype=object)
    for codes, names in ((allg, ALLG_ART), (besondere, BESONDERE_ART)):  # the Baugebiet is the finer: it wins
        known = np.isfinite(codes)
        out[known] = [names.get(int(c), f"Code {int(c)}") for c in codes[known]]
    return out


def _plan_label(name: str | None, number: str | None, fallback: str) -> str:
    name, number = (name or "").strip(), (number or "").strip()
    if name and number and number not in name:
        return f"{name} (Nr. {number})"
    return name or (f"Nr. {number}" if number else fallback)


class _Reader:
    """One pass over a plan file (a private copy) that collects the layer's rows and what it left out."""

    def __init__(self, path: Path, shown: Path, declared_crs: str | None) -> None:
        self.path, self.shown, self.declared = path, shown, declared_crs
        self.crs: Any = None
        self.geometry: list[np.ndarray] = []
        self.columns: dict[str, list[np.ndarray]] = {c: [] for c in _COLUMNS}
        self.left_out: Counter[str] = Counter()
        self.no_values: Counter[str] = Counter()
        self.kept: Counter[str] = Counter()

    def read(self, layer: str) -> tuple[list[str], list[Any], np.ndarray]:
        """A layer's field names, values and linearised geometries in the plan's CRS."""
        meta, _, wkb, fields = read_raw(self.path, layer=layer)
        crs = parse_crs(self.declared or meta["crs"], file=self.shown) if (self.declared or meta["crs"]) else None
        if crs is None:
            raise CRSError(
                f"the plan's {layer} objects have no CRS", file=self.shown, hint="declare it with --crs EPSG:...."
            )
        geoms = shapely.from_wkb(wkb) if wkb is not None else np.full(len(fields[0]) if fields else 0, None)
        if self.crs is None:
            self.crs = crs
        elif not crs.equals(self.crs):
            geoms = reproject(geoms, crs, self.crs)
        return [str(f) for f in meta["fields"]], list(fields), np.asarray(geoms, dtype=object)

    def add(self, feature_type: str, geoms: np.ndarray, values: dict[str, np.ndarray]) -> None:
        n = len(geoms)
        self.geometry.append(geoms)
        self.kept[feature_type] += n
        for column in _COLUMNS:
            self.columns[column].append(values.get(column, np.full(n, None, dtype=object)))


def _density_rows(reader: _Reader, layer: str, plans: tuple[np.ndarray, np.ndarray]) -> None:
    names, fields, geoms = reader.read(layer)
    n = len(geoms)
    values: dict[str, np.ndarray] = {}
    for column, sources in DENSITY.items():
        found = np.full(n, np.nan)
        for name in sources:
            found = np.where(np.isfinite(found), found, _numbers(names, fields, name, n))
        values[column] = found
    polygonal = np.isin(shapely.get_type_id(geoms), list(_POLYGONAL)) & ~shapely.is_empty(geoms)
    valued = np.column_stack([np.isfinite(v) for v in values.values()]).any(axis=1)
    reader.left_out[layer] += int((valued & ~polygonal).sum())
    if (~valued & polygonal).any():
        reader.no_values[layer] += int((~valued & polygonal).sum())
    keep = valued & polygonal
    if not keep.any():
        return
    given = np.isfinite(values["gfz"])
    estimated = ~given & np.isfinite(values["grz"]) & np.isfinite(values["z"])
    values["gfz"] = np.where(estimated, np.round(values["grz"] * values["z"], 4), values["gfz"])
    source = np.where(given, "plan", np.where(estimated, "grz_x_z", "none")).astype(object)
    use = _use(layer, *(_numbers(names, fields, f, n) for f in ("allgArtDerBaulNutzung", "besondereArtDerBaulNutzung")))
    rows = {k: v[keep] for k, v in values.items()}
    rows.update(
        plan=_plan_of(geoms[keep], plans, reader.shown),
        feature_type=np.full(int(keep.sum()), layer, dtype=object),
        gfz_source=source[keep],
        use=use[keep],
        source_feature=_texts(names, fields, "gml_id", n)[keep],
    )
    reader.add(layer, geoms[keep], rows)


def _plan_of(geoms: np.ndarray, plans: tuple[np.ndarray, np.ndarray], shown: Path) -> np.ndarray:
    """The plan each area belongs to: the one whose boundary holds its inner point (a file may hold several)."""
    boundaries, labels = plans
    if not len(labels):
        return np.full(len(geoms), shown.stem, dtype=object)
    out = np.full(len(geoms), labels[0], dtype=object)
    if len(labels) > 1:
        points = shapely.point_on_surface(geoms)
        inside, plan = shapely.STRtree(boundaries).query(points, predicate="within")
        out[inside] = labels[plan]
    return out


def _layers(path: Path, shown: Path) -> list[tuple[str, str | None, int, list[str]]]:
    """(name, geometry type, features, fields) of every feature type in the plan file."""
    out = []
    for name, geometry_type in pyogrio.list_layers(path):
        info = pyogrio.read_info(path, layer=str(name))
        out.append((str(name), geometry_type, int(info["features"]), [str(f) for f in info["fields"]]))
    if not out:
        raise InputError("the XPlanGML file holds no plan objects", file=shown, hint="export the plan again")
    return out


def read_plan(path: Path, opts: LoadOptions, limits: LayerSettings, report: LoadReport) -> SourceTable:
    """Read a Bebauungsplan's areas with building-density values (see the module docstring).

    Args:
        path: the XPlanGML file.
        opts: the load options (``crs`` overrides the file's).
        limits: ``max_features`` applies to the areas kept.
        report: gets notes on the plan, what was left out, and GFZ values that were estimated.

    Raises:
        InputError: the file is damaged, holds no plan objects, or too many.
        CRSError: the plan has no CRS and none is declared.
    """
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    version = xplan_version(head) or "?"
    with tempfile.TemporaryDirectory(prefix="twin3d-xplan-") as work:
        copy = Path(work) / "plan.gml"
        shutil.copyfile(path, copy)
        try:
            reader = _read_all(copy, path, opts, limits)
        except (DataSourceError, DataLayerError) as exc:
            detail = str(exc).split(";")[-1].strip() or str(exc)
            raise InputError(
                f"cannot be read as XPlanGML: {detail}", file=path, hint="the file may be truncated; export it again"
            ) from exc
    if not sum(len(g) for g in reader.geometry) or reader.crs is None:
        raise InputError(
            "the XPlanGML file holds neither a plan boundary (BP_Plan) nor areas with building-density values",
            file=path,
            hint="the file may be truncated; export the Bebauungsplan again with its Geltungsbereich",
        )
    geometry = np.concatenate(reader.geometry)
    columns = {c: np.concatenate(v) for c, v in reader.columns.items()}
    attributes = pa.table(
        {c: pa.array(columns[c], pa.float64() if c in DENSITY else pa.string(), from_pandas=True) for c in _COLUMNS}
    )
    _notes(report, version, columns, reader)
    types, ids = columns["feature_type"], columns["source_feature"]
    return SourceTable(path, "xplangml", reader.crs, geometry, attributes, lambda i: f"{types[i]} {ids[i]}")


def _read_all(copy: Path, shown: Path, opts: LoadOptions, limits: LayerSettings) -> _Reader:
    reader = _Reader(copy, shown, opts.crs)
    layers = _layers(copy, shown)
    plans: tuple[np.ndarray, np.ndarray] = (np.array([], dtype=object), np.array([], dtype=object))
    if any(name == PLAN_CLASS for name, *_ in layers):
        names, fields, geoms = reader.read(PLAN_CLASS)
        n = len(geoms)
        labels = np.array(
            [
                _plan_label(a, b, shown.stem)
                for a, b in zip(_texts(names, fields, "name", n), _texts(names, fields, "nummer", n), strict=True)
            ],
            dtype=object,
        )
        area = np.isin(shapely.get_type_id(geoms), list(_POLYGONAL))
        plans = (geoms[area], labels[area])
        reader.add(
            PLAN_CLASS,
            geoms[area],
            {
                "plan": labels[area],
                "feature_type": np.full(int(area.sum()), PLAN_CLASS, dtype=object),
                "gfz_source": np.full(int(area.sum()), "none", dtype=object),
                "source_feature": _texts(names, fields, "gml_id", n)[area],
                **{c: np.full(int(area.sum()), np.nan) for c in DENSITY},
            },
        )
    taken = [name for name, geometry_type, _, fields in layers if geometry_type and DENSITY_FIELDS & set(fields)]
    total = sum(count for name, _, count, _ in layers if name in taken)
    if total > limits.max_features:
        raise InputError(
            f"{total:,} plan areas, more than the limit of {limits.max_features:,}",
            file=shown,
            hint="split the plan, or raise TWIN3D_LAYER_MAX_FEATURES",
        )
    for name in taken:
        _density_rows(reader, name, plans)
    for name, _, count, _ in layers:
        if name not in taken and name != PLAN_CLASS:
            reader.left_out[name] += count
    return reader


def _notes(report: LoadReport, version: str, columns: dict[str, np.ndarray], reader: _Reader) -> None:
    plans = sorted({str(p) for p, t in zip(columns["plan"], columns["feature_type"], strict=True) if t == PLAN_CLASS})
    areas = {k: v for k, v in reader.kept.items() if k != PLAN_CLASS}
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(areas.items()))
    report.notes.append(
        f"XPlanGML {version}: plan {', '.join(plans) or '(no BP_Plan)'}; "
        + (f"{sum(areas.values()):,} area(s) with building-density values ({kinds})" if areas else "")
        + (" and " if areas and plans else "")
        + ("the plan's boundary (BP_Plan)" if plans else "")
    )
    if not areas:
        report.notes.append(
            "the plan sets no building density (no GRZ, GFZ, GR, GF, Z or BM on any area): an envelope plan "
            "(building lines and limits only); the layer holds its boundary, and infill uses the default GFZ there"
        )
    estimated = int(np.count_nonzero(columns["gfz_source"] == "grz_x_z"))
    if estimated:
        report.notes.append(f"GFZ estimated as GRZ x Z for {estimated:,} area(s) without a GFZ (gfz_source grz_x_z)")
    if reader.no_values:
        without = ", ".join(f"{k} {v:,}" for k, v in sorted(reader.no_values.items()))
        report.notes.append(f"left out, areas without a density value: {without}")
    if reader.left_out:
        other = ", ".join(f"{k} {v:,}" for k, v in sorted(reader.left_out.items()) if v)
        report.notes.append(f"left out, not areas with density values (lines, points, texts, other areas): {other}")
