"""National or state priors on households (``pipelines/priors/<region>.toml``), parsed and checked.

A town without a household table still needs to know how many people live alone, how many families have two
children, and how ages spread. The priors file says so, and cites where each figure comes from.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from twin3d.population.classes import AGE_CLASS_NAMES, HOUSEHOLD_TYPES
from twin3d.tomlfile import load_toml_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriorSource(_Strict):
    """Where the priors come from: shown in the validation report."""

    title: str
    publisher: str
    tables: list[str] = Field(default_factory=list)
    url: str = ""
    licence: str = ""
    region: str = ""


class _Households(_Strict):
    persons_per_household: float = Field(gt=1.0, lt=5.0)
    types: dict[str, float]
    children: dict[int, float]


class SingleYears(_Strict):
    """Persons by single year of age (``counts[a]`` for age ``a``) and the open class above the last of them."""

    year: int
    counts: list[int] = Field(min_length=20)
    open_total: int = Field(ge=0)


class ParentAges(_Strict):
    """Age of mothers and fathers at the birth of their eldest child living with them (mean, sd in years)."""

    mother_mean: float = Field(ge=15.0, le=49.0)
    mother_sd: float = Field(gt=0.0, lt=15.0)
    father_mean: float = Field(ge=15.0, le=60.0)
    father_sd: float = Field(gt=0.0, lt=15.0)


class _Persons(_Strict):
    male_share_children: float = Field(gt=0.3, lt=0.7)
    age_shares: dict[str, float]
    single_years: SingleYears
    parents: ParentAges
    living_alone: dict[str, float]


class Priors(_Strict):
    """Household and age priors for a region."""

    source: PriorSource
    households: _Households
    persons: _Persons

    @model_validator(mode="after")
    def _complete(self) -> Priors:
        missing = [t for t in HOUSEHOLD_TYPES if t not in self.households.types]
        if missing:
            raise ValueError(f"households.types lacks {', '.join(missing)}")
        if abs(sum(self.households.types.values()) - 1.0) > 0.02:
            raise ValueError("households.types must add up to 1")
        if sorted(self.households.children) != [1, 2, 3]:
            raise ValueError("households.children needs the shares for 1, 2 and 3 children")
        absent = [n for n in AGE_CLASS_NAMES if n not in self.persons.age_shares]
        if absent:
            raise ValueError(f"persons.age_shares lacks the classes {', '.join(absent)}")
        return self

    @property
    def type_shares(self) -> dict[str, float]:
        """Share of households per household type."""
        return self.households.types

    @property
    def children_share(self) -> dict[int, float]:
        """Share of families by number of minor children (1, 2, 3 or more)."""
        return self.households.children

    @property
    def age_shares(self) -> dict[str, float]:
        """Share of persons per age class."""
        return self.persons.age_shares

    @property
    def living_alone(self) -> dict[str, float]:
        """Share of persons per adult age class who live alone."""
        return self.persons.living_alone

    def citation(self) -> str:
        """One line naming the source."""
        s = self.source
        return f"{s.publisher}: {s.title}" + (f" ({s.licence})" if s.licence else "")


def load_priors(path: Path) -> Priors:
    """Read and validate a priors file.

    Raises:
        ConfigError: the file is missing, not TOML, or incomplete (the message names the field).
    """
    return load_toml_model(
        path,
        Priors,
        what="priors file",
        missing_hint="check [population] priors",
        hint="see pipelines/priors/germany.toml",
    )
