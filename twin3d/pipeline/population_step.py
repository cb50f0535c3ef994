"""The population step of a build: statistics and buildings already read -> store tables of the society twin.

Pure apart from the privacy key file: it takes the loaded Arrow tables and returns the tables to insert
(households, persons, personas, the privacy-safe aggregates) and the validation report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from h3ronpy.vector import cells_to_coordinates
from pyproj import CRS

from twin3d.errors import ConfigError, InputError
from twin3d.executor import Executor
from twin3d.pipeline.config import PipelineConfig, PopulationSection
from twin3d.population.controls import AreaStats, pivot_stats
from twin3d.population.personas import PersonaCatalogue, load_personas
from twin3d.population.placement import BuildingStock, PlacementRules
from twin3d.population.priors import load_priors
from twin3d.population.privacy import PrivacyRules, publish_population
from twin3d.population.pyramids import report_pyramids
from twin3d.population.report import validation_report
from twin3d.population.synthesis import (
    Population,
    PopulationInputs,
    SynthesisSpec,
    household_batches,
    person_batches,
    synthesise,
)
from twin3d.secretfile import read_or_create_secret
from twin3d.simulation.backtest import town_backtest

BASELINE = "baseline"


@dataclass(frozen=True)
class Batches:
    """A store table made a batch at a time as it is inserted (each iteration makes it anew)."""

    make: Callable[[], Iterator[pa.Table]]

    def __iter__(self) -> Iterator[pa.Table]:
        return self.make()


@dataclass
class PopulationTables:
    """What the population step adds to the store."""

    households: Batches
    persons: Batches
    personas: pa.Table
    public: pa.Table
    report: dict[str, Any]


def privacy_key(path: Path) -> bytes:
    """The twin's secret noise key: read, or created once (owner-only) so noise stays stable across builds."""
    return read_or_create_secret(path)


def _concat(tables: list[pa.Table]) -> pa.Table | None:
    return pa.concat_tables(tables) if tables else None


def gather_inputs(
    pop_cfg: PopulationSection, crs: CRS, tables: dict[str, list[pa.Table]], buildings: BuildingStock | None
) -> PopulationInputs:
    """Districts of the configured level with that year's statistics, the census grid, the buildings."""
    districts = None
    d_all = _concat(tables.get("districts", []))
    if pop_cfg.district_level is not None and d_all is not None:
        d = d_all.filter(pc.equal(d_all["level"], pop_cfg.district_level))
        ids = d["district_id"].to_numpy(zero_copy_only=False).astype(object)
        stats = _concat(tables.get("district_stats", []))
        values = pivot_stats(ids, stats, "district_id", pop_cfg.year) if stats is not None else {}
        if not np.isfinite(values.get("population", np.array([np.nan]))).any():
            raise InputError(
                f"no district has a 'population' for {pop_cfg.year}",
                record=f"district level {pop_cfg.district_level}",
                hint="rename the population column to 'population' in a district_stats source of that year",
            )
        geoms = shapely.from_wkb(d["geom"].to_numpy(zero_copy_only=False))
        districts = AreaStats(ids, geoms, values)
    grid = None
    cells = _concat(tables.get("grid_cells", []))
    if cells is not None:
        ids = cells["cell_id"].to_numpy(zero_copy_only=False).astype(object)
        stats = _concat(tables.get("grid_stats", []))
        values = pivot_stats(ids, stats, "cell_id", None) if stats is not None else {}
        grid = AreaStats(ids, shapely.from_wkb(cells["geom"].to_numpy(zero_copy_only=False)), values)
    if districts is None and grid is None:
        raise ConfigError(
            "[population] needs district statistics (district_level) or a census grid source",
            hint="add a grid source or set population.district_level",
        )
    return PopulationInputs(crs, districts, grid, buildings)


def persona_table(catalogue: PersonaCatalogue) -> pa.Table:
    """The persona catalogue as the store's ``personas`` table."""
    ps = catalogue.persona
    return pa.table(
        {
            "persona_id": [p.id for p in ps],
            "position": pa.array(range(len(ps)), pa.int32()),
            "name": [p.name for p in ps],
            "name_en": [p.name_en for p in ps],
            "description": [p.description for p in ps],
            "description_en": [p.description_en for p in ps],
            "color": [p.color for p in ps],
            "rule": [json.dumps(p.match.model_dump(exclude_none=True)) for p in ps],
            "needs": [json.dumps([n.model_dump() for n in p.needs]) for p in ps],
        }
    )


def privacy_rules(pop_cfg: PopulationSection) -> PrivacyRules:
    """The gate's rules from the pipeline definition."""
    p = pop_cfg.privacy
    return PrivacyRules(
        min_persons=p.min_persons,
        min_households=p.min_households,
        min_group=p.min_group,
        noise_amplitude=p.noise_amplitude,
    )


