"""Cadastre sources: parcels and actual land use (ALKIS NAS or open-data exports), and code lists.

The readers here turn one file into store-ready Arrow tables; what depends on the buildings (built-up share GRZ,
floor area ratio GFZ, the building <-> parcel relation, each parcel's main land use) is derived in the store once
the buildings are loaded (:meth:`twin3d.store.writer.StoreWriter.derive_parcels`).
"""

from __future__ import annotations

import csv
import os
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pydantic import BaseModel, ConfigDict, Field

from twin3d.errors import InputError
from twin3d.io.alkis import LAND_USE_CLASSES, CadastreKind, postnas_text, read_nas
from twin3d.io.surfaces import SkipLog
from twin3d.io.vector import FeatureTable, read_vector
from twin3d.pipeline.config import BuildingsSource, FacilitiesSource, LandUseSource, ParcelsSource, PipelineConfig
from twin3d.pipeline.report import SourceSummary
from twin3d.pipeline.sources import StepContext, checked, geometry_columns, id_column, report_skipped, text_column
from twin3d.pipeline.validate import POLYGONAL
from twin3d.tomlfile import load_toml_model

MIN_PARCEL_AREA_M2 = 0.01


def read_cadastre(
    src: ParcelsSource | LandUseSource, file: Path, ctx: StepContext, summary: SourceSummary, kind: CadastreKind
) -> FeatureTable:
    """A NAS file's objects of ``kind``, or a vector file (its ``layer``); NAS objects left out are reported."""
    if src.format == "nas":
        skipped = SkipLog()
        table = read_nas(file, ctx.crs, kind, declared_crs=src.crs, skipped=skipped)
        report_skipped(ctx, summary, skipped)
        return table
    return read_vector(file, ctx.crs, declared_crs=src.crs, layer=src.layer)


def _field(src: ParcelsSource | LandUseSource, attribute: str, table: FeatureTable) -> str | None:
    """The field a source names for ``attribute``: an ALKIS default the file lacks is no field (a field named in the
    pipeline that the file lacks is an error, raised where it is read)."""
    name: str | None = getattr(src, attribute)
    if name is not None and attribute not in src.model_fields_set and name not in table.attributes.column_names:
        return None
    return name


def _numbers(table: FeatureTable, field: str | None, n: int) -> pa.Array:
    if field is None:
        return pa.nulls(n, pa.float64())
    text = pc.utf8_trim_whitespace(pc.cast(table.column(field), pa.string()).combine_chunks())
    return pc.cast(pc.replace_substring(text, ",", "."), pa.float64(), safe=False)


def _number(numerator: pa.Array, denominator: pa.Array) -> pa.Array:
    """Flurstücksnummer as written: ``85`` or ``6/2`` (leading zeros of NAS keys dropped)."""
    z = pc.utf8_ltrim(pc.utf8_trim_whitespace(numerator), characters="0")
    d = pc.utf8_ltrim(pc.utf8_trim_whitespace(denominator), characters="0")
    with_d = pc.binary_join_element_wise(z, d, "/")
    has_d = pc.and_(pc.is_valid(d), pc.not_equal(pc.fill_null(d, ""), ""))
    return pc.if_else(has_d, with_d, z)


def parcels_table(src: ParcelsSource, file: Path, ctx: StepContext, summary: SourceSummary) -> pa.Table:
    """Parcels with their key, the parts of their name (Gemarkung, Flur, number), a label in German for API clients
    (viewers build theirs from the parts, in their reader's language), and their official and geometric area."""
    table = read_cadastre(src, file, ctx, summary, "parcels")
    ids = id_column(table, _field(src, "id_field", table), f"{src.name}-")
    kept, kept_ids, _ = checked(ctx, summary, table, POLYGONAL, ids, min_area=MIN_PARCEL_AREA_M2)
    n = len(kept)
    gemarkung = text_column(kept, _field(src, "gemarkung_field", kept), n)
    flur = pc.utf8_ltrim(text_column(kept, _field(src, "flur_field", kept), n), characters="0")
    numerator = text_column(kept, _field(src, "numerator_field", kept), n)
    number = _number(numerator, text_column(kept, _field(src, "denominator_field", kept), n))
    cadastral = text_column(kept, _field(src, "cadastral_id_field", kept), n)
    place = (
        pc.binary_join_element_wise(pa.array([f"Gemarkung {src.gemarkung_name} ("] * n), gemarkung, ")", "")
        if src.gemarkung_name
        else pc.binary_join_element_wise(pa.array(["Gemarkung "] * n), gemarkung, "")
    )
    # A null part (no such field) is left out of the label; binary_join of a null is null.
    parts = [
        place,
        pc.binary_join_element_wise(pa.array(["Flur "] * n), flur, ""),
        pc.binary_join_element_wise(pa.array(["Flurstück "] * n), number, ""),
    ]
    label = pc.binary_join_element_wise(*parts, ", ", null_handling="skip")
    label = pc.if_else(pc.equal(label, ""), pc.coalesce(cadastral, kept_ids), label)
    return pa.table(
        {
            "parcel_id": kept_ids,
            "cadastral_id": cadastral,
            "gemarkung": gemarkung,
            "gemarkung_name": pa.array([src.gemarkung_name] * n, pa.string()),
            "flur": flur,
            "number": number,
            "label": label,
            "official_area_m2": _numbers(kept, _field(src, "official_area_field", kept), n),
            "area_m2": pa.array(shapely.area(kept.geometry), pa.float64()),
            "source": pa.array([src.name] * n, pa.string()),
            **geometry_columns(kept.geometry, ctx.crs),
        }
    )


