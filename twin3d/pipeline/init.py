"""``twin3d init NAME FILE...``: a commented pipeline definition from the files a GIS team has.

The files are inspected (:mod:`twin3d.pipeline.init_inspect`), each layer's kind and fields inferred
(:mod:`twin3d.pipeline.init_classify`), and a ``pipelines/NAME.toml`` composed that builds as it is: what cannot be
inferred (the title, the ground height without a DEM, the year of a table named without one) is written as a
sensible default with a ``TODO`` comment and returned as a question. Nothing here writes a file; the CLI does.

Example:
    >>> files = [Path("geodata/monzel/monzel_alkis.gpkg")]
    >>> result = init_pipeline("monzel", files, Path("pipelines"))  # doctest: +SKIP
    >>> [q.key for q in result.questions]  # doctest: +SKIP
    ['title', 'ground_height', 'geoid_undulation', 'flurstuecke.gemarkung_name']
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from pyproj import CRS

from twin3d.errors import ConfigError, ConflictError, InputError
from twin3d.io.crs import geoid_undulation, grid_fix, transform_points
from twin3d.pipeline.config import TWIN_NAME_PATTERN, PipelineConfig
from twin3d.pipeline.init_classify import Guess, classify, code_list
from twin3d.pipeline.init_inspect import KNOWN_FORMATS, LayerInfo, inspect_file
from twin3d.pipeline.init_sections import Plan, Question, Sections, few, path_text, twin_attribution
from twin3d.pipeline.init_toml import TomlText

KNOWN_KINDS = (
    "ALKIS parcels, land use and buildings; building footprints (height, storeys or building fields); 3D buildings "
    "(CityGML, CityJSON); districts (a code and a name); facilities (points with a category); streets and paths "
    "(lines with a name or class); census grids; district statistics (a key holding district codes); code lists; "
    "a DEM; OpenStreetMap extracts"
)
DEFAULT_GROUND_M = 100.0
# Quasigeoid heights above GRS80 (GCG2016, read off published maps, about +-1 m) that the twins of this repository
# use (lon, lat, metres: Monzel, Lauf, Rostock, Duisburg, the NRW test tile); the plane fitted to them (residuals
# up to 1.2 m) gives a rough value for Germany when PROJ lacks the grid.
GEOID_ANCHORS = ((6.96, 49.92, 47.6), (11.28, 49.51, 47.8), (12.13, 54.09, 39.0), (6.7, 51.5, 46.9), (6.5, 51.7, 46.8))
GEOID_RANGE_M = (36.0, 51.0)  # what the German quasigeoid spans, roughly: the plane is clamped to it
_BUILDING_RANK = {"3d": 0, "alkis": 1, "footprints": 2, "osm": 3}


@dataclass(frozen=True)
class InitResult:
    """A composed pipeline definition.

    Attributes:
        name: the twin's name.
        text: the TOML text; it validates with :func:`~twin3d.pipeline.config.load_pipeline`.
        questions: what the text holds as a default with a TODO.
        notes: what the user should know (files or layers not used and why, empty fields).
        roles: per inspected layer, what became of it (a source's name and kind, ``not used: ...``).
    """

    name: str
    text: str
    questions: list[Question]
    notes: list[str]
    roles: list[tuple[LayerInfo, str]]


def approximate_undulation(lon: float, lat: float) -> float:
    """A rough quasigeoid height for a place in Germany (about 47 m in the south-west to 39 m in the north-east).

    The plane fitted to :data:`GEOID_ANCHORS`, clamped to :data:`GEOID_RANGE_M`; good to a few metres in Germany.
    """
    a = np.array([[1.0, lo, la] for lo, la, _ in GEOID_ANCHORS])
    coef = np.linalg.lstsq(a, np.array([h for _, _, h in GEOID_ANCHORS]), rcond=None)[0]
    value = float(coef[0] + coef[1] * lon + coef[2] * lat)
    return round(min(max(value, GEOID_RANGE_M[0]), GEOID_RANGE_M[1]), 1)


def utm_crs(lon: float, lat: float) -> str:
    """The ETRS89 / UTM zone of a place in Europe (EPSG:25832 west of 12° E in Germany, 25833 east), else WGS 84's."""
    zone = int((lon + 180.0) // 6.0) + 1
    if 28 <= zone <= 38 and 34.0 <= lat <= 72.0:
        return f"EPSG:{25800 + zone}"
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def crs_text(crs: CRS) -> str:
    """``EPSG:25832`` where the CRS has a code, else its WKT."""
    code = crs.to_authority()
    return f"{code[0]}:{code[1]}" if code else crs.to_wkt()


def check_name(name: str) -> None:
    """Refuse a name that is no twin name (it becomes a file name and the twin's id).

    Raises:
        ConfigError: not lower-case letters, digits, '-' and '_' (up to 64).
    """
    if not re.match(TWIN_NAME_PATTERN, name):
        raise ConfigError(f"{name!r} is not a twin name", hint="use lower-case letters, digits, '-' and '_'")


def target_file(folder: Path, name: str, *, force: bool = False) -> Path:
    """The file ``twin3d init`` writes, ``folder/NAME.toml``; an existing one only with ``force``.

    Raises:
        ConfigError: ``name`` is no twin name.
        ConflictError: the file exists and ``force`` is not set.
    """
    check_name(name)
    target = folder / f"{name}.toml"
    if target.exists() and not force:
        raise ConflictError(
            "a pipeline definition of this name exists; nothing written",
            file=target,
            hint="choose another name, write elsewhere with --output DIR, or overwrite it with --force",
        )
    return target


def inspect_files(files: Sequence[Path]) -> list[LayerInfo]:
    """Inspect every file (see :func:`~twin3d.pipeline.init_inspect.inspect_file`).

    Raises:
        InputError: a file is missing, unreadable or of an unknown format (named, with the known formats).
    """
    if not files:
        raise ConfigError("name at least one file", hint=f"known: {KNOWN_FORMATS}")
    return [layer for path in files for layer in inspect_file(Path(path))]


def _check_files_used(guesses: Sequence[Guess]) -> None:
    by_file: dict[Path, list[Guess]] = {}
    for guess in guesses:
        by_file.setdefault(guess.layer.path, []).append(guess)
    for path, found in by_file.items():
        if all(g.kind == "unused" for g in found):
            why = "; ".join(dict.fromkeys(f"{g.layer.label}: {g.why['kind']}" for g in found))
            raise InputError(f"nothing twin3d can use in it ({why})", file=path, hint=f"twin3d reads: {KNOWN_KINDS}")


def _union(boxes: Sequence[tuple[float, float, float, float] | None]) -> tuple[float, float, float, float] | None:
    found = np.array([b for b in boxes if b is not None])
    if not len(found):
        return None
    return float(found[:, 0].min()), float(found[:, 1].min()), float(found[:, 2].max()), float(found[:, 3].max())


def _overlaps(a: tuple[float, ...], b: tuple[float, ...], margin: float = 0.02) -> bool:
    return a[0] - margin <= b[2] and b[0] - margin <= a[2] and a[1] - margin <= b[3] and b[1] - margin <= a[3]


def _choose_crs(plan: Plan, used: Sequence[Guess], lonlat: tuple[float, float, float, float]) -> tuple[str, str]:
    """The twin's CRS and why: the files' projected ETRS89 CRS, else the UTM zone of their centre."""
    weights: Counter[str] = Counter()
    for guess in used:
        crs = guess.layer.crs
        if crs is not None and crs.is_projected and guess.kind not in {"grid", "dem"}:
            weights[crs_text(crs)] += 1
    lon, lat = (lonlat[0] + lonlat[2]) / 2, (lonlat[1] + lonlat[3]) / 2
    utm = utm_crs(lon, lat)
    if weights:
        best, n = weights.most_common(1)[0]
        if "ETRS89" in (CRS.from_user_input(best).geodetic_crs or CRS.from_epsg(4326)).name:
            return best, f"The files' projected CRS ({best}, {n} of {sum(weights.values())} projected layers)."
        plan.notes.append(f"the files are in {best}, not on ETRS89: the twin works in {utm}, the files are reprojected")
    return utm, f"The ETRS89 / UTM zone of the files' centre ({lon:.2f} E, {lat:.2f} N); they are reprojected to it."


def _pick_buildings(plan: Plan, guesses: list[Guess]) -> None:
    """One family of buildings (3D > ALKIS > footprints > OSM): overlapping families would double every house."""
    buildings = [g for g in guesses if g.kind == "buildings"]
    if not buildings:
        return

    def rank(guess: Guess) -> tuple[int, bool]:
        return _BUILDING_RANK[guess.flavour], guess.settings.get("format") == "osm"  # a file of its own before OSM's

    best = min(buildings, key=rank)
    for guess in buildings:
        if rank(guess) != rank(best):
            guess.kind = "alternative"
            plan.notes.append(
                f"{guess.layer.label}: its buildings are written commented out, {best.layer.label} is used "
                "(3D > ALKIS > footprints > OSM; both would hold the same houses)"
            )
    for kind in ("facilities", "paths", "greens"):
        # An OSM extract's POIs, paths or greens only where no file of their own gives them.
        own = [g for g in guesses if g.kind == kind and g.flavour != "osm"]
        for guess in guesses:
            if own and guess.kind == kind and guess.flavour == "osm":
                guess.kind = "skipped"
                plan.notes.append(f"{guess.layer.label}: OSM {kind} not used, {own[0].layer.label} gives them")


def _code_list_for(plan: Plan, guesses: list[Guess], buildings: Guess) -> LayerInfo | None:
    """The ALKIS function code list: one given among the files, else one lying beside the buildings' file."""
    given = next((g for g in guesses if g.kind == "code_list"), None)
    if given is not None:
        given.kind = "used_code_list"
        return given.layer
    for candidate in sorted(buildings.layer.path.parent.glob("*.csv")):
        if not re.search(r"(gebaeudefunktion|building_?function|funktion.*code|codes?)", candidate.name, re.I):
            continue
        try:
            layer = inspect_file(candidate)[0]
        except InputError:
            continue
        if code_list(layer):
            plan.notes.append(f"{buildings.layer.label}: building functions named by {candidate.name} (beside it)")
            return layer
    return None


def _dem(plan: Plan, guesses: list[Guess], lonlat: tuple[float, ...]) -> Guess | None:
    """The first DEM that covers the other files; the rest are noted."""
    chosen = None
    for guess in guesses:
        if guess.kind != "dem":
            continue
        box = guess.layer.lonlat_bounds()
        covers = box is None or _overlaps(box, lonlat, 0.0)
        if covers and chosen is None:
            chosen = guess
            continue
        guess.kind = "skipped"
        why = "another DEM is used" if covers else "it does not cover the other files"
        plan.notes.append(f"{guess.layer.label}: not used as the twin's terrain, {why}")
    return chosen


def _ground_from_dem(dem: Guess, crs: CRS, lonlat: tuple[float, float, float, float]) -> float | None:
    from twin3d.io.raster import read_dem  # noqa: PLC0415  (rasterio only with a DEM)

    xs, ys = transform_points(np.array([lonlat[0], lonlat[2]]), np.array([lonlat[1], lonlat[3]]), CRS(4326), crs)
    try:
        terrain = read_dem(dem.layer.path, bounds=(xs[0], ys[0], xs[1], ys[1]), bounds_crs=crs)
    except InputError:
        return None
    values = terrain.values[np.isfinite(terrain.values)]
    return round(float(np.median(values)), 1) if len(values) else None


def _twin_section(
    plan: Plan, doc: TomlText, used: list[Guess], crs: tuple[str, str], lonlat: tuple[float, float, float, float]
) -> Guess | None:
    twin_crs = CRS.from_user_input(crs[0])
    doc.table("[twin]")
    doc.set("name", plan.name)
    title, given = plan.ask("title", "The twin's title, shown in the viewer", plan.name.replace("_", " ").title())
    doc.set("title", title, todo=None if given else "the title the viewer shows (from the twin's name)")
    doc.comment('description = ""  (a sentence about the twin, shown in the viewer)')
    doc.comment(
        'title_en = "", description_en = "" and attribution_en = [...]  (the title, the sentence and each '
        "attribution line in English, for the English viewer; without them it shows the German ones)",
        todo=True,
    )
    doc.set("crs", crs[0], crs[1])
    dem = _dem(plan, used, lonlat)
    ground = _ground_from_dem(dem, twin_crs, lonlat) if dem is not None else None
    z_mins = [float(g.layer.details["z_min"]) for g in used if g.kind == "buildings" and g.layer.details.get("z_min")]
    if ground is not None and dem is not None:
        why = f"The DEM's median height over the twin ({dem.layer.path.name}); buildings stand on the DEM itself."
        doc.set("ground_height", ground, why)
    else:
        default = round(float(np.median(z_mins)), 1) if z_mins else DEFAULT_GROUND_M
        text = "Ground height of the town, m above NHN (DHHN2016)"
        value, given = plan.ask("ground_height", text, f"{default:g}")
        why = "from the lowest points of the 3D buildings, approximate" if z_mins else "a placeholder"
        todo = (
            None
            if given
            else (
                f"the town's ground, m above NHN ({why}). Without a DEM every building stands on this one height; "
                'add a DEM (a GeoTIFF, e.g. the Land\'s DGM1) to twin3d init, or set dem = "..." here.'
            )
        )
        doc.set("ground_height", _number(value, "ground_height"), todo=todo)
    if dem is not None:
        dem_crs = None if dem.layer.crs is not None else crs[0]
        doc.set("dem", path_text(dem.layer.path, plan.output_dir), "Terrain: " + dem.why["kind"] + ".")
        if dem_crs:
            doc.set("dem_crs", dem_crs, todo="the DEM names no CRS; the twin's is assumed")
    lon, lat = (lonlat[0] + lonlat[2]) / 2, (lonlat[1] + lonlat[3]) / 2
    undulation = geoid_undulation(lon, lat)
    if undulation.value is not None:
        doc.set("geoid_undulation", round(undulation.value, 2), f"From PROJ: {undulation.method}.")
        doc.set("geoid_source", f"{undulation.method} at {lat:.2f} N {lon:.2f} E")
    else:
        text = "Quasigeoid height above GRS80 at the town, m (GCG2016)"
        value, given = plan.ask("geoid_undulation", text, f"{approximate_undulation(lon, lat):g}")
        fix = f"install it ({grid_fix(undulation.missing_grids)})" if undulation.missing_grids else "read it off"
        todo = (
            None
            if given
            else (
                "quasigeoid above GRS80, approximate (+-3 m): a plane fitted to values read off the GCG2016 map. "
                f"PROJ lacks the grid here; {fix} and run twin3d init again for the exact value."
            )
        )
        doc.set("geoid_undulation", _number(value, "geoid_undulation"), todo=todo)
        doc.set("geoid_source", "GCG2016 " + ("given at init" if given else "approximate (twin3d init)"))
    twin_attribution(plan, doc, used, dem)
    return dem


def _number(value: str, key: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{key}: {value!r} is not a number", hint="answer with a number of metres") from exc


def compose_pipeline(
    name: str,
    layers: Sequence[LayerInfo],
    output_dir: Path,
    *,
    answers: Mapping[str, str] | None = None,
    shared_dirs: Sequence[Path] = (),
) -> InitResult:
    """Compose the pipeline definition of twin ``name`` from inspected layers.

    Args:
        name: the twin's name (``[a-z0-9_-]``).
        layers: from :func:`inspect_files`.
        output_dir: the folder the definition will be written to (its paths are relative to it).
        answers: values for the questions of a first call (by :attr:`Question.key`).
        shared_dirs: folders to look in for the population's ``priors/germany.toml`` and ``personas.toml``
            (the output folder first).

    Returns:
        The definition's text, its questions and notes, and what became of each layer.

    Raises:
        ConfigError: the name is not a twin name, or an answer does not fit.
        InputError: a file holds nothing twin3d can use (named, with what it reads).
    """
    check_name(name)
    plan = Plan(name, output_dir, answers or {})
    guesses = classify(layers)
    _check_files_used(guesses)
    boxes = [g.layer.lonlat_bounds() for g in guesses if g.kind not in {"unused", "grid", "dem", "table"}]
    lonlat = _union(boxes) or _union([g.layer.lonlat_bounds() for g in guesses])
    if lonlat is None:
        raise InputError(
            "none of the files names its CRS, so where the town lies is unknown",
            file=layers[0].path,
            hint="give at least one file with a CRS (a GeoPackage, GeoJSON or a Shapefile with its .prj)",
        )
    for guess in guesses:
        box = guess.layer.lonlat_bounds()
        if guess.kind not in {"unused", "grid", "dem"} and box is not None and not _overlaps(box, lonlat, 0.0):
            plan.notes.append(f"{guess.layer.label} lies apart from the other files: is it the same town?")
    _pick_buildings(plan, guesses)
    crs = _choose_crs(plan, [g for g in guesses if g.kind != "unused"], lonlat)
    doc = TomlText()
    labels = " ".join(few(list(dict.fromkeys(str(layer.path.name) for layer in layers))))
    doc.comment(f"{name}: written by `twin3d init {name} {labels}`. Check the TODO lines, then: twin3d build {name}")
    doc.comment("Declarative only: paths are relative to this file; the schema is twin3d/pipeline/config.py.")
    sections = Sections(plan, doc, guesses, crs[0])
    header_at = len(doc.lines)
    dem = _twin_section(plan, doc, guesses, crs, lonlat)
    sections.choropleth_and_sources(lambda guess: _code_list_for(plan, guesses, guess))
    sections.heights()
    sections.population(shared_dirs)
    sections.tiles_and_basemap()
    if not sections.names:
        raise InputError(
            "none of the files holds data a twin is built from (only a DEM, a code list or tables)",
            file=layers[0].path,
            hint=f"add the town's buildings, parcels, districts or statistics; twin3d reads: {KNOWN_KINDS}",
        )
    for guess in guesses:
        if guess.kind in {"unused", "code_list"}:
            why = guess.why["kind"] if guess.kind == "unused" else "no ALKIS buildings use it"
            plan.notes.append(f"{guess.layer.label}: not used ({why})")
    header = TomlText()
    for note in sections.header_notes:
        header.comment(note)
    doc.lines[header_at:header_at] = header.lines
    text = doc.text()
    _validate(text, output_dir, name)
    roles = [(g.layer, sections.role(g, dem)) for g in guesses]
    return InitResult(name, text, plan.questions, plan.notes, roles)


def _validate(text: str, output_dir: Path, name: str) -> None:
    """The composed text must load like a definition written by hand; anything else is a bug here."""
    try:
        raw = tomllib.loads(text)
        PipelineConfig.model_validate({**raw, "base_dir": str(output_dir)})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"twin3d init wrote no valid TOML: {exc}", hint="please report this with the files") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"the definition would not validate: {where}: {first['msg']}; nothing written",
            file=output_dir / f"{name}.toml",
            hint="check the answers given; if none was, please report this with the files",
        ) from exc


def init_pipeline(
    name: str,
    files: Sequence[Path],
    output_dir: Path,
    *,
    answers: Mapping[str, str] | None = None,
    shared_dirs: Sequence[Path] = (),
) -> InitResult:
    """Inspect ``files`` and compose the definition of twin ``name`` (see :func:`compose_pipeline`)."""
    return compose_pipeline(name, inspect_files(files), output_dir, answers=answers, shared_dirs=shared_dirs)