def public_table(pop: Population, catalogue: PersonaCatalogue, rules: PrivacyRules, key: bytes) -> pa.Table:
    """Privacy-safe H3 aggregates of replicate 0 for the baseline."""
    rep = pop.first
    published = publish_population(
        pop.slots.h3[rep.slot],
        rep.persona.astype(np.int64),
        pop.protos.size[rep.proto].astype(np.int64),
        catalogue.ids,
        key=key,
        rules=rules,
    )
    return with_centres(published.add_column(0, "scenario", pa.array([BASELINE] * published.num_rows, pa.string())))


def with_centres(table: pa.Table) -> pa.Table:
    """Add the lon/lat centre of each published cell (bounding-box queries select cells by their centre)."""
    centres = pa.table(cells_to_coordinates(table["h3"].combine_chunks()))
    return table.append_column("lon", centres["lng"]).append_column("lat", centres["lat"])


def population_step(
    cfg: PipelineConfig,
    tables: dict[str, list[pa.Table]],
    buildings: BuildingStock | None,
    key_file: Path,
    executor: Executor | None = None,
) -> PopulationTables:
    """Synthesise the twin's population (its draw in blocks on ``executor``) and everything the store keeps."""
    pop_cfg = cfg.population
    assert pop_cfg is not None
    base = cfg.base_dir
    priors = load_priors(Path(os.path.normpath(base / pop_cfg.priors)))
    catalogue = load_personas(Path(os.path.normpath(base / pop_cfg.personas)))
    inputs = gather_inputs(pop_cfg, cfg.twin_crs(), tables, buildings)
    placement = PlacementRules(
        residential_types=tuple(pop_cfg.placement.residential_types),
        min_footprint_m2=pop_cfg.placement.min_footprint_m2,
        storey_height_m=cfg.heights.storey_height,
        lattice_spacing_m=pop_cfg.placement.lattice_spacing_m,
    )
    spec = SynthesisSpec(pop_cfg.seed, pop_cfg.replicates, tuple(pop_cfg.holdout), placement)
    pop = synthesise(inputs, spec, priors, catalogue, executor=executor)
    rep = pop.first
    sizes = pop.protos.size[rep.proto]
    n_personas = len(catalogue.ids)
    # The report is public: a persona with fewer households than the gate's group minimum shows no count.
    small = pop_cfg.privacy.min_group
    personas_summary = [
        {
            "id": p.id,
            "name": p.name,
            "households": int(h) if h >= small else None,
            "persons": int(n) if h >= small else None,
        }
        for p, h, n in zip(
            catalogue.persona,
            np.bincount(rep.persona, minlength=n_personas),
            np.bincount(rep.persona, weights=sizes, minlength=n_personas),
            strict=True,
        )
    ]
    context = {
        "twin": cfg.twin.name,
        "title": cfg.twin.title,
        "year": pop_cfg.year,
        "seed": pop_cfg.seed,
        "replicates": pop_cfg.replicates,
        "inputs": {
            "districts": None if inputs.districts is None else len(inputs.districts.ids),
            "grid_cells": None if inputs.grid is None else len(inputs.grid.ids),
            "buildings": None if buildings is None else len(buildings.ids),
        },
        "priors": priors.citation(),
        "personas": personas_summary,
    }
    report = validation_report(pop, inputs, set(pop_cfg.holdout), context)
    key = privacy_key(key_file)
    names = _district_names(tables)
    report["pyramids"] = report_pyramids(pop, inputs, names, key, privacy_rules(pop_cfg))
    report["backtest"] = _backtest(cfg, names)
    return PopulationTables(
        households=Batches(lambda: household_batches(pop, catalogue, inputs)),
        persons=Batches(lambda: person_batches(pop)),
        personas=persona_table(catalogue),
        public=public_table(pop, catalogue, privacy_rules(pop_cfg), key),
        report=report,
    )


def _district_names(tables: dict[str, list[pa.Table]]) -> dict[str, str]:
    """District id -> name, for the report's pyramids (ids where a district has no name)."""
    names: dict[str, str] = {}
    for table in tables.get("districts", []):
        if "name" in table.column_names:
            ids = table["district_id"].to_pylist()
            names.update({str(i): str(n) for i, n in zip(ids, table["name"].to_pylist(), strict=True) if n})
    return names


def _backtest(cfg: PipelineConfig, names: dict[str, str]) -> dict[str, Any] | None:
    """The projection's backtest on the town's own history, for the report (None for a twin without one)."""
    result = town_backtest(cfg.base_dir, cfg.twin.name)
    if result is None:
        return None
    by_code = {district_id.rsplit(":", 1)[-1]: name for district_id, name in names.items()}
    for row in result["districts"]:
        row["name"] = by_code.get(row["code"], row["code"])
    return result
