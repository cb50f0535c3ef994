"""Personas (``pipelines/personas.toml``): readable rules that put every synthetic household in a life phase.

Each persona has a German and an English name and description, a colour for the viewer, a match rule over
household traits and the needs the scenario indicators use (which facilities, within what walking distance).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from twin3d.errors import ConfigError
from twin3d.population.classes import HOUSEHOLD_TYPES
from twin3d.population.members import HouseholdTraits
from twin3d.tomlfile import load_toml_model

FacilityType = Literal[
    "kita",
    "school",
    "care_home",
    "stop",
    "park",
    "playground",
    "doctor",
    "pharmacy",
    "supermarket",
    "sports",
    "culture",
]
RANGE_TRAITS = ("size", "adults", "children", "youngest_child_age", "oldest_age", "youngest_adult_age")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Need(_Strict):
    """A facility a persona needs within walking distance."""

    facility: FacilityType
    max_distance_m: float = Field(gt=0, le=20_000)


class Match(_Strict):
    """Conditions over household traits; all must hold. Ranges are inclusive."""

    household_type: list[str] | None = None
    size: tuple[int, int] | None = None
    adults: tuple[int, int] | None = None
    children: tuple[int, int] | None = None
    youngest_child_age: tuple[int, int] | None = None
    oldest_age: tuple[int, int] | None = None
    youngest_adult_age: tuple[int, int] | None = None

    @field_validator("household_type")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or []) - set(HOUSEHOLD_TYPES))
        if unknown:
            raise ValueError(f"unknown household type(s) {', '.join(unknown)}; known: {', '.join(HOUSEHOLD_TYPES)}")
        return value

    def mask(self, traits: HouseholdTraits) -> np.ndarray:
        """Which households meet every condition."""
        ok = np.ones(len(traits.size), dtype=bool)
        if self.household_type is not None:
            ok &= np.isin(traits.household_type, [HOUSEHOLD_TYPES.index(t) for t in self.household_type])
        for name in RANGE_TRAITS:
            bounds = getattr(self, name)
            if bounds is not None:
                value = traits.get(name)
                ok &= (value >= bounds[0]) & (value <= bounds[1])
        return ok


class Persona(_Strict):
    """One life phase."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str
    name_en: str
    description: str
    description_en: str
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    match: Match
    needs: list[Need] = Field(default_factory=list)


class PersonaCatalogue(_Strict):
    """All personas, in the order their rules are tried."""

    persona: list[Persona] = Field(min_length=1)

    @field_validator("persona")
    @classmethod
    def _unique(cls, value: list[Persona]) -> list[Persona]:
        ids = [p.id for p in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"persona ids must be unique, repeated: {', '.join(dupes)}")
        return value

    @property
    def ids(self) -> list[str]:
        """Persona ids in rule order."""
        return [p.id for p in self.persona]

    def classify(self, traits: HouseholdTraits) -> np.ndarray:
        """The persona index of each household: the first whose rule matches.

        Raises:
            ConfigError: some households match no rule (the catalogue needs a catch-all persona at the end).
        """
        result = np.full(len(traits.size), -1, dtype=np.int16)
        for i, persona in enumerate(self.persona):
            result[(result < 0) & persona.match.mask(traits)] = i
        unmatched = int((result < 0).sum())
        if unmatched:
            raise ConfigError(
                f"{unmatched} households match no persona",
                hint="end pipelines/personas.toml with a persona whose match is {} (everyone else)",
            )
        return result


def load_personas(path: Path) -> PersonaCatalogue:
    """Read and validate the persona catalogue.

    Raises:
        ConfigError: missing file, bad TOML, or an invalid persona (the message names the field).
    """
    return load_toml_model(
        path,
        PersonaCatalogue,
        what="persona catalogue",
        missing_hint="check [population] personas",
        hint="see pipelines/personas.toml",
    )