def land_use_table(src: LandUseSource, file: Path, ctx: StepContext, summary: SourceSummary) -> pa.Table:
    """Land-use polygons with their class, the class's name (ALKIS classes by their German and English names)."""
    table = read_cadastre(src, file, ctx, summary, "land_use")
    ids = id_column(table, _field(src, "id_field", table), f"{src.name}-")
    kept, kept_ids, _ = checked(ctx, summary, table, POLYGONAL, ids, min_area=MIN_PARCEL_AREA_M2)
    n = len(kept)
    classes = pc.utf8_lower(pc.fill_null(text_column(kept, src.class_field, n), "unknown"))
    known = LAND_USE_CLASSES
    values = classes.to_numpy(zero_copy_only=False).astype(object)
    unique, inverse = np.unique(values, return_inverse=True)
    names = np.array([known.get(c, (c, None, None))[0] for c in unique], dtype=object)[inverse]
    names_en = np.array([known.get(c, (None, None, None))[1] for c in unique], dtype=object)[inverse]
    groups = np.array([known.get(c, (None, None, None))[2] for c in unique], dtype=object)[inverse]
    return pa.table(
        {
            "land_use_id": kept_ids,
            "land_use_class": classes,
            "name": pa.array(names, pa.string()),
            "name_en": pa.array(names_en, pa.string()),
            "land_use_group": pa.array(groups, pa.string()),
            "function": text_column(kept, _field(src, "function_field", kept), n),
            "label": postnas_text(text_column(kept, _field(src, "name_field", kept), n)),
            "area_m2": pa.array(shapely.area(kept.geometry), pa.float64()),
            "source": pa.array([src.name] * n, pa.string()),
            **geometry_columns(kept.geometry, ctx.crs),
        }
    )


def type_names_table(src: BuildingsSource, base: Path) -> pa.Table | None:
    """The source's code list (CSV: code, name in its first two columns, a header row) as ``type_names`` rows.

    Raises:
        InputError: the file is missing, empty, or a row lacks a code or a name.
    """
    if src.type_names is None:
        return None
    path = Path(os.path.normpath(base / src.type_names))
    if not path.is_file():
        raise InputError("code list not found", file=path, hint=f"check type_names of source {src.name!r}")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    codes, names = [], []
    for i, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise InputError(
                "a code list row needs a code and a name", file=path, record=f"line {i}", hint="columns: code,name"
            )
        codes.append(row[0].strip())
        names.append(row[1].strip())
    if not codes:
        raise InputError("the code list holds no codes", file=path, hint="columns: code,name, one header row")
    if len(set(codes)) != len(codes):
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        raise InputError(f"codes repeated: {', '.join(repeated[:5])}", file=path, hint="one row per code")
    return pa.table(
        {
            "domain": pa.array(["building_type"] * len(codes), pa.string()),
            "code": pa.array(codes, pa.string()),
            "name": pa.array(names, pa.string()),
            "name_en": pa.nulls(len(codes), pa.string()),
            "source": pa.array([path.name] * len(codes), pa.string()),
        }
    )


# ----------------------------------------------------------------------------------------------------------------
# Names of OpenStreetMap values (osm_names.toml beside this module), for twins whose buildings or facilities come
# from OSM: one list, loaded into each such twin's type_names, from where the API names what it shows.

OSM_NAMES_FILE = Path(__file__).with_name("osm_names.toml")
# The file's tables and the type_names domain of each.
OSM_DOMAINS = {"building": "building_type", "facility": "facility_category"}


class _Name(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    de: str = Field(min_length=1)
    en: str = Field(min_length=1)


class OsmNames(BaseModel):
    """The shipped names of OSM values: ``building`` values and facility categories (``key=value``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str
    building: dict[str, _Name]
    facility: dict[str, _Name]


@cache
def osm_names() -> OsmNames:
    """The names in ``osm_names.toml`` (read once)."""
    return load_toml_model(OSM_NAMES_FILE, OsmNames, what="OSM names list")


def osm_names_table(section: str) -> pa.Table:
    """One table of ``osm_names.toml`` (``building`` or ``facility``) as ``type_names`` rows."""
    names: dict[str, _Name] = getattr(osm_names(), section)
    n = len(names)
    return pa.table(
        {
            "domain": pa.array([OSM_DOMAINS[section]] * n, pa.string()),
            "code": pa.array(list(names), pa.string()),
            "name": pa.array([v.de for v in names.values()], pa.string()),
            "name_en": pa.array([v.en for v in names.values()], pa.string()),
            "source": pa.array([OSM_NAMES_FILE.name] * n, pa.string()),
        }
    )


def _from_osm(src: BuildingsSource) -> bool:
    return src.format == "osm" or src.source_label == "osm"


def twin_type_names(cfg: PipelineConfig, code_lists: list[pa.Table]) -> list[pa.Table]:
    """All names of a twin's coded values: the sources' code lists (:func:`type_names_table`), then the OSM names of
    building values where buildings come from OSM (format or source_label ``osm``) and of facility categories where
    the twin has facilities. One row per (domain, code): a code list names its codes before the OSM list does.
    """
    tables = list(code_lists)
    if any(isinstance(s, BuildingsSource) and _from_osm(s) for s in cfg.sources):
        tables.append(osm_names_table("building"))
    if any(isinstance(s, FacilitiesSource) for s in cfg.sources):
        tables.append(osm_names_table("facility"))
    if not tables:
        return []
    merged = pa.concat_tables(tables)
    keys = pc.binary_join_element_wise(merged["domain"], merged["code"], "\x00").to_numpy(zero_copy_only=False)
    _, first = np.unique(keys.astype(object), return_index=True)
    return [merged.take(pa.array(np.sort(first)))]
