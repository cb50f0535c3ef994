"""A town's district statistics over the years: totals, age bands, births and deaths, moves, sex.

The tables are files named ``<table>_<year>.csv`` with one row per district (the OpenData.HRO layout of Rostock,
:data:`HRO_TABLES`), spread over one or more folders. :func:`read_district_history` takes a ``last_year`` and never
opens a file of a later year: a projection fitted on its result cannot have seen its own future, whatever lies in
the folders (the backtest's fit is the same with or without the later files, and a test holds it to that).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from twin3d.errors import InputError
from twin3d.io.stats import read_district_table

KEY_FIELD = "stadtbereich_code"
_FILE = re.compile(r"^(?P<table>[a-z_]+)_(?P<year>\d{4})\.csv$")
_BAND = re.compile(r"^anzahl_(?:(?P<under>juenger_)(?P<to>\d+)|(?P<lo>\d+)_(?P<hi>\d+)|(?P<from>\d+)_aelter)$")

# Table -> {column: variable}; the age table's columns are recognised by their names (anzahl_<lo>_<hi+1>, ...).
HRO_TABLES: dict[str, dict[str, str]] = {
    "insgesamt": {"einwohnerzahl": "population"},
    "bewegung_natuerlich": {"anzahl_lebendgeborene": "births", "anzahl_gestorbene": "deaths"},
    "bewegung_raeumlich": {"anzahl_zuzuege": "moves_in", "anzahl_wegzuege": "moves_out"},
    "geschlecht": {"anzahl_maennlich": "male"},
    "alter": {},
}

Band = tuple[int, int | None]  # first and last year of age; None: open end ("75 and older")


def age_band(column: str) -> Band | None:
    """``anzahl_juenger_3`` -> (0, 2); ``anzahl_15_25`` -> (15, 24); ``anzahl_75_aelter`` -> (75, None)."""
    m = _BAND.match(column)
    if m is None:
        return None
    if m["under"]:
        return 0, int(m["to"]) - 1
    if m["from"]:
        return int(m["from"]), None
    return int(m["lo"]), int(m["hi"]) - 1


@dataclass(frozen=True)
class DistrictHistory:
    """Per year, one value per district (in the order of ``codes``); a year appears only where its file exists.

    Attributes:
        codes: the district codes, sorted.
        last_year: no file of a later year was opened (None: no limit was set).
        bands: the age bands of ``ages``, youngest first.
        population, births, deaths, moves_in, moves_out, male: year -> float array (districts,).
        ages: year -> float array (districts, bands).
        files: the files read; left_out: the files of later years, named and never opened.
    """

    codes: tuple[str, ...]
    last_year: int | None
    bands: tuple[Band, ...]
    population: dict[int, np.ndarray]
    ages: dict[int, np.ndarray]
    births: dict[int, np.ndarray]
    deaths: dict[int, np.ndarray]
    moves_in: dict[int, np.ndarray]
    moves_out: dict[int, np.ndarray]
    male: dict[int, np.ndarray]
    files: tuple[Path, ...] = ()
    left_out: tuple[Path, ...] = field(default=(), compare=False)

    def component_years(self) -> list[int]:
        """Years with a total, the previous year's total, births and deaths: their net migration is known."""
        return sorted(y for y in self.births if y in self.deaths and y in self.population and y - 1 in self.population)

    def net_migration(self, year: int) -> np.ndarray:
        """Net migration of ``year`` per district by the residual method: change of the total minus births plus
        deaths (register corrections included, unlike the moves tables, so the totals add up)."""
        change = self.population[year] - self.population[year - 1]
        return np.asarray(change - self.births[year] + self.deaths[year])


def _files(folders: Sequence[Path], last_year: int | None) -> tuple[dict[tuple[str, int], Path], list[Path]]:
    found: dict[tuple[str, int], Path] = {}
    later: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise InputError("folder not found", file=folder, hint="check the history folders of the town")
        for path in sorted(folder.iterdir()):
            m = _FILE.match(path.name)
            if m is None or m["table"] not in HRO_TABLES:
                continue
            key = (m["table"], int(m["year"]))
            if last_year is not None and key[1] > last_year:
                later.append(path)
                continue
            if key in found:
                raise InputError(f"{path.name} is in two folders", file=path, hint=f"keep one of it and {found[key]}")
            found[key] = path
    return found, later


def _columns(path: Path, wanted: Mapping[str, str] | None) -> tuple[list[str], dict[str, np.ndarray]]:
    """District codes of a file and its wanted numeric columns (None: the age bands), aligned on the codes."""
    table = read_district_table(path, KEY_FIELD)
    keys = [str(k) for k in table.keys.to_pylist()]
    order = np.argsort(keys)
    out: dict[str, np.ndarray] = {}
    variables = table.values.column("variable")
    for name in sorted(set(variables.to_pylist())):
        if (wanted is None and age_band(name) is None) or (wanted is not None and name not in wanted):
            continue
        values = table.values.filter(pc.equal(variables, name)).column("value").to_numpy(zero_copy_only=False)
        if np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values))[0]) + 2
            raise InputError(f"empty {name}", file=path, record=f"line {row}", hint="every district needs a value")
        out[wanted[name] if wanted is not None else name] = np.asarray(values, dtype=np.float64)[order]
    missing = sorted(set(wanted.values()) - set(out)) if wanted is not None else ([] if out else ["age bands"])
    if missing:
        raise InputError(f"no column for {', '.join(missing)}", file=path, hint="see HRO_TABLES for the layout")
    return sorted(keys), out


def read_district_history(folders: Sequence[Path], *, last_year: int | None = None) -> DistrictHistory:
    """Read every ``<table>_<year>.csv`` of the folders up to ``last_year`` (later files are named, never opened).

    Raises:
        InputError: a folder is missing, a file is in two folders, a file lacks a column or a value, the files
            disagree on the districts or the age bands, or no total is there.
    """
    found, later = _files(folders, last_year)
    codes: list[str] | None = None
    bands: tuple[Band, ...] | None = None
    series: dict[str, dict[int, np.ndarray]] = {
        name: {} for name in ("population", "ages", "births", "deaths", "moves_in", "moves_out", "male")
    }
    for (table, year), path in sorted(found.items(), key=lambda item: (item[0][1], item[0][0])):
        keys, columns = _columns(path, HRO_TABLES[table] or None)
        if codes is None:
            codes = keys
        elif keys != codes:
            raise InputError(
                "the districts differ from the other files", file=path, hint=f"expected {', '.join(codes)}"
            )
        if table == "alter":
            these = sorted(columns, key=lambda c: age_band(c) or (0, 0))
            spans = tuple(age_band(c) for c in these)
            if bands is not None and spans != bands:
                raise InputError("the age bands differ from the other years", file=path)
            bands = spans  # type: ignore[assignment]
            series["ages"][year] = np.stack([columns[c] for c in these], axis=1)
        else:
            for variable, values in columns.items():
                series[variable][year] = values
    if codes is None or not series["population"]:
        raise InputError(
            f"no district totals up to {last_year}" if last_year else "no district totals",
            file=folders[0] if folders else None,
            hint="the folders need insgesamt_<year>.csv files",
        )
    return DistrictHistory(
        codes=tuple(codes),
        last_year=last_year,
        bands=bands or (),
        **series,
        files=tuple(found[k] for k in sorted(found)),
        left_out=tuple(later),
    )
