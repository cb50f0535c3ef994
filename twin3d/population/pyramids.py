"""Age pyramids for the population report: the synthetic population by single year and sex, against the register.

A statistician checks a synthetic population first by its pyramid: are the register's age bands met, and are the
single years inside them smooth (no steps at the band edges, no empty student years in a university town)? Per
district (or, without districts, for the whole twin) this gives

- the synthetic persons by single year of age (0 to :data:`TOP_AGE`, the last an open class) and sex, published
  through the privacy gate (:func:`~twin3d.population.privacy.tables.publish_table`: keyed noise, small counts
  hidden), and
- the register's bands for the same area, as persons per year of the band (the band's count over its width).

Example:
    >>> area_pyramids(ages, male, area, area_ids=["A"], area_names=["Mitte"], bands=bands, key=key)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from twin3d.population.classes import AGE_CLASSES
from twin3d.population.controls import AGE_BANDS, GRID_AGE_GROUPS
from twin3d.population.privacy.atoms import DEFAULT_RULES, PrivacyRules
from twin3d.population.privacy.tables import publish_table
from twin3d.population.report import inside_share
from twin3d.population.synthesis import Population, PopulationInputs

TOP_AGE = 100
"""The oldest single year shown; it counts everyone aged 100 and over."""


@dataclass(frozen=True)
class RegisterBand:
    """One age band of the register: ages ``lo`` to ``hi`` (inclusive; ``hi`` = TOP_AGE: open) and its persons per
    area (NaN where the area has no figure)."""

    lo: int
    hi: int
    persons: np.ndarray


def area_pyramids(
    ages: np.ndarray,
    male: np.ndarray,
    area: np.ndarray,
    *,
    area_ids: Sequence[str],
    area_names: Sequence[str],
    bands: Sequence[RegisterBand],
    key: bytes,
    rules: PrivacyRules = DEFAULT_RULES,
) -> list[dict[str, Any]]:
    """The pyramid of every area, as JSON-ready dicts for the stored report.

    Args:
        ages: int per synthetic person.
        male: bool per person.
        area: int per person, index into ``area_ids`` (-1: outside every area, not counted).
        area_ids, area_names: one per area.
        bands: the register's age bands with their counts per area.
        key: the twin's privacy key (the gate's noise).
        rules: the gate's rules.

    Returns:
        Per area: ``id``, ``name``, ``male`` and ``female`` (TOP_AGE + 1 published counts, None where hidden),
        ``register`` (per band: lo, hi, persons, per_year) and ``synthetic_bands`` (per band: the published
        single years summed, None where one of them is hidden).
    """
    n_areas, years = len(area_ids), TOP_AGE + 1
    inside = area >= 0
    age = np.minimum(np.asarray(ages, np.int64), TOP_AGE)[inside]
    column = age + years * np.asarray(male, bool)[inside]  # female 0..100, then male 0..100
    counts = np.bincount(area[inside] * 2 * years + column, minlength=n_areas * 2 * years).reshape(n_areas, -1)
    published = publish_table("pyramid", list(area_ids), counts, key, rules)
    out = []
    for i, (area_id, name) in enumerate(zip(area_ids, area_names, strict=True)):
        female, men = published[i, :years], published[i, years:]
        both = female + men
        register, synthetic = [], []
        for band in bands:
            width = band.hi - band.lo + 1
            value = float(band.persons[i])
            register.append(
                {
                    "lo": band.lo,
                    "hi": band.hi,
                    "persons": None if not np.isfinite(value) else round(value),
                    "per_year": None if not np.isfinite(value) else round(value / width, 1),
                }
            )
            part = both[band.lo : band.hi + 1]
            synthetic.append(None if np.isnan(part).any() else round(float(part.sum())))
        out.append(
            {
                "id": area_id,
                "name": name,
                "female": _listed(female),
                "male": _listed(men),
                "register": register,
                "synthetic_bands": synthetic,
            }
        )
    return out


def _listed(values: np.ndarray) -> list[int | None]:
    return [None if np.isnan(v) else round(float(v)) for v in values]


def smoothness(pyramid: dict[str, Any]) -> float | None:
    """The largest change between adjacent single years inside one register band, relative to the smaller year
    (both sexes; None where nothing can be compared). The report flags steps a band edge does not explain."""
    both = [None if f is None or m is None else f + m for f, m in zip(pyramid["female"], pyramid["male"], strict=True)]
    worst: float | None = None
    for band in pyramid["register"]:
        for a in range(band["lo"], min(band["hi"], TOP_AGE - 1)):
            x, y = both[a], both[a + 1]
            if x is None or y is None or min(x, y) < 20:  # small counts: noise, not shape
                continue
            step = abs(y - x) / min(x, y)
            worst = step if worst is None else max(worst, step)
    return worst


def report_pyramids(
    pop: Population, inputs: PopulationInputs, names: Mapping[str, str], key: bytes, rules: PrivacyRules
) -> list[dict[str, Any]]:
    """The report's pyramids: one per district against its age bands, or, for a twin without districts, one for
    the whole twin against the census grid's age groups (each cell counted by its share inside the twin)."""
    rep = pop.first
    persons = rep.persons
    zone = rep.zone[persons.household]
    lo_hi = {
        # The last class is open: its band reaches the pyramid's top.
        band: (AGE_CLASSES[c[0]][0], AGE_CLASSES[c[-1]][1] if c[-1] < len(AGE_CLASSES) - 1 else TOP_AGE)
        for band, c in {**AGE_BANDS, **GRID_AGE_GROUPS}.items()
    }
    if inputs.districts is not None and (pop.zones.district >= 0).all():
        stats = inputs.districts
        area = pop.zones.district[zone]
        bands = [RegisterBand(*lo_hi[b], stats.get(b).astype(np.float64)) for b in AGE_BANDS]
        ids = [str(i) for i in stats.ids]
    elif inputs.grid is not None:
        share = inside_share(pop, inputs)
        area = np.zeros(len(zone), np.int64)
        bands = [
            RegisterBand(*lo_hi[g], np.array([float(np.nansum(inputs.grid.get(g) * share))])) for g in GRID_AGE_GROUPS
        ]
        ids = ["twin"]
    else:
        return []
    bands = [b for b in bands if np.isfinite(b.persons).any()]
    return area_pyramids(
        persons.age,
        persons.male,
        area,
        area_ids=ids,
        area_names=[names.get(i, i) for i in ids],
        bands=bands,
        key=key,
        rules=rules,
    )
