"""The sections of a definition ``twin3d init`` composes: sources, heights, population, tiles and basemap.

Part of :mod:`twin3d.pipeline.init`; every setting written carries a comment saying what it was inferred from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc

from twin3d.errors import ConfigError
from twin3d.pipeline.init_classify import Guess, alkis_field
from twin3d.pipeline.init_inspect import LayerInfo
from twin3d.pipeline.init_toml import (
    ALKIS_DEFAULT_HEIGHT,
    ALKIS_HEIGHTS,
    ALKIS_RESIDENTIAL,
    DISTRICT_VARIABLES,
    EUROSTAT_GRID,
    OSM_DEFAULT_HEIGHT,
    OSM_HEIGHTS,
    ZENSUS_GRID,
    TomlText,
)

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
GRID_ATTRIBUTION = {
    "eurostat": "© European Union / Eurostat; © Statistisches Bundesamt (Destatis), Zensus 2022",
    "zensus": "© Statistisches Bundesamt (Destatis), Zensus 2022 (dl-de/by-2-0)",
}
# The Länder's survey offices by the two letters ALKIS object ids start with (DERP...) and the Land's number that
# starts a Flurstückskennzeichen (07...).
ALKIS_LAENDER = {
    "SH": ("01", "LVermGeo SH"), "HH": ("02", "LGV Hamburg"), "NI": ("03", "LGLN"),
    "HB": ("04", "GeoInformation Bremen"), "NW": ("05", "Geobasis NRW"), "HE": ("06", "HVBG"),
    "RP": ("07", "LVermGeoRP"), "BW": ("08", "LGL BW"),
    "BY": ("09", "Bayerische Vermessungsverwaltung"), "SL": ("10", "LVGL"), "BE": ("11", "Geoportal Berlin"),
    "BB": ("12", "LGB"), "MV": ("13", "LAiV M-V"), "SN": ("14", "GeoSN"), "ST": ("15", "LVermGeo ST"),
    "TH": ("16", "TLBG"),
}  # fmt: skip
RESIDENTIAL_VALUES = re.compile(r"(wohn|resid|house|apartment|detached|terrace|bungalow|farm)", re.I)
# The settings of a source, in the order they are written.
SOURCE_KEYS = (
    "id_field", "type_field", "type_names", "category_field", "class_field", "function_field", "name_field",
    "key_field", "cadastral_id_field", "gemarkung_field", "flur_field", "numerator_field", "denominator_field",
    "official_area_field", "height_field", "levels_field", "source_label", "keep_fields",
)  # fmt: skip
CENSUS_YEAR = 2022  # Germany's figures of the EU's 2021 census round: Zensus 2022 (15 May 2022)


@dataclass(frozen=True)
class Question:
    """What ``twin3d init`` could not infer: ``key`` (for ``answers``), the question and the default it wrote."""

    key: str
    text: str
    default: str


@dataclass
class Plan:
    """The twin being composed: its name, where it goes, the answers given, and the questions and notes so far."""

    name: str
    output_dir: Path
    answers: Mapping[str, str]
    questions: list[Question] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def ask(self, key: str, text: str, default: str) -> tuple[str, bool]:
        """The answer given for ``key``, or the default (and the question is recorded)."""
        if key in self.answers:
            return self.answers[key], True
        self.questions.append(Question(key, text, default))
        return default, False


def path_text(file: Path, base: Path) -> str:
    """A file as the definition names it: relative to ``base`` where both share a folder below the root."""
    target, folder = file.resolve(), base.resolve()
    if Path(os.path.commonpath([target, folder])) == Path(target.anchor):
        return target.as_posix()
    return Path(os.path.relpath(target, folder)).as_posix()


def slug(text: str, pattern: str = r"[^a-z0-9_.-]+", sep: str = "-") -> str:
    """A name for a source or a district level: lower case, umlauts spelt out, other characters replaced."""
    lowered = text.lower()
    for umlaut, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        lowered = lowered.replace(umlaut, spelt)
    return re.sub(pattern, sep, lowered).strip("-_.") or "source"


def year_in(name: str) -> int | None:
    """The year a file's name holds (``insgesamt_2023.csv``), None without one."""
    found = re.findall(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", name)
    return int(found[-1]) if found else None


def _year(value: str) -> int:
    if not re.fullmatch(r"\s*(19|20)\d\d\s*", value):
        raise ConfigError(f"{value!r} is not a year", hint="answer with a year such as 2022")
    return int(value)


def few(names: list[str], n: int = 6) -> list[str]:
    """At most ``n`` names, then how many more."""
    return names if len(names) <= n else [*names[:n], f"... ({len(names) - n} more)"]


def value_counts(layer: LayerInfo, field_name: str | None) -> list[tuple[str, int]]:
    """The sampled values of a field with their counts, most frequent first."""
    if field_name is None or layer.sample is None or field_name not in layer.sample.column_names:
        return []
    column = pc.cast(layer.sample.column(field_name).combine_chunks().drop_null(), "string")
    pairs = [(str(c["values"]), int(c["counts"])) for c in pc.value_counts(column).to_pylist()]
    return sorted(pairs, key=lambda p: (-p[1], p[0]))


def _first_value(layer: LayerInfo, name: str) -> str | None:
    if layer.sample is None or name not in layer.sample.column_names or layer.sample.num_rows == 0:
        return None
    value = layer.sample.column(name)[0].as_py()
    return str(value) if value is not None else None


def _survey_office(layer: LayerInfo) -> str | None:
    """The Land's survey office of ALKIS data, from its object ids (DERP...) or a Flurstückskennzeichen (07...)."""
    object_id = layer.details.get("first_id") or _first_value(layer, "gml_id") or ""
    if (match := re.match(r"^DE([A-Z]{2})", object_id)) and match.group(1) in ALKIS_LAENDER:
        return ALKIS_LAENDER[match.group(1)][1]
    key = _first_value(layer, "flurstueckskennzeichen") or ""
    return next((office for number, office in ALKIS_LAENDER.values() if key.startswith(number)), None)


def attribution_of(guess: Guess) -> tuple[str, bool]:
    """The attribution a source's data asks for, and whether it is certain (else a TODO asks to confirm it)."""
    layer = guess.layer
    if guess.flavour == "osm" or layer.format == "osm" or "osm_id" in layer.fields:
        return OSM_ATTRIBUTION, True
    if guess.kind == "grid":
        return GRID_ATTRIBUTION[guess.flavour], True
    if guess.flavour in {"alkis", "3d"} and (office := _survey_office(layer)):
        return f"© GeoBasis-DE / {office}", False
    if layer.metadata:
        return "; ".join(f"{k}: {v}" for k, v in layer.metadata.items())[:300], False
    return "", False


def twin_attribution(plan: Plan, doc: TomlText, used: Sequence[Guess], dem: Guess | None) -> None:
    """``[twin] attribution``: every source's, once; what is not certain is marked to be confirmed."""
    texts: dict[str, bool] = {}
    missing = []
    for guess in [*used, *([dem] if dem else [])]:
        if guess.kind in {"unused", "alternative", "skipped", "table", "code_list"} or (
            guess.kind == "dem" and guess is not dem
        ):
            continue
        text, certain = attribution_of(guess)
        if text:
            texts[text] = texts.get(text, True) and certain
        else:
            missing.append(guess.layer.label)
    unsure = [t for t, certain in texts.items() if not certain]
    todo = []
    if unsure:
        todo.append("confirm the wording and the licence of these with their publishers: " + "; ".join(unsure))
    if missing:
        names = ", ".join(few(list(dict.fromkeys(missing))))
        todo.append(f"who published {names} and under which licence?")
        plan.notes.append(f"attribution unknown for {names}: see the TODO in [twin]")
    doc.set(
        "attribution", list(texts), "What the viewer credits: inferred from the files.", todo="; ".join(todo) or None
    )


class Sections:
    """Writes the sections after ``[twin]``; remembers each source's name for the summary."""

    def __init__(self, plan: Plan, doc: TomlText, guesses: list[Guess], crs: str) -> None:
        self.plan, self.doc, self.guesses, self.crs = plan, doc, guesses, crs
        self.names: dict[int, str] = {}
        self.levels: dict[int, str] = {}
        self.header_notes: list[str] = []
        self.year: int | None = None
        self.district_population: tuple[str, int] | None = None  # (level, latest year) of district population figures
        self.code_names: dict[str, str] = {}

    # --- names -----------------------------------------------------------------------------------------------------

    def _name(self, guess: Guess, kind: str) -> str:
        layer = guess.layer
        stem = layer.path.name.split(".")[0] if layer.format != "vector" else layer.path.stem
        base = slug(layer.layer or stem)
        if layer.format in {"osm", "nas"}:
            base = f"{'osm' if layer.format == 'osm' else slug(stem)}-{kind.replace('_', '-')}"
        name, n = base, 2
        while name in self.names.values():
            name, n = f"{base}-{n}", n + 1
        self.names[id(guess)] = name
        return name

    def _level(self, guess: Guess) -> str:
        if id(guess) not in self.levels:
            base = slug(guess.layer.layer or guess.layer.path.stem, r"[^a-z0-9_]+", "_")
            level, n = base, 2
            while level in self.levels.values():
                level, n = f"{base}_{n}", n + 1
            self.levels[id(guess)] = level
        return self.levels[id(guess)]

    def role(self, guess: Guess, dem: Guess | None) -> str:
        """What became of a guess, for the summary table."""
        if id(guess) in self.names:
            return f"{self.names[id(guess)]} ({guess.kind})"
        roles = {
            "alternative": "buildings, commented out (a better kind is used)",
            "skipped": "not used (see the notes)",
            "used_code_list": "names of the building functions (type_names)",
            "merged": "read by the source of the same table's other years",
            "code_list": "not used (no ALKIS buildings)",
        }
        if guess is dem:
            return "the twin's terrain (dem)"
        return roles.get(guess.kind, f"not used: {guess.why['kind']}")

    # --- sources ---------------------------------------------------------------------------------------------------

    def _district_stats(self) -> list[tuple[Guess, list[tuple[int, Guess]]]]:
        """District tables grouped by level and by name without the year: one source per table and its years."""
        groups: dict[tuple[int, str], list[Guess]] = {}
        for guess in self.guesses:
            if guess.kind == "district_stats":
                pattern = re.sub(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", "{year}", guess.layer.path.name)
                groups.setdefault((id(guess.settings["level_of"]), str(guess.layer.path.parent / pattern)), []).append(
                    guess
                )
        out = []
        for (_, pattern), members in groups.items():
            years = [(year_in(g.layer.path.name), g) for g in members]
            dated = sorted(((y, g) for y, g in years if y is not None), key=lambda p: p[0])
            if len(dated) > 1 and len(dated) == len(members) and len({y for y, _ in dated}) == len(dated):
                for _, extra in dated[1:]:
                    extra.kind = "merged"
                dated[0][1].settings["path_pattern"] = pattern
                out.append((dated[0][1], dated))
            else:
                for guess in members:
                    y = year_in(guess.layer.path.name)
                    out.append((guess, [(y, guess)] if y is not None else []))
        return out

    def _rename(self, guess: Guess) -> tuple[dict[str, str], dict[str, str]]:
        rename: dict[str, str] = {}
        units: dict[str, str] = {}
        if guess.kind == "grid":
            table = EUROSTAT_GRID if guess.flavour == "eurostat" else ZENSUS_GRID
            for column, (variable, unit) in table.items():
                if column in guess.layer.fields:
                    rename[column], units[variable] = variable, unit
            return rename, units
        for column in guess.layer.fields:
            for pattern, variable, unit in DISTRICT_VARIABLES:
                if column != guess.settings.get("key_field") and re.fullmatch(pattern, column, re.I):
                    if variable not in rename.values():
                        rename[column], units[variable] = variable, unit
                    break
        return rename, units

    def _choropleth(self, stats: list[tuple[Guess, list[tuple[int, Guess]]]]) -> None:
        """``[twin.choropleth]``: the district population if a table gives it by year, else the census grid's."""
        with_population = [(g, ys) for g, ys in stats if "population" in self._rename(g)[0].values() and ys]
        grids = [g for g in self.guesses if g.kind == "grid" and "population" in self._rename(g)[0].values()]
        if with_population:
            guess, years = with_population[0]
            self.doc.table("[twin.choropleth]")
            level = self.levels[id(guess.settings["level_of"])]
            self.doc.set("layer", f"districts:{level}", "The district statistics' population, coloured by default.")
            self.doc.set("variable", "population")
            self.doc.set("label", f"Einwohner ({years[-1][0]})")
            self.doc.set("year", years[-1][0])
        elif grids:
            size = float(grids[0].layer.details.get("resolution_m", 1000.0))
            per = {1000.0: "km²", 100.0: "Hektar"}.get(size, f"{size:g}-m-Zelle")
            self.doc.table("[twin.choropleth]")
            self.doc.set("layer", "grid", "The census grid's population, coloured by default.")
            self.doc.set("variable", "population")
            self.doc.set("label", f"Einwohner je {per} (Zensus)")

    def choropleth_and_sources(self, code_list_for: Callable[[Guess], LayerInfo | None]) -> None:
        """``[twin.choropleth]`` (what the viewer colours by default), then one ``[[sources]]`` per used layer."""
        stats = self._district_stats()
        for guess in self.guesses:
            if guess.kind == "districts":
                self._level(guess)
        self._choropleth(stats)
        for guess in self.guesses:
            if guess.kind == "districts":
                self._districts(guess)
        for guess in self.guesses:
            if guess.kind in {"parcels", "land_use", "buildings", "facilities", "greens", "paths", "streets"}:
                self._source(guess, code_list_for if guess.flavour == "alkis" and guess.kind == "buildings" else None)
        for guess, years in stats:
            self._stats(guess, years)
        for guess in self.guesses:
            if guess.kind == "grid":
                self._grid(guess)
        for guess in self.guesses:
            if guess.kind == "alternative":
                block = TomlText()
                other = Sections(self.plan, block, [], self.crs)
                other.names = dict(self.names)  # a name of its own, should the user switch to it
                other._source(guess, None, kind="buildings")
                self.doc.blank()
                self.doc.comment(f"Another source of the same buildings ({guess.layer.label}); not used:")
                self.doc.commented_out(block)

    def _begin(self, guess: Guess, path: str | None = None, kind: str | None = None) -> str:
        name = self._name(guess, kind or guess.kind)
        doc, layer = self.doc, guess.layer
        doc.table("[[sources]]")
        doc.comment(f"{layer.label}: {guess.why['kind']}.")
        for note in guess.notes:
            doc.comment(note)
        doc.set("name", name)
        doc.set("kind", kind or guess.kind)
        if fmt := guess.settings.get("format"):
            doc.set("format", fmt)
        doc.set("path", path or path_text(layer.path, self.plan.output_dir))
        if layer.layer and layer.format == "vector":
            doc.set("layer", layer.layer)
        if layer.crs is None and layer.format in {"vector", "citygml", "cityjson", "nas"}:
            value, given = self.plan.ask(f"{name}.crs", f"The CRS of {layer.label}", self.crs)
            doc.set("crs", value, todo=None if given else "the file names no CRS; the twin's is assumed")
        return name

    def _end(self, guess: Guess) -> None:
        text, certain = attribution_of(guess)
        if text:
            self.doc.set("attribution", text, todo=None if certain else "confirm with the publisher")
        else:
            self.doc.comment(f"who published {guess.layer.label}, under which licence?", todo=True)
            self.doc.comment('attribution = "..."')

    def _set(self, guess: Guess, keys: Sequence[str]) -> None:
        for key in keys:
            value = guess.settings.get(key)
            if value not in (None, [], {}):
                self.doc.set(key, value, guess.why.get(key))

    def _source(
        self,
        guess: Guess,
        code_list_for: Callable[[Guess], LayerInfo | None] | None,
        kind: str | None = None,
    ) -> None:
        name = self._begin(guess, kind=kind)
        layer = guess.layer
        if guess.kind in {"parcels", "land_use"} and guess.settings.get("format") != "nas":
            defaults = (
                ("gml_id", "flurstueckskennzeichen", "gemarkungsnummer", "flurnummer", "zaehler", "nenner",
                 "amtlicheflaeche")
                if guess.kind == "parcels"
                else ("gml_id", "objektart", "funktion", "name")
            )  # fmt: skip
            lacking = [f for f in defaults if alkis_field(layer, f) is None]
            self.doc.comment(
                "The ALKIS field names (PostNAS schema) are the defaults: "
                + ", ".join(defaults)
                + (f"; the file lacks {', '.join(lacking)}" if lacking else "; the file has them all")
                + "."
            )
        if guess.kind == "parcels":
            value, _ = self.plan.ask(f"{name}.gemarkung_name", f"The Gemarkung's name of {layer.label}", "")
            if value:
                self.doc.set("gemarkung_name", value, "The Gemarkung's name, shown with its number in parcel labels.")
            else:
                self.doc.comment("the Gemarkung's name, shown with its number in parcel labels:", todo=True)
                self.doc.comment('gemarkung_name = "..."')
        if code_list_for is not None and (codes := code_list_for(guess)) is not None:
            guess.settings["type_names"] = path_text(codes.path, self.plan.output_dir)
            guess.why["type_names"] = f"The code list {codes.path.name} names the function codes."
            if codes.sample is not None:
                codes_read = [str(v) for v in codes.sample.column(0).to_pylist()]
                names_read = [str(v) for v in codes.sample.column(1).to_pylist()]
                self.code_names = dict(zip(codes_read, names_read, strict=True))
        self._set(guess, SOURCE_KEYS)
        self._end(guess)

    def _districts(self, guess: Guess) -> None:
        self._begin(guess)
        level = self.levels[id(guess)]
        self.doc.set("level", level)
        self.doc.set("level_title", (guess.layer.layer or guess.layer.path.stem).replace("_", " ").title())
        parent = self._parent(guess)
        if parent is not None:
            self.doc.set("parent_level", self.levels[id(parent)], "Nests in the coarser level (by location).")
        self._set(guess, ("code_field", "name_field"))
        self._end(guess)

    def _parent(self, guess: Guess) -> Guess | None:
        """The next coarser district layer (fewer districts) whose extent holds this one's."""
        box = guess.layer.lonlat_bounds()
        coarser = [
            g for g in self.guesses
            if g.kind == "districts" and (g.layer.count or 0) < (guess.layer.count or 0)
            and box is not None and (b := g.layer.lonlat_bounds()) is not None
            and b[0] - 0.01 <= box[0] and b[1] - 0.01 <= box[1] and b[2] + 0.01 >= box[2] and b[3] + 0.01 >= box[3]
        ]  # fmt: skip
        return max(coarser, key=lambda g: g.layer.count or 0) if coarser else None

    def _stats(self, guess: Guess, years: list[tuple[int, Guess]]) -> None:
        pattern = guess.settings.get("path_pattern")
        path = path_text(Path(pattern), self.plan.output_dir) if pattern else None
        name = self._begin(guess, path=path)
        level = self.levels[id(guess.settings["level_of"])]
        self.doc.set("level", level)
        self.doc.set("key_field", guess.settings["key_field"])
        if len(years) > 1:
            self.doc.set("years", [y for y, _ in years], "One file per year, the year in the file's name.")
        elif years:
            self.doc.set("year", years[0][0], "The year in the file's name.")
        else:
            value, given = self.plan.ask(f"{name}.year", f"The year of the figures in {guess.layer.label}", "2023")
            self.doc.set("year", _year(value), todo=None if given else "the year of the figures (none in the name)")
            years = [(_year(value), guess)]
        self._variables(guess)
        self._end(guess)
        if "population" in self._rename(guess)[0].values() and self.district_population is None:
            self.district_population = (level, max(y for y, _ in years))

    def _variables(self, guess: Guess) -> None:
        rename, units = self._rename(guess)
        if rename:
            self.doc.set("rename", rename, "Columns renamed to the variables the twin knows; the others keep theirs.")
            self.doc.set("units", units)

    def _grid(self, guess: Guess) -> None:
        name = self._begin(guess)
        year = year_in(guess.layer.path.name)
        if guess.flavour == "eurostat" and year in {None, 2021}:
            why = "Germany's figures of the EU's 2021 census round are the Zensus 2022 (15 May 2022)."
            self.doc.set("year", CENSUS_YEAR, why)
            self.year = self.year or CENSUS_YEAR
        elif year is not None:
            self.doc.set("year", year, "The year in the file's name.")
            self.year = self.year or year
        else:
            value, given = self.plan.ask(f"{name}.year", f"The census year of {guess.layer.label}", str(CENSUS_YEAR))
            self.doc.set("year", _year(value), todo=None if given else "the census year (none in the file's name)")
            self.year = self.year or _year(value)
        self._variables(guess)
        self._end(guess)

    # --- the rest --------------------------------------------------------------------------------------------------

    def heights(self) -> None:
        """``[heights]``: per building type where the files give no height or storeys."""
        buildings = [g for g in self.guesses if g.kind == "buildings"]
        if not buildings:
            return
        guess = buildings[0]
        doc = self.doc
        doc.table("[heights]")
        doc.set("storey_height", 3.0)
        counts = value_counts(guess.layer, guess.settings.get("type_field"))
        if guess.flavour == "3d":
            doc.set("default", ALKIS_DEFAULT_HEIGHT, "3D buildings bring measured heights; this is for any without.")
            return
        if guess.flavour in {"alkis", "osm"}:
            table, default = (
                (ALKIS_HEIGHTS, ALKIS_DEFAULT_HEIGHT) if guess.flavour == "alkis" else (OSM_HEIGHTS, OSM_DEFAULT_HEIGHT)
            )
            what = "the ALKIS building function" if guess.flavour == "alkis" else "the OSM building value"
            doc.set(
                "default", default, f"Without a height or storeys, the height follows {what}; types not listed: this."
            )
            present = dict(counts) if counts else dict.fromkeys(table, 0)
            doc.table("[heights.by_type]")
            doc.comment("Typical heights, m (two storeys under a pitched roof for a house, one for a garage).")
            for code, height in table.items():
                if code in present:
                    label = self.code_names.get(code, "")
                    n = f"{present[code]:,} building{'s' if present[code] > 1 else ''}" if present[code] else ""
                    detail = ", ".join(p for p in (label, n) if p)
                    doc.set(code, height, detail or None)
            rest = sum(n for value, n in counts if value not in table)
            if rest:
                doc.comment(f"{rest:,} buildings of other types take the default.")
            return
        doc.set("default", 7.0, todo="a height for buildings without height or storeys (m)")
        if counts:
            top = ", ".join(f"{v} ({n:,})" for v, n in counts[:8])
            doc.table("[heights.by_type]")
            doc.comment(
                f'heights (m) per value of {guess.settings["type_field"]!r}, e.g. "value" = 8.0: {top}', todo=True
            )

    def population(self, shared_dirs: Sequence[Path]) -> None:
        """``[population]`` where census or district population figures exist and the priors and personas are found."""
        grids = [g for g in self.guesses if g.kind == "grid" and "population" in self._rename(g)[0].values()]
        if not grids and self.district_population is None:
            self.header_notes.append(
                "No [population]: none of the files holds population figures (a census grid or district statistics "
                "with a population column); a population made up from floor area alone would be a guess shown as a "
                "fact."
            )
            return
        folders = [self.plan.output_dir, *shared_dirs]
        shared = next(
            (d for d in folders if (d / "priors" / "germany.toml").is_file() and (d / "personas.toml").is_file()), None
        )
        if shared is None:
            self.header_notes.append(
                "No [population] yet: the household priors (priors/germany.toml) and personas.toml were not found "
                "beside this file; copy them from twin3d's pipelines/ folder and add a [population] table."
            )
            self.plan.notes.append("population figures found, but no priors/personas: [population] left out")
            return
        doc = self.doc
        doc.table("[population]")
        doc.comment("Households and persons fitted to the town's figures; households live in residential buildings.")
        level, year = self.district_population or (None, self.year or CENSUS_YEAR)
        doc.set("year", year)
        if level:
            doc.set("district_level", level, "The district tables with a population.")
        doc.set("seed", year)
        if shared.resolve() != self.plan.output_dir.resolve():
            doc.set("priors", path_text(shared / "priors" / "germany.toml", self.plan.output_dir))
            doc.set("personas", path_text(shared / "personas.toml", self.plan.output_dir))
        buildings = [g for g in self.guesses if g.kind == "buildings"]
        if buildings and buildings[0].flavour == "alkis":
            codes = [c for c in self.code_names if c.isdigit() and 1000 <= int(c) <= 1223] or list(ALKIS_RESIDENTIAL)
            doc.table("[population.placement]")
            doc.set("residential_types", codes, "The ALKIS residential functions (Wohngebäude 1000 to Forsthaus 1223).")
        elif buildings and buildings[0].flavour == "footprints":
            values = [v for v, _ in value_counts(buildings[0].layer, buildings[0].settings.get("type_field"))]
            homes = [v for v in values if RESIDENTIAL_VALUES.search(v)]
            doc.table("[population.placement]")
            todo = "which building types house people? (inferred from their names)"
            doc.set("residential_types", homes, todo=todo)

    def tiles_and_basemap(self) -> None:
        """``[tiles]`` with the usual settings; ``[basemap]`` from an OSM extract if one was given."""
        doc = self.doc
        doc.table("[tiles]")
        doc.set("partition", "blocks", 'One external tileset per 1 km block; "meshopt" makes tiles about 4x smaller.')
        doc.set("block_size_m", 1000)
        doc.set("compression", "none")
        osm = next((g.layer for g in self.guesses if g.layer.format == "osm"), None)
        if osm is not None:
            doc.table("[basemap]")
            why = "The map under the buildings, drawn from the whole OpenStreetMap extract."
            doc.set("osm", path_text(osm.path, self.plan.output_dir), why)
        else:
            doc.blank()
            doc.comment(
                "No [basemap] osm: the map under the buildings is drawn from the twin's own districts, streets, paths "
                "and greens, where it has any; give an OSM extract (.osm.pbf) to twin3d init for a full map."
            )
