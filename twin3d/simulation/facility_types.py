"""Facility types (``pipelines/facility_types.toml``): which of a twin's facilities serve which persona need.

A twin's ``facilities`` carry source categories (OSM ``amenity=kindergarten``, ``highway=bus_stop``, ...). The
declarative mapping turns them into the eleven facility types the personas name (:data:`FACILITY_TYPES`), reads a
capacity where the source has one and otherwise takes the type's documented default. Categories that map to
nothing are reported (ignored on purpose, with a reason, or unmapped), never dropped silently.

Example:
    >>> config = load_facility_types(Path("pipelines/facility_types.toml"))  # doctest: +SKIP
    >>> facilities, report = facilities_from_store(con, config)  # doctest: +SKIP
    >>> report.unmapped  # categories no rule and no ignore entry covers  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

import duckdb
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy.spatial import cKDTree

from twin3d.errors import ConfigError
from twin3d.population.personas import FacilityType
from twin3d.tomlfile import read_toml

FACILITY_TYPES: tuple[str, ...] = get_args(FacilityType)
"""The facility types personas use, in a fixed order: ``Facilities.type`` indexes into it."""

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")

_FACILITIES_SQL = (
    "SELECT facility_id, category, coalesce(name, '') AS name, CAST(attributes AS VARCHAR) AS attributes, "
    "ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y FROM facilities ORDER BY facility_id"
)
_BUILDINGS_SQL = (
    "SELECT building_id, CAST(attributes AS VARCHAR) AS attributes, "
    "ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y FROM buildings "
    "WHERE attributes IS NOT NULL ORDER BY building_id"
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Demand(_Strict):
    """Who uses a type's capacity: persons of an inclusive age range."""

    label: str
    ages: tuple[int, int]

    @field_validator("ages")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= value[0] <= value[1] <= 130:
            raise ValueError(f"ages must be an inclusive range within 0..130, got {list(value)}")
        return value


class TypeSpec(_Strict):
    """One facility type: its description, capacity and demand."""

    description: str
    capacity_unit: str = "facilities"
    capacity_attribute: str | None = "capacity"
    default_capacity: float = Field(default=1.0, gt=0)
    demand: Demand | None = None
    catchment_m: float | None = Field(default=None, gt=0, le=20_000)
    decay: Literal["gaussian", "none"] = Field(
        default="gaussian",
        description="2SFCA distance decay within the catchment: Gaussian (Dai 2010) or none (Luo & Wang 2003)",
    )


class CategoryRule(_Strict):
    """Facilities of ``category`` (narrowed by ``where`` on their attributes) are of ``type``."""

    category: str = Field(min_length=1)
    type: FacilityType
    where: dict[str, list[str]] = Field(default_factory=dict)

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        """Whether every ``where`` key holds one of its listed values."""
        return all(str(attributes.get(key)) in values for key, values in self.where.items())


