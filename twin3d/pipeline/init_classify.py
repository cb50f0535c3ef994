"""What each inspected layer is for a twin, for ``twin3d init``: its source kind and the fields that fill it.

A layer's kind follows from its geometry and its fields (ALKIS names first, since they are fixed by the AdV;
then the names German and English data commonly use), and where that is cheap from its content: a code field must
be unique, a category field filled and repeating, an ALKIS ``objektart`` must hold ``ax_...`` classes, and a
statistics table's key must hold the codes of a district layer.

Example:
    >>> guesses = classify([*inspect_file(Path("geodata/monzel/monzel_alkis.gpkg"))])  # doctest: +SKIP
    >>> [(g.kind, g.settings.get("layer")) for g in guesses]  # doctest: +SKIP
    [('parcels', 'flurstuecke'), ('buildings', 'gebaeude'), ('land_use', 'tatsaechliche_nutzung')]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from twin3d.pipeline.init_inspect import LayerInfo

# Field names by role, tried in this order (whole-name matches, any case).
ID_FIELDS = ("gml_id", "osm_id", "uuid", "objectid", "oid", "fid", "id", "obj_?id", "gid")
NAME_FIELDS = ("name", "bezeichnung", "bez", "gebaeudename", "label", "titel", "title")
HEIGHT_FIELDS = (
    "height", "h(oe|ö)he", "measuredheight", "geb(ae|ä)udeh(oe|ö)he", "objekth(oe|ö)he", "building:height",
    "objekthoeh", "h(oe|ö)he_?m", "bldg_?height", "h_?max", "max_?height",
)  # fmt: skip
LEVELS_FIELDS = (
    "building:levels", "levels", "geschosse", "anzahl_?geschosse", "anzahlderoberirdischengeschosse", "anzahldero",
    "anz_?geschosse", "storeys", "stories", "storeysaboveground", "floors", "num_?floors", "vollgeschosse", "etagen",
)  # fmt: skip
TYPE_FIELDS = (
    "building", "geb(ae|ä)udefunktion", "building_?type", "geb(ae|ä)udeart", "funktion", "nutzung", "type", "typ",
    "art", "use", "fclass", "class", "klasse",
)  # fmt: skip
CATEGORY_FIELDS = (
    "poi_kind", "category", "kategorie", "kind", "fclass", "amenity", "type", "typ", "art", "class", "klasse",
    "nutzung", "funktion",
)  # fmt: skip
CODE_FIELDS = (
    "code", "schl(ue|ü)ssel", "key", "kennziffer", "nr", "nummer", "ags", "ars", "gkz",
    r"\w+_(code|nr|nummer|schl(ue|ü)ssel|key)", "id",
)  # fmt: skip
DISTRICT_NAME_FIELDS = (*NAME_FIELDS, r"\w+_?name", r"\w+_?bezeichnung")
STREET_NAME_FIELDS = ("stra(ss|ß)e_?name", "str_?name", "stra(ss|ß)enname", "street_?name", "stra(ss|ß)e", "street")
STREET_KEY_FIELDS = ("stra(ss|ß)e_?schl(ue|ü)ssel", "stra(ss|ß)enschl(ue|ü)ssel", "strschl", "str_?key", "street_?key")
PATH_CLASS_FIELDS = ("highway", "fclass", "klasse", "class", "type", "typ", "art", "wegart", "strassenklasse")
# Fields worth keeping for the building API when a file has them (besides the type, storeys and height fields).
KEEP_FIELDS = (
    "weiteregebaeudefunktion", "bauweise", "zustand", "dachform", "lagezurerdoberflaeche", "roof:shape",
    "roof:levels", "amenity", "shop", "addr:street", "addr:housenumber", "addr:postcode", "addr:city", "operator",
    "capacity", "wheelchair", "isced:level", "social_facility", "social_facility:for", "street", "housenumber",
    "strasse", "hausnummer", "plz", "postcode",
)  # fmt: skip
# The ALKIS (PostNAS) field names the parcel and land-use sources default to, by setting.
ALKIS_PARCEL_FIELDS = {
    "cadastral_id_field": "flurstueckskennzeichen", "gemarkung_field": "gemarkungsnummer", "flur_field": "flurnummer",
    "numerator_field": "zaehler", "denominator_field": "nenner", "official_area_field": "amtlicheflaeche",
}  # fmt: skip
ALKIS_LAND_USE_FIELDS = {"class_field": "objektart", "function_field": "funktion"}
SHAPEFILE_NAME_LENGTH = 10
BUILDING_LAYER = re.compile(r"(geb(ae|ä)ude|building|bldg|h(ae|ä)user|footprint|grundriss)", re.I)
DISTRICT_LAYER = re.compile(
    r"(bezirk|stadtteil|ortsteil|district|quartier|viertel|stadtbereich|gemeinde|gemarkung|sprengel)", re.I
)
GREEN_LAYER = re.compile(r"(gr(ue|ü)n|park|green)", re.I)
PATH_LAYER = re.compile(r"(weg|stra(ss|ß)e|street|road|path|network|netz|highway)", re.I)
MIN_DISTRICTS = 3  # fewer are no level of a town's districts (a plan's areas, a town's outline)
MAX_DISTRICTS = 5000
MIN_KEY_SHARE = 0.8
CATEGORY_FILLED = 0.9


@dataclass
class Guess:
    """What one layer (or one object type of a NAS or OSM file) becomes in the pipeline definition.

    Attributes:
        layer: the inspected layer.
        kind: a source kind of :mod:`twin3d.pipeline.config` (``parcels``, ``buildings``, ``grid`` ...), or one that
            is no source: ``dem`` (the twin's terrain), ``code_list`` (names of building types) or ``unused``.
        flavour: for buildings ``alkis``, ``osm``, ``footprints`` or ``3d``; for others the format read.
        settings: the source's settings besides name, kind and path, in the order they are written.
        why: per setting (or ``kind``), what it was inferred from, for the comment above it.
        notes: what the user should know (empty fields, values that did not fit).
    """

    layer: LayerInfo
    kind: str
    flavour: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _column(layer: LayerInfo, name: str) -> pa.Array | None:
    if layer.sample is None or name not in layer.sample.column_names:
        return None
    return layer.sample.column(name).combine_chunks()


def filled_share(layer: LayerInfo, name: str) -> float:
    """The share of sampled records where the field has a value (1.0 without a sample to judge by)."""
    column = _column(layer, name)
    if column is None or len(column) == 0:
        return 1.0 if column is None else 0.0
    empty = int(column.null_count)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        empty = int(pc.sum(pc.or_kleene(column.is_null(), pc.equal(pc.utf8_trim_whitespace(column), ""))).as_py() or 0)
    return 1.0 - empty / float(len(column))


def _unique(layer: LayerInfo, name: str) -> bool:
    column = _column(layer, name)
    if column is None:
        return True
    values = column.drop_null()
    return len(values) > 0 and len(pc.unique(values)) == len(values)


def _repeating(layer: LayerInfo, name: str) -> bool:
    column = _column(layer, name)
    return column is None or len(pc.unique(column.drop_null())) < max(2, len(column.drop_null()) // 2)


def _text_values(layer: LayerInfo, name: str) -> list[str]:
    column = _column(layer, name)
    if column is None:
        return []
    return [str(v).strip() for v in pc.cast(column.drop_null(), pa.string()).to_pylist()]


def find_field(
    layer: LayerInfo,
    patterns: Sequence[str],
    *,
    filled: float = 0.0,
    unique: bool = False,
    repeating: bool = False,
    exclude: Sequence[str | None] = (),
) -> str | None:
    """The first field whose whole name matches a pattern (in pattern order, any case) and whose content fits.

    Args:
        layer: the layer.
        patterns: regular expressions, most specific first.
        filled: the least share of sampled records with a value.
        unique: the sampled values must not repeat (ids, codes).
        repeating: the sampled values must repeat (categories).
        exclude: fields already taken for another role.
    """
    for pattern in patterns:
        rx = re.compile(pattern, re.IGNORECASE)
        for name in layer.fields:
            if name in exclude or not rx.fullmatch(name):
                continue
            if filled_share(layer, name) < filled or (unique and not _unique(layer, name)):
                continue
            if repeating and not _repeating(layer, name):
                continue
            return name
    return None


def _has(layer: LayerInfo, *names: str) -> bool:
    lowered = {f.lower() for f in layer.fields}
    return all(n in lowered for n in names)


def _empty_note(layer: LayerInfo, name: str | None, role: str) -> str | None:
    if name is not None and layer.sample is not None and filled_share(layer, name) == 0.0:
        return f"The {role} field {name!r} is empty in all {layer.sample.num_rows:,} records read"
    return None


def _why_field(layer: LayerInfo, name: str) -> str:
    if layer.sample is None:
        return f"The field {name!r}."
    return f"The field {name!r} ({filled_share(layer, name):.0%} of {layer.sample.num_rows:,} records filled)."


def _id(layer: LayerInfo) -> str | None:
    return find_field(layer, ID_FIELDS, filled=1.0, unique=True)


def alkis_field(layer: LayerInfo, name: str) -> str | None:
    """An ALKIS field by its PostNAS name, or by the 10 characters of it a Shapefile keeps (``gebaeudefu``)."""
    lowered = {f.lower(): f for f in layer.fields}
    return lowered.get(name) or lowered.get(name[:SHAPEFILE_NAME_LENGTH])


def _alkis_fields(layer: LayerInfo, guess: Guess, defaults: Mapping[str, str]) -> None:
    """Settings for the ALKIS fields a file names otherwise than the defaults (a Shapefile's truncated names)."""
    for setting, default in defaults.items():
        actual = alkis_field(layer, default)
        if actual is not None and actual != default:
            guess.settings[setting] = actual
            guess.why[setting] = f"ALKIS {default}, as the file names it."


def _alkis_layer(layer: LayerInfo) -> Guess | None:
    if alkis_field(layer, "flurstueckskennzeichen") or (alkis_field(layer, "zaehler") and _has(layer, "flurnummer")):
        guess = Guess(layer, "parcels", "alkis")
        guess.why["kind"] = "ALKIS parcels (Flurstücke): the fields flurstueckskennzeichen, zaehler, nenner"
        _alkis_fields(layer, guess, ALKIS_PARCEL_FIELDS)
        return guess
    objektart = alkis_field(layer, "objektart")
    if objektart and any(v.lower().startswith("ax_") for v in _text_values(layer, objektart)[:50]):
        guess = Guess(layer, "land_use", "alkis")
        guess.why["kind"] = "ALKIS actual land use (tatsächliche Nutzung): objektart holds ax_... classes"
        _alkis_fields(layer, guess, ALKIS_LAND_USE_FIELDS)
        return guess
    if function := alkis_field(layer, "gebaeudefunktion"):
        guess = Guess(layer, "buildings", "alkis")
        guess.why["kind"] = "ALKIS buildings (AX_Gebaeude): the field gebaeudefunktion holds the AdV function codes"
        guess.settings["id_field"] = _id(layer)
        guess.settings["type_field"] = function
        guess.why["type_field"] = "The ALKIS building function (1000 Wohngebäude, 2000 Wirtschaft oder Gewerbe ...)."
        _building_fields(layer, guess)
        guess.settings["source_label"] = "alkis"
        return guess
    return None


def _building_fields(layer: LayerInfo, guess: Guess) -> None:
    """Name, height and storey fields of a building layer, and the fields kept for the API."""
    taken = [guess.settings.get("id_field"), guess.settings.get("type_field")]
    for key, patterns, role in (
        ("name_field", NAME_FIELDS, "name"),
        ("height_field", HEIGHT_FIELDS, "height"),
        ("levels_field", LEVELS_FIELDS, "storeys"),
    ):
        name = find_field(layer, patterns, exclude=taken)
        guess.settings[key] = name
        if name is not None:
            taken.append(name)
            guess.why[key] = _why_field(layer, name)
            if note := _empty_note(layer, name, role):
                guess.why[key] = note + "; kept, so that a later delivery with values is used."
    # The type and storeys as the file has them, then the other fields the API shows; empty fields are left out.
    wanted = [guess.settings.get("type_field"), guess.settings.get("levels_field")]
    wanted += [f for f in layer.fields if f.lower() in KEEP_FIELDS]
    guess.settings["keep_fields"] = [f for f in dict.fromkeys(wanted) if f and filled_share(layer, f) > 0]


def _buildings(layer: LayerInfo) -> Guess | None:
    type_field = find_field(layer, TYPE_FIELDS, filled=0.5, repeating=True)
    height = find_field(layer, HEIGHT_FIELDS)
    levels = find_field(layer, LEVELS_FIELDS)
    named = BUILDING_LAYER.search(layer.layer or layer.path.stem) is not None
    if not (height or levels or named or (type_field and type_field.lower() == "building")):
        return None
    osm = _has(layer, "osm_id") or (type_field or "").lower() == "building"
    guess = Guess(layer, "buildings", "osm" if osm else "footprints")
    hints = [f for f in (height, levels) if f] or ([type_field] if type_field else [])
    guess.why["kind"] = "building footprints: " + (
        f"the field(s) {', '.join(repr(h) for h in hints)}" if hints else f"the name {layer.label!r}"
    )
    guess.settings["id_field"] = _id(layer)
    guess.settings["type_field"] = type_field
    if type_field:
        guess.why["type_field"] = _why_field(layer, type_field)
    _building_fields(layer, guess)
    if osm and guess.settings.get("height_field") is None:
        # OpenStreetMap exports name the height tag "height"; a file without it just has no tagged heights yet.
        guess.settings["height_field"] = "height"
        guess.why["height_field"] = "The OSM tag 'height': not in this export, used once a building has it."
    guess.settings["source_label"] = "osm" if osm else "footprints"
    return guess


def _districts(layer: LayerInfo) -> Guess | None:
    if layer.count is None or not MIN_DISTRICTS <= layer.count <= MAX_DISTRICTS:
        return None
    code = find_field(layer, CODE_FIELDS, filled=1.0, unique=True, exclude=("uuid", "gml_id", "osm_id", "fid"))
    name = find_field(layer, DISTRICT_NAME_FIELDS, filled=0.9, unique=True, exclude=(code,))
    if code is None or name is None:
        return None
    guess = Guess(layer, "districts")
    hint = "; its name says so too" if DISTRICT_LAYER.search(layer.layer or layer.path.stem) else ""
    guess.why["kind"] = f"districts: polygons with a unique code ({code!r}) and a unique name ({name!r}){hint}"
    guess.settings |= {"code_field": code, "name_field": name}
    return guess


def _polygons(layer: LayerInfo) -> Guess:
    guess = _alkis_layer(layer) or _buildings(layer) or _districts(layer)
    if guess is not None:
        return guess
    if GREEN_LAYER.search(layer.layer or layer.path.stem):
        guess = Guess(layer, "greens", "vector")
        guess.why["kind"] = f"green areas: polygons named {layer.label!r}"
        guess.settings |= {
            "id_field": _id(layer),
            "category_field": find_field(layer, CATEGORY_FIELDS, filled=0.5),
            "name_field": find_field(layer, NAME_FIELDS),
        }
        return guess
    return _unused(layer, "polygons without ALKIS, building (height, storeys) or district (code and name) fields")


def _points(layer: LayerInfo) -> Guess:
    category = find_field(layer, CATEGORY_FIELDS, filled=CATEGORY_FILLED, repeating=True)
    if category is None:
        return _unused(layer, "points without a category field (poi_kind, category, kategorie, fclass, amenity ...)")
    guess = Guess(layer, "facilities", "vector")
    guess.why["kind"] = f"facilities: points with a category ({category!r}, {filled_share(layer, category):.0%} filled)"
    guess.settings["id_field"] = _id(layer)
    guess.settings["category_field"] = category
    guess.settings["name_field"] = find_field(layer, NAME_FIELDS)
    keep = [f for f in layer.fields if f.lower() in KEEP_FIELDS and filled_share(layer, f) > 0]
    guess.settings["keep_fields"] = keep
    return guess


def _lines(layer: LayerInfo) -> Guess:
    street = find_field(layer, STREET_NAME_FIELDS, filled=0.5)
    key = find_field(layer, STREET_KEY_FIELDS)
    if street is not None or key is not None:
        guess = Guess(layer, "streets", "vector")
        guess.why["kind"] = "street axes: " + " and ".join(
            f"the {what} field {name!r}" for what, name in (("street name", street), ("street key", key)) if name
        )
        guess.settings["name_field"] = street or find_field(layer, NAME_FIELDS) or key
        guess.settings["id_field"] = _id(layer)
        guess.settings["key_field"] = key
        return guess
    klass = find_field(layer, PATH_CLASS_FIELDS, filled=0.5, repeating=True)
    name = find_field(layer, NAME_FIELDS)
    if klass is None and name is None and not PATH_LAYER.search(layer.layer or layer.path.stem):
        return _unused(layer, "lines without a class (highway, fclass, klasse) or a name")
    guess = Guess(layer, "paths", "vector")
    guess.why["kind"] = "a path network: lines" + (f" with the class field {klass!r}" if klass else "")
    guess.settings |= {"id_field": _id(layer), "class_field": klass, "name_field": name}
    return guess


def _unused(layer: LayerInfo, why: str) -> Guess:
    guess = Guess(layer, "unused")
    guess.why["kind"] = why
    return guess


def _nas(layer: LayerInfo) -> list[Guess]:
    guesses = []
    objects: dict[str, int] = dict(layer.details.get("objects", {}))
    for kind in ("parcels", "buildings", "land_use"):
        if objects.get(kind):
            guess = Guess(layer, kind, "alkis")
            guess.settings["format"] = "nas"
            guess.why["kind"] = f"ALKIS {kind.replace('_', ' ')} in NAS XML ({objects[kind]:,} objects)"
            if kind == "buildings":
                guess.settings |= {"id_field": "gml_id", "type_field": "gebaeudefunktion", "name_field": "name"}
                guess.settings |= {"levels_field": "anzahlderoberirdischengeschosse", "height_field": "objekthoehe"}
                guess.settings["source_label"] = "alkis"
            guesses.append(guess)
    return guesses


def _osm(layer: LayerInfo) -> list[Guess]:
    counts: dict[str, int] = dict(layer.details.get("counts", {}))
    known = bool(counts)
    out = []
    if not known or counts.get("building"):
        guess = Guess(layer, "buildings", "osm")
        guess.settings |= {"format": "osm", "id_field": "osm_id", "type_field": "building", "name_field": "name"}
        guess.settings |= {"height_field": "height", "levels_field": "building:levels", "source_label": "osm"}
        guess.settings["keep_fields"] = ["building", "building:levels", "roof:shape", "roof:levels", "amenity", "shop"]
        guess.why["kind"] = "OSM buildings" + (f" ({counts['building']:,} objects tagged building)" if known else "")
        out.append(guess)
    if not known or any(counts.get(k) for k in ("amenity", "leisure", "shop", "public_transport")):
        guess = Guess(layer, "facilities", "osm")
        guess.settings |= {"format": "osm", "id_field": "osm_id", "category_field": "poi_kind", "name_field": "name"}
        guess.why["kind"] = "OSM points of interest (amenity, leisure, shop, public transport, healthcare)"
        out.append(guess)
    if not known or any(counts.get(k) for k in ("leisure", "landuse")):
        guess = Guess(layer, "greens", "osm")
        guess.settings["format"] = "osm"
        guess.why["kind"] = "OSM public green areas (parks, gardens, playgrounds)"
        out.append(guess)
    if not known or counts.get("highway"):
        guess = Guess(layer, "paths", "osm")
        guess.settings |= {"format": "osm", "id_field": "osm_id", "class_field": "highway", "name_field": "name"}
        guess.why["kind"] = "OSM streets and footpaths" + (f" ({counts['highway']:,} highway objects)" if known else "")
        out.append(guess)
    return out


def code_list(layer: LayerInfo) -> bool:
    """A table of codes and their names (two or three columns: a unique short code, then a text)."""
    sample = layer.sample
    if sample is None or not 2 <= sample.num_columns <= 3 or sample.num_rows < 2:
        return False
    codes = _text_values(layer, sample.column_names[0])
    names = _text_values(layer, sample.column_names[1])
    if len(codes) != sample.num_rows or len(set(codes)) != len(codes):
        return False
    short = all(re.fullmatch(r"[\w.-]{1,12}", c) for c in codes)
    texts = sum(not re.fullmatch(r"-?[\d.,]+", n) for n in names)
    return short and texts >= 0.9 * len(names)


def _normalised(values: Sequence[str]) -> set[str]:
    return {v.strip().lstrip("0") or "0" for v in values if v.strip()}


def district_key(table: LayerInfo, districts: Sequence[Guess]) -> tuple[Guess, str, float] | None:
    """The district layer whose codes a table's column holds: (district guess, key column, share matched)."""
    best: tuple[Guess, str, float] | None = None
    for district in districts:
        codes = _normalised(_text_values(district.layer, district.settings["code_field"]))
        for column in table.fields:
            values = _normalised(_text_values(table, column))
            if len(values) < 2 or not codes:
                continue
            share = len(values & codes) / len(values)
            if share >= MIN_KEY_SHARE and (best is None or share > best[2]):
                best = (district, column, share)
    return best


def _whole_file(layer: LayerInfo) -> Guess:
    """A file that is one thing: 3D buildings, a census grid, a DEM, or a table (judged once districts are known)."""
    if layer.format in {"citygml", "cityjson"}:
        guess = Guess(layer, "buildings", "3d")
        guess.settings |= {"format": layer.format, "source_label": layer.format}
        n = layer.count or 0
        guess.why["kind"] = f"3D buildings ({layer.driver}, {n:,} building{'s' * (n != 1)}, measured heights)"
    elif layer.format == "grid":
        guess = Guess(layer, "grid", str(layer.details["layout"]))
        guess.why["kind"] = f"a census grid ({layer.driver}, {layer.details['resolution_m']:g} m cells)"
    elif layer.format == "raster":
        guess = Guess(layer, "dem", "raster")
        guess.why["kind"] = f"terrain heights (one band, {layer.details['pixel'][0]:g} m pixels)"
    else:
        guess = Guess(layer, "table")
    return guess


def _guesses(layer: LayerInfo) -> list[Guess]:
    """What one layer is (a NAS file or an OSM extract holds several kinds)."""
    if layer.format == "nas":
        return _nas(layer)
    if layer.format == "osm":
        return _osm(layer)
    if layer.format != "vector":
        return [_whole_file(layer)]
    family = {"polygon": _polygons, "point": _points, "line": _lines}.get(layer.geometry)
    if family is None:
        return [_unused(layer, f"{layer.geometry} geometry" if layer.geometry != "none" else "no geometry")]
    return [family(layer)]


def classify(layers: Sequence[LayerInfo]) -> list[Guess]:
    """The kind of every layer; tables are judged after the district layers their keys refer to.

    Returns:
        One guess per layer (several for a NAS file or an OSM extract), in the order of ``layers``; a table that
        is neither a census grid, a code list nor matches a district layer comes back as ``unused``.
    """
    guesses = [guess for layer in layers for guess in _guesses(layer)]
    districts = [g for g in guesses if g.kind == "districts"]
    for guess in guesses:
        if guess.kind != "table":
            continue
        if code_list(guess.layer):
            guess.kind = "code_list"
            guess.why["kind"] = f"a code list ({guess.layer.fields[0]!r} -> {guess.layer.fields[1]!r})"
        elif (match := district_key(guess.layer, districts)) is not None:
            district, key, share = match
            guess.kind = "district_stats"
            guess.settings |= {"level_of": district, "key_field": key}
            guess.why["kind"] = (
                f"district statistics: {key!r} holds the codes of {district.layer.label} ({share:.0%} matched)"
            )
        else:
            guess.kind = "unused"
            guess.why["kind"] = (
                "a CSV table that is no census grid (GRD_ID, GITTER_ID_...), no code list (code, name) and whose "
                "columns hold no district codes of the given district layers"
            )
    return guesses
