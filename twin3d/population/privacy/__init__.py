"""The privacy gate: the only door from the synthetic households and persons to anything that leaves the server.

The synthetic population is microdata. What the public, the simulation, the lens and the reports see is made here:

- :mod:`.atoms`: households merged bottom-up through the H3 hierarchy into atoms of at least ``min_persons``
  persons and ``min_households`` households; persona counts below ``min_group`` households suppressed, with
  secondary suppression against "everyone minus the shown personas".
- :mod:`.noise`: each atom's counts perturbed once, keyed on the twin's secret, the record and its true value,
  never on the query or the scenario, so that asking again or under another name cannot average the noise away.
- :mod:`.publish`: the published table (``population_public``): every row a sum of published atoms.
- :mod:`.units`: the published atoms with public geometry only (home points weighted by floor area), the one
  view of the population the simulation gets; area measures act on whole units, small areas get no number.
- :mod:`.microdata`: the only reader of the store's ``households`` and ``persons``.
- :mod:`.choices`: counts of answers per question (survey results), no category under ``min_count`` persons.
- :mod:`.tables`: suppression of small counts in tables with totals (the representation lens), and
  :func:`.tables.publish_table` for a noised count table (the population report's age pyramids).

Example:
    >>> units = published_units(con, persona_ids, key=secret)  # doctest: +SKIP
"""

from twin3d.population.privacy.atoms import ALL, PrivacyRules, Units, assign_units, shown_groups
from twin3d.population.privacy.choices import suppress_choices
from twin3d.population.privacy.microdata import published_units, read_microdata
from twin3d.population.privacy.publish import (
    SCHEMA,
    AtomCounts,
    population_rows,
    publish_atoms,
    publish_population,
)
from twin3d.population.privacy.tables import publish_table, suppress_with_margins, with_margins
from twin3d.population.privacy.units import PROFILE_AGES, Microdata, PublishedUnits, publish_units

__all__ = [
    "ALL",
    "PROFILE_AGES",
    "SCHEMA",
    "AtomCounts",
    "Microdata",
    "PrivacyRules",
    "PublishedUnits",
    "Units",
    "assign_units",
    "population_rows",
    "publish_atoms",
    "publish_population",
    "publish_table",
    "publish_units",
    "published_units",
    "read_microdata",
    "shown_groups",
    "suppress_choices",
    "suppress_with_margins",
    "with_margins",
]