class Exclusion(_Strict):
    """Facilities of ``category`` that serve no need of the type their category maps to, left out with a reason:
    matched by precise tags (``where``) or, where the source lacks them, by a pattern in the name."""

    category: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    name_pattern: str | None = Field(default=None, description="regular expression searched in the name, any case")
    where: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("name_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _says_what(self) -> Exclusion:
        if self.name_pattern is None and not self.where:
            raise ValueError("an exclusion needs a name_pattern or a where")
        return self

    def matches(self, name: str, attributes: Mapping[str, Any]) -> bool:
        """Whether the facility is one this exclusion names."""
        if self.name_pattern is not None and not re.search(self.name_pattern, name or "", re.IGNORECASE):
            return False
        return all(str(attributes.get(key)) in values for key, values in self.where.items())


class BuildingTags(_Strict):
    """Building attributes that make a building a facility (``key=value`` categories)."""

    keys: list[str] = Field(min_length=1)
    dedupe_m: float = Field(default=100.0, ge=0)


class FacilityTypeConfig(_Strict):
    """The whole mapping: types, category rules, deliberate omissions and building tags."""

    types: dict[FacilityType, TypeSpec]
    map: list[CategoryRule] = Field(default_factory=list)
    ignore: dict[str, str] = Field(default_factory=dict)
    exclude: list[Exclusion] = Field(default_factory=list)
    buildings: BuildingTags | None = None

    @field_validator("types")
    @classmethod
    def _every_type(cls, value: dict[str, TypeSpec]) -> dict[str, TypeSpec]:
        missing = [t for t in FACILITY_TYPES if t not in value]
        if missing:
            raise ValueError(f"describe every facility type; missing: {', '.join(missing)}")
        return value

    def spec(self, facility_type: str) -> TypeSpec:
        """The specification of a type."""
        return self.types[cast("FacilityType", facility_type)]

    def rules_by_category(self) -> dict[str, list[CategoryRule]]:
        """The map rules of each category, in file order."""
        index: dict[str, list[CategoryRule]] = {}
        for rule in self.map:
            index.setdefault(rule.category, []).append(rule)
        return index

    def excluded(self, category: str, name: str, attributes: Mapping[str, Any]) -> str | None:
        """The reason a facility is left out by an ``[[exclude]]`` entry, or None."""
        for rule in self.exclude:
            if rule.category == category and rule.matches(name, attributes):
                return rule.reason
        return None

    def classify(
        self, category: str, attributes: Mapping[str, Any], rules: dict[str, list[CategoryRule]] | None = None
    ) -> str | None:
        """The type of one facility: the first rule that matches it, or None."""
        for rule in (rules if rules is not None else self.rules_by_category()).get(category, []):
            if rule.matches(attributes):
                return rule.type
        return None


@dataclass(frozen=True)
class Facilities:
    """Facilities with a type, as arrays in the twin's CRS.

    Attributes:
        ids: facility ids (object); building-derived ones are ``building:<building_id>``.
        category: the source category (object), e.g. ``amenity=kindergarten``.
        type: int16, index into :data:`FACILITY_TYPES`.
        x, y: position in the twin's CRS (metres).
        capacity: float64, from the capacity attribute or the type's default.
        capacity_from_attribute: whether the capacity was read from the source.
    """

    ids: np.ndarray
    category: np.ndarray
    type: np.ndarray
    x: np.ndarray
    y: np.ndarray
    capacity: np.ndarray
    capacity_from_attribute: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def of_type(self, facility_type: str) -> np.ndarray:
        """Indices of the facilities of a type."""
        return np.flatnonzero(self.type == FACILITY_TYPES.index(facility_type))

    def take(self, index: np.ndarray) -> Facilities:
        """A subset (boolean mask or indices), e.g. to remove facilities in a scenario."""
        return Facilities(*(np.asarray(a)[index] for a in self._arrays()))

    def concat(self, other: Facilities) -> Facilities:
        """These facilities and others, e.g. the ones a scenario adds."""
        return Facilities(*(np.concatenate([a, b]) for a, b in zip(self._arrays(), other._arrays(), strict=True)))

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.ids, self.category, self.type, self.x, self.y, self.capacity, self.capacity_from_attribute)

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        types: Sequence[str],
        x: Sequence[float] | np.ndarray,
        y: Sequence[float] | np.ndarray,
        capacity: Sequence[float] | np.ndarray,
    ) -> Facilities:
        """Facilities from plain lists (scenario edits, tests)."""
        unknown = sorted(set(types) - set(FACILITY_TYPES))
        if unknown:
            raise ConfigError(f"unknown facility type(s) {', '.join(unknown)}; known: {', '.join(FACILITY_TYPES)}")
        return cls(
            np.asarray(ids, dtype=object),
            np.asarray([f"scenario:{t}" for t in types], dtype=object),
            np.array([FACILITY_TYPES.index(t) for t in types], dtype=np.int16),
            np.asarray(x, dtype=np.float64),
            np.asarray(y, dtype=np.float64),
            np.asarray(capacity, dtype=np.float64),
            np.zeros(len(ids), dtype=bool),
        )


