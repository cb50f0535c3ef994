"""A stored scenario of a twin: its results per persona and per H3 cell, against the baseline or another scenario.

Results are the server's (``GET .../scenarios/{id}/results``): the same published, privacy-gated figures the viewer
and the report show. A scenario's results never change (its id is its content), so each is fetched once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from twin3d.client.frames import cells_frame

if TYPE_CHECKING:
    from twin3d.client.twin import Twin

VERDICT_COLUMNS = ["verdict", "better", "worse"]


@dataclass(frozen=True)
class ScenarioResults:
    """What a scenario does, as frames.

    Attributes:
        raw: the server's answer as it came (summary, kpis, personas, cells, gainers, hazards, planning, privacy).
        crs: the CRS of :attr:`cells` (the twin's, unless asked otherwise).
    """

    raw: dict[str, Any]
    crs: Any = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def summary(self) -> dict[str, Any]:
        """Households and persons added and removed, dwellings, sealing, ``no_new_sealing``."""
        found: dict[str, Any] = self.raw["summary"]
        return found

    @property
    def kpis(self) -> pd.DataFrame:
        """One row per group (residents, newcomers), persona and facility type: persons, and for each indicator
        (mean and median walk, coverage share, supply per demand) its baseline, scenario, delta and verdict."""
        return pd.DataFrame(self.raw["kpis"])

    @property
    def verdicts(self) -> pd.DataFrame:
        """One verdict per persona among the residents (better, worse, mixed, unchanged), with the facility
        indicators that got better and worse as ``facility:indicator`` lists; indexed by persona."""
        rows = [
            {
                "persona": row["persona"],
                "verdict": row["verdict"],
                "better": [f"{m['facility']}:{m['indicator']}" for m in row["better"]],
                "worse": [f"{m['facility']}:{m['indicator']}" for m in row["worse"]],
            }
            for row in self.raw["personas"]
        ]
        return pd.DataFrame(rows, columns=["persona", *VERDICT_COLUMNS]).set_index("persona")

    @property
    def gainers(self) -> dict[str, Any]:
        """Who gains most: the residents whose walks shorten, per persona (published groups only)."""
        found: dict[str, Any] = self.raw.get("gainers") or {}
        return found

    @property
    def cells(self) -> gpd.GeoDataFrame:
        """Baseline and scenario per published H3 cell: persons, households and mean walks, with their outlines."""
        if "cells" not in self._cache:
            self._cache["cells"] = cells_frame(pd.DataFrame(self.raw["cells"]), "h3", self.crs)
        found: gpd.GeoDataFrame = self._cache["cells"]
        return found

    def kpi(self, persona: str, facility: str, indicator: str = "coverage_share", group: str = "residents") -> Any:
        """One KPI row as a Series (``baseline``, ``scenario``, ``delta``, ``verdict`` of ``indicator``)."""
        frame = self.kpis
        rows = frame[(frame["persona"] == persona) & (frame["facility"] == facility) & (frame["group"] == group)]
        if rows.empty:
            raise KeyError(f"no {group} row for persona {persona!r} and facility {facility!r}")
        row = rows.iloc[0]
        return pd.Series({part: row[f"{indicator}_{part}"] for part in ("baseline", "scenario", "delta", "verdict")})


class Scenario:
    """A stored scenario (``twin.create_scenario(...)``, ``twin.scenario(id)``).

    Args:
        twin: its twin.
        scenario_id: its content hash.
        stored: what the server said when it was stored (name, visibility, ...), if known.
    """

    def __init__(self, twin: Twin, scenario_id: str, stored: dict[str, Any] | None = None) -> None:
        self.twin = twin
        self.id = scenario_id
        self._stored = stored
        self._raw: dict[str, dict[str, Any]] = {}  # the server's answer per comparison, whatever the frames' CRS
        self._results: dict[tuple[str, str], ScenarioResults] = {}

    def __repr__(self) -> str:
        return f"<Scenario {self.id[:12]} of {self.twin.name!r}>"

    @property
    def path(self) -> str:
        """The scenario's API path."""
        return f"{self.twin.path}/scenarios/{self.id}"

    @cached_property
    def stored(self) -> dict[str, Any]:
        """The stored scenario: name, description, visibility, created, and its ``spec``."""
        found: dict[str, Any] = self.twin.session.get_json(self.path)
        return found

    @property
    def name(self) -> str:
        """The scenario's name."""
        return str((self._stored or self.stored).get("name", ""))

    def run(self, against: Scenario | str | None = None, *, crs: Any = None) -> ScenarioResults:
        """The scenario's results against the baseline, or ``against`` another stored scenario (``cells`` in
        ``crs``; None: the twin's)."""
        other = (against.id if isinstance(against, Scenario) else against) or ""
        if other not in self._raw:
            self._raw[other] = self.twin.session.get_json(f"{self.path}/results", {"against": other or None})
        key = (other, str(crs))
        if key not in self._results:
            self._results[key] = ScenarioResults(self._raw[other], self.twin.crs if crs is None else crs)
        return self._results[key]

    def compare(self, other: Scenario | str, *, crs: Any = None) -> ScenarioResults:
        """This scenario against ``other``: "baseline" in the results means the other scenario."""
        return self.run(against=other, crs=crs)

    def verdicts(self, against: Scenario | str | None = None) -> pd.DataFrame:
        """The per-persona verdict (see :attr:`ScenarioResults.verdicts`)."""
        return self.run(against).verdicts

    def report_url(self, lang: str = "de") -> str:
        """The URL of the scenario's self-contained HTML report."""
        return self.twin.session.absolute(f"{self.path}/report.html?lang={lang}")

    def deck(self, against: Scenario | str | None = None, *, column: str = "persons_delta", **kwargs: Any) -> Any:
        """The twin's map with this scenario's change per cell (``column``: ``persons_delta`` or a walk's delta,
        ``kita_mean_m_delta``); other keywords as :meth:`Twin.deck`. Returns an ``OfflineDeck``."""
        return self.twin.deck(change=self.run(against), change_column=column, **kwargs)