@dataclass(frozen=True)
class CategoryCount:
    """How many records of a source category got which fate."""

    source: str  # "facilities" or "buildings"
    category: str
    records: int
    status: str  # "mapped" | "ignored" | "excluded" | "unmapped" | "duplicate"
    type: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class FacilityReport:
    """What the mapping did with a twin's facilities, category by category."""

    categories: list[CategoryCount] = field(default_factory=list)
    per_type: dict[str, int] = field(default_factory=dict)
    capacity_defaulted: dict[str, int] = field(default_factory=dict)

    @property
    def unmapped(self) -> list[CategoryCount]:
        """Categories (with record counts) that no rule maps and no ignore entry explains."""
        return [c for c in self.categories if c.status == "unmapped"]

    @property
    def missing_types(self) -> list[str]:
        """Facility types the twin has no facility of."""
        return [t for t in FACILITY_TYPES if self.per_type.get(t, 0) == 0]

    def lines(self) -> list[str]:
        """The report as short lines for the CLI."""
        out = [f"{t}: {self.per_type.get(t, 0)} facilities" for t in FACILITY_TYPES]
        out += [f"unmapped {c.source} category {c.category}: {c.records} records" for c in self.unmapped]
        return out


def parse_capacity(value: Any) -> float | None:
    """The first positive number in a capacity attribute (``"75"``, ``"ca. 80"``, ``"1,5"``), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if value > 0 else None
    if not isinstance(value, str):
        return None
    match = _NUMBER.search(value)
    if match is None:
        return None
    number = float(match.group().replace(",", "."))
    return number if number > 0 else None


def load_facility_types(path: Path) -> FacilityTypeConfig:
    """Read and validate the facility type mapping.

    Raises:
        ConfigError: missing file, bad TOML, or an invalid entry; the message names the entry (its category for
            a map rule, its key for a type).
    """
    data = read_toml(path, "facility type mapping")
    try:
        return FacilityTypeConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        where = ".".join(str(p) for p in loc)
        record: str | None = None
        if len(loc) >= 2 and loc[0] == "map" and isinstance(loc[1], int):
            entry = data.get("map", [])[loc[1]]
            record = f"map entry {loc[1] + 1} (category {entry.get('category', '?')!r})"
            where = ".".join(str(p) for p in loc[2:]) or "entry"
        elif len(loc) >= 2 and loc[0] == "types":
            record = f"type {loc[1]!r}"
        given = first.get("input")
        got = f", got {given!r}" if isinstance(given, str | int | float) else ""
        raise ConfigError(
            f"{where}: {first['msg']}{got}",
            file=path,
            record=record,
            hint=f"facility types are {', '.join(FACILITY_TYPES)}; see pipelines/facility_types.toml",
        ) from exc


def map_facilities(
    config: FacilityTypeConfig,
    ids: Sequence[str],
    categories: Sequence[str],
    attributes: Sequence[Mapping[str, Any]],
    *,
    x: np.ndarray,
    y: np.ndarray,
    source: str = "facilities",
    names: Sequence[str] | None = None,
) -> tuple[Facilities, list[CategoryCount]]:
    """Type and capacity of each record; the records of no type, or excluded by name or tags, are counted per
    category (with the exclusion's reason).

    Returns:
        The typed facilities and one count per (category, fate).
    """
    keep: list[int] = []
    types: list[int] = []
    capacity: list[float] = []
    from_attr: list[bool] = []
    fates: Counter[tuple[str, str, str | None]] = Counter()
    rules = config.rules_by_category()
    for i, (category, attrs) in enumerate(zip(categories, attributes, strict=True)):
        reason = config.excluded(category, names[i] if names is not None else "", attrs)
        if reason is not None:
            fates[(category, "excluded", reason)] += 1
            continue
        ftype = config.classify(category, attrs, rules)
        if ftype is None:
            fates[(category, "ignored" if category in config.ignore else "unmapped", None)] += 1
            continue
        spec = config.spec(ftype)
        value = parse_capacity(attrs.get(spec.capacity_attribute)) if spec.capacity_attribute else None
        keep.append(i)
        types.append(FACILITY_TYPES.index(ftype))
        capacity.append(value if value is not None else spec.default_capacity)
        from_attr.append(value is not None)
        fates[(category, "mapped", ftype)] += 1
    index = np.asarray(keep, dtype=np.int64)
    facilities = Facilities(
        np.asarray(ids, dtype=object)[index] if len(index) else np.zeros(0, dtype=object),
        np.asarray(categories, dtype=object)[index] if len(index) else np.zeros(0, dtype=object),
        np.asarray(types, dtype=np.int16),
        np.asarray(x, dtype=np.float64)[index],
        np.asarray(y, dtype=np.float64)[index],
        np.asarray(capacity, dtype=np.float64),
        np.asarray(from_attr, dtype=bool),
    )
    counts = [
        CategoryCount(source, cat, n, status, ftype, config.ignore.get(cat) if status == "ignored" else None)
        if status != "excluded"
        else CategoryCount(source, cat, n, status, None, ftype)  # an exclusion keeps its reason where a type goes
        for (cat, status, ftype), n in sorted(fates.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
    ]
    return facilities, counts


def _json(text: str | None) -> dict[str, Any]:
    value = json.loads(text) if text else {}
    return value if isinstance(value, dict) else {}


def _drop_duplicates(found: Facilities, listed: Facilities, dedupe_m: float) -> np.ndarray:
    """Which building-derived facilities lie within ``dedupe_m`` of a listed facility of the same type."""
    duplicate = np.zeros(len(found), dtype=bool)
    for t in np.unique(found.type):
        mine, theirs = np.flatnonzero(found.type == t), np.flatnonzero(listed.type == t)
        if len(theirs) == 0:
            continue
        tree = cKDTree(np.column_stack([listed.x[theirs], listed.y[theirs]]))
        dist, _ = tree.query(np.column_stack([found.x[mine], found.y[mine]]), distance_upper_bound=dedupe_m)
        duplicate[mine] = np.isfinite(dist)
    return duplicate


def facilities_from_store(
    con: duckdb.DuckDBPyConnection, config: FacilityTypeConfig
) -> tuple[Facilities, FacilityReport]:
    """The typed facilities of a twin store, with the report of what mapped to what.

    Facilities are taken at their point on surface in the twin's CRS. With ``[buildings]`` configured, buildings
    whose attributes carry a mapped ``key=value`` become facilities too, unless a listed facility of the same type
    lies within ``dedupe_m``.
    """
    t = con.execute(_FACILITIES_SQL).to_arrow_table()
    facilities, counts = map_facilities(
        config,
        t["facility_id"].to_pylist(),
        t["category"].to_pylist(),
        [_json(a) for a in t["attributes"].to_pylist()],
        x=t["x"].to_numpy(zero_copy_only=False),
        y=t["y"].to_numpy(zero_copy_only=False),
        names=t["name"].to_pylist(),
    )
    if config.buildings is not None:
        b = con.execute(_BUILDINGS_SQL).to_arrow_table()
        wanted = {rule.category for rule in config.map}
        ids, cats, attrs, bx, by = [], [], [], [], []
        for bid, text, x, y in zip(*(b[c].to_pylist() for c in ("building_id", "attributes", "x", "y")), strict=True):
            a = _json(text)
            for key in config.buildings.keys:
                if f"{key}={a.get(key)}" in wanted:
                    ids.append(f"building:{bid}")
                    cats.append(f"{key}={a[key]}")
                    attrs.append(a)
                    bx.append(x)
                    by.append(y)
        found, found_counts = map_facilities(
            config, ids, cats, attrs, x=np.asarray(bx, np.float64), y=np.asarray(by, np.float64), source="buildings"
        )
        duplicate = _drop_duplicates(found, facilities, config.buildings.dedupe_m)
        counts += [c for c in found_counts if c.status != "mapped"]
        for dup, status in ((False, "mapped"), (True, "duplicate")):
            fates = Counter(zip(found.category[duplicate == dup], found.type[duplicate == dup], strict=True))
            counts += [
                CategoryCount(
                    "buildings", cat, n, status, FACILITY_TYPES[ti], "a listed facility is near" if dup else None
                )
                for (cat, ti), n in sorted(fates.items())
            ]
        facilities = facilities.concat(found.take(~duplicate))
    per_type = {ft: int((facilities.type == i).sum()) for i, ft in enumerate(FACILITY_TYPES)}
    defaulted = {
        ft: int(((facilities.type == i) & ~facilities.capacity_from_attribute).sum())
        for i, ft in enumerate(FACILITY_TYPES)
    }
    return facilities, FacilityReport(counts, per_type, {k: v for k, v in defaulted.items() if v > 0})
