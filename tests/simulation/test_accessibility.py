"""Walking accessibility on the real Lauf twin (OSM paths, POIs, the gate's published units) and on path-less
Rostock. The published figures are checked against the households' own distances: the gate blurs, it must not bias."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import shapely
from h3ronpy import change_resolution
from scipy.spatial import cKDTree

from tests.conftest import PIPELINES
from twin3d.errors import ConfigError
from twin3d.pipeline.report import BuildReport
from twin3d.population.h3cells import parent
from twin3d.population.personas import PersonaCatalogue, load_personas
from twin3d.population.privacy import Microdata, PublishedUnits, publish_units, read_microdata
from twin3d.settings import PathSettings
from twin3d.simulation.accessibility import (
    ALL,
    Accessibility,
    Homes,
    compute_accessibility,
    decay_weight,
    facility_supply,
    locate_homes,
    persona_indicators,
    point_demand,
)
from twin3d.simulation.data_edge import data_extent, edge_bound
from twin3d.simulation.facility_types import (
    FACILITY_TYPES,
    Facilities,
    FacilityReport,
    facilities_from_store,
    load_facility_types,
)
from twin3d.simulation.network import (
    DETOUR_FACTOR,
    MAX_SNAP_M,
    DistanceModel,
    NetworkDistances,
    StraightLineDistances,
    build_walk_graph,
    distance_model,
    walk_graph_from_store,
)
from twin3d.store.connection import connect

CATALOGUE = load_personas(PIPELINES / "personas.toml")
CONFIG = load_facility_types(PIPELINES / "facility_types.toml")


KEY = b"test key of the accessibility tests"


@dataclass(frozen=True)
class Twin:
    con: duckdb.DuckDBPyConnection
    model: DistanceModel
    micro: Microdata
    units: PublishedUnits
    homes: Homes
    facilities: Facilities
    report: FacilityReport
    acc: Accessibility

    def accessibility(self, facilities: Facilities, catalogue: PersonaCatalogue = CATALOGUE) -> Accessibility:
        return compute_accessibility(self.homes, self.units, facilities, catalogue, CONFIG)

    def home_of(self) -> np.ndarray:
        """The home point of every household (the units' points are the distinct homes)."""
        points = np.round(np.column_stack([self.units.point_x, self.units.point_y]) * 100).astype(np.int64)
        homes = np.round(np.column_stack([self.micro.x, self.micro.y]) * 100).astype(np.int64)
        order = np.lexsort((points[:, 1], points[:, 0]))
        key = points[order, 0] * 10**9 + points[order, 1]
        at = np.searchsorted(key, homes[:, 0] * 10**9 + homes[:, 1])
        assert np.array_equal(key[at], homes[:, 0] * 10**9 + homes[:, 1])
        return np.asarray(order[at])


@pytest.fixture(scope="module")
def lauf(demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[Twin]:
    con = connect(demo_paths.store_file("lauf"), read_only=True)
    model = distance_model(walk_graph_from_store(con))
    micro = read_microdata(con, CATALOGUE.ids)
    units = publish_units(micro, CATALOGUE.ids, key=KEY)
    homes = locate_homes(model, units.point_x, units.point_y)
    facilities, report = facilities_from_store(con, CONFIG)
    acc = compute_accessibility(homes, units, facilities, CATALOGUE, CONFIG)
    yield Twin(con, model, micro, units, homes, facilities, report, acc)
    con.close()


def straight(twin: Twin, facility_type: str) -> np.ndarray:
    """Straight-line metres from every home point to the nearest facility of a type."""
    f = twin.facilities.take(twin.facilities.of_type(facility_type))
    dist, _ = cKDTree(np.column_stack([f.x, f.y])).query(np.column_stack([twin.units.point_x, twin.units.point_y]))
    return np.asarray(dist)


def on_network(twin: Twin) -> np.ndarray:
    """Home points within MAX_SNAP_M of a path."""
    snap = twin.homes.points.snap
    assert snap is not None
    return np.asarray(snap.comp >= 0)


def with_thresholds(factor: float) -> PersonaCatalogue:
    data = CATALOGUE.model_dump()
    for persona in data["persona"]:
        for need in persona["needs"]:
            need["max_distance_m"] *= factor
    return PersonaCatalogue.model_validate(data)


def test_every_lauf_facility_category_is_mapped_ignored_or_reported(lauf: Twin) -> None:
    rows = lauf.con.execute("SELECT category, count(*) FROM facilities GROUP BY category").fetchall()
    listed = [c for c in lauf.report.categories if c.source == "facilities"]
    for category, n in rows:
        assert sum(c.records for c in listed if c.category == category) == n, category
    assert all(c.reason for c in listed if c.status == "ignored")
    assert lauf.report.missing_types == []
    # Lauf's POIs hold no supermarket: its three come from shop=supermarket buildings.
    assert lauf.report.per_type["supermarket"] == 3
    assert all(i.startswith("building:") for i in lauf.facilities.ids[lauf.facilities.of_type("supermarket")])
    # Only the two senior homes among the seven social facilities are care homes; a nursing home is the other.
    care = lauf.facilities.category[lauf.facilities.of_type("care_home")]
    assert sorted(care) == ["amenity=nursing_home", "amenity=social_facility"]
    assert lauf.report.capacity_defaulted["kita"] == 11
    assert set(np.unique(lauf.facilities.capacity[lauf.facilities.of_type("kita")])) == {65.0}


def test_unmapped_categories_are_reported_not_dropped(lauf: Twin) -> None:
    config = CONFIG.model_copy(update={"ignore": {}})
    _, report = facilities_from_store(lauf.con, config)
    unmapped = {c.category: c.records for c in report.unmapped if c.source == "facilities"}
    assert unmapped["leisure=garden"] == 220
    assert unmapped["amenity=social_facility"] == 6
    assert any("leisure=garden" in line for line in report.lines())


def test_a_bad_facility_type_entry_names_the_entry(tmp_path: Path) -> None:
    text = (PIPELINES / "facility_types.toml").read_text(encoding="utf-8")
    bad = tmp_path / "facility_types.toml"
    bad.write_text(
        text.replace(
            'category = "amenity=pharmacy"\ntype = "pharmacy"', 'category = "amenity=pharmacy"\ntype = "drugstore"'
        )
    )
    with pytest.raises(ConfigError, match=r"amenity=pharmacy") as err:
        load_facility_types(bad)
    assert "drugstore" in str(err.value)
    assert err.value.file == str(bad)
    bad.write_text(text.replace("[types.culture]", "[types.cinema]"))
    with pytest.raises(ConfigError, match=r"'cinema'"):
        load_facility_types(bad)
    with pytest.raises(ConfigError, match="unknown facility type"):
        Facilities.build(["x"], ["bakery"], [0.0], [0.0], [1.0])


def test_lauf_walking_distances_follow_the_paths(lauf: Twin) -> None:
    assert isinstance(lauf.model, NetworkDistances)
    assert lauf.model.graph.n_components == 1
    assert lauf.model.graph.fragments > 0  # pieces cut at the extract's edge are skipped, and counted
    housed = on_network(lauf)
    for ftype in ("supermarket", "stop", "kita", "school"):
        walk, line = lauf.acc.distance[ftype], straight(lauf, ftype)
        assert np.all(walk >= line - 1e-6), ftype
        circuity = np.median(walk[housed & (line > 200)] / line[housed & (line > 200)])
        assert 1.15 < circuity < 1.6, (ftype, circuity)
    supermarket = np.median(lauf.acc.distance["supermarket"][housed])
    stop = np.median(lauf.acc.distance["stop"][housed])
    assert 300 < supermarket < 2500
    assert 50 < stop < 500
    # Homes of census cells beyond the OSM extract are off the network: straight line x detour, and counted.
    assert lauf.acc.fallback["supermarket"] == int((~housed).sum()) > 0
    off = ~housed
    assert np.allclose(lauf.acc.distance["supermarket"][off], DETOUR_FACTOR * straight(lauf, "supermarket")[off])


def test_a_home_at_a_facility_is_zero_metres_from_it(lauf: Twin) -> None:
    kitas = lauf.facilities.take(lauf.facilities.of_type("kita"))
    at = lauf.model.locate(kitas.x, kitas.y)
    near = lauf.model.nearest(at, lauf.model.locate(kitas.x, kitas.y))
    assert np.all(near.distance < 1e-6)
    beside = lauf.model.nearest(lauf.model.locate(kitas.x + 60, kitas.y), lauf.model.locate(kitas.x, kitas.y))
    assert np.all(beside.distance <= 60 * DETOUR_FACTOR + 1e-6)
    assert np.all(beside.distance >= 60 - 1e-6)


def test_adding_a_facility_never_lengthens_a_walk_and_removing_one_never_shortens(lauf: Twin) -> None:
    before = lauf.acc.distance["supermarket"]
    far = int(np.argmax(np.where(on_network(lauf), before, 0)))
    new = Facilities.build(["new"], ["supermarket"], [lauf.units.point_x[far]], [lauf.units.point_y[far]], [1.0])
    added = lauf.accessibility(lauf.facilities.concat(new))
    after = added.distance["supermarket"]
    assert np.all(after <= before + 1e-9)
    assert (after < before - 100).sum() > 50
    assert after[far] < 1e-6
    assert np.array_equal(added.distance["kita"], lauf.acc.distance["kita"])
    supermarkets = lauf.facilities.of_type("supermarket")
    keep = np.ones(len(lauf.facilities), dtype=bool)
    keep[supermarkets[0]] = False
    longer = lauf.accessibility(lauf.facilities.take(keep)).distance["supermarket"]
    assert np.all(longer >= before - 1e-9)
    assert (longer > before + 100).sum() > 50


@pytest.mark.parametrize(
    "model_of", [lambda t: t.model, lambda t: StraightLineDistances()], ids=["network", "straight"]
)
def test_pairs_within_a_distance_agree_with_the_nearest(lauf: Twin, model_of: object) -> None:
    model: DistanceModel = model_of(lauf)  # type: ignore[operator]
    homes = locate_homes(model, lauf.units.point_x, lauf.units.point_y)
    kitas = lauf.facilities.take(lauf.facilities.of_type("kita"))
    located = model.locate(kitas.x, kitas.y)
    near = model.nearest(homes.points, located).distance
    pairs = model.within(homes.points, located, 800.0)
    best = np.full(len(homes.points), np.inf)
    np.minimum.at(best, pairs.point, pairs.distance)
    close = near <= 800.0
    assert close.sum() > 300
    assert np.allclose(best[close], near[close])
    assert np.all(np.isinf(best[~close]))
    assert len(np.unique(pairs.facility * len(homes.points) + pairs.point)) == len(pairs.point)


def test_persona_rows_are_close_to_the_persons_own_distances(lauf: Twin) -> None:
    """Published rows weigh units by their noised persons over public home points: the households' own figures,
    from the microdata, differ by little."""
    table = persona_indicators(lauf.acc, lauf.units).to_pylist()
    assert len(table) == sum(len(p.needs) for p in CATALOGUE.persona) + len(FACILITY_TYPES)
    home_of = lauf.home_of()
    for row in table:
        mask = np.ones(len(lauf.micro.size), dtype=bool)
        if row["persona"] != ALL:
            mask = lauf.micro.persona == CATALOGUE.ids.index(row["persona"])
        d = lauf.acc.distance[row["facility"]][home_of][mask]
        size = lauf.micro.size[mask]
        assert row["households"] == pytest.approx(mask.sum(), rel=0.08, abs=10)
        assert row["persons"] == pytest.approx(size.sum(), rel=0.08, abs=15)
        own = np.sum(size * d) / size.sum()
        assert row["mean_distance_m"] == pytest.approx(own, rel=0.06, abs=15), row
        per_person = np.sort(np.repeat(d, size))
        assert row["median_distance_m"] == pytest.approx(np.median(per_person), rel=0.2, abs=25), row
        if row["persona"] != ALL:
            covered = np.sum(size * (d <= row["max_distance_m"])) / size.sum()
            assert row["coverage_share"] == pytest.approx(covered, abs=0.05), row


def test_coverage_is_a_share_and_follows_the_thresholds(lauf: Twin) -> None:
    table = persona_indicators(lauf.acc, lauf.units)
    share = table["coverage_share"].to_numpy(zero_copy_only=False)
    assert np.all((share >= 0) & (share <= 1))
    needs = {(p.id, n.facility) for p in CATALOGUE.persona for n in p.needs}
    rows = {(p, f) for p, f in zip(table["persona"].to_pylist(), table["facility"].to_pylist(), strict=True)}
    assert rows - {(ALL, t) for t in FACILITY_TYPES} == needs
    key = [f"{p}/{f}" for p, f in zip(table["persona"].to_pylist(), table["facility"].to_pylist(), strict=True)]
    wider = persona_indicators(lauf.accessibility(lauf.facilities, with_thresholds(2.0)), lauf.units)
    narrower = persona_indicators(lauf.accessibility(lauf.facilities, with_thresholds(0.5)), lauf.units)
    for other, sign in ((wider, 1), (narrower, -1)):
        assert [
            f"{p}/{f}" for p, f in zip(other["persona"].to_pylist(), other["facility"].to_pylist(), strict=True)
        ] == key
        diff = sign * (other["coverage_share"].to_numpy(zero_copy_only=False) - share)
        assert np.all(diff >= 0)
        assert np.sum(diff > 0.05) >= 10
    # Mean and median distances do not depend on the thresholds.
    assert wider["median_distance_m"].equals(table["median_distance_m"])


def test_2sfca_hands_out_exactly_the_capacity_within_reach(lauf: Twin) -> None:
    acc = lauf.acc
    supply = facility_supply(acc)
    assert set(supply["facility"].to_pylist()) == {"kita", "school", "care_home"}
    for ftype in ("kita", "school", "care_home"):
        spec = CONFIG.spec(ftype)
        assert spec.demand is not None
        demand = point_demand(lauf.units, spec.demand.ages, len(lauf.homes))
        handed_out = float(np.sum(demand * acc.supply[ftype]))
        rows = supply.filter(pc.equal(supply["facility"], ftype))
        reached = rows["demand_in_catchment"].to_numpy() > 0
        assert reached.sum() >= 2
        assert handed_out == pytest.approx(rows["capacity"].to_numpy()[reached].sum())
        ratio = rows["supply_ratio"].to_numpy(zero_copy_only=False)
        assert np.allclose(
            ratio[reached] * rows["demand_in_catchment"].to_numpy()[reached], rows["capacity"].to_numpy()[reached]
        )
        everyone = persona_indicators(acc, lauf.units).filter(
            (pc.field("persona") == ALL) & (pc.field("facility") == ftype)
        )
        assert everyone["demand"][0].as_py() == pytest.approx(demand.sum())
        assert everyone["supply_per_demand"][0].as_py() == pytest.approx(handed_out / demand.sum())
    # Doubling one Kita's places raises the supply of exactly the homes within its catchment.
    kitas = lauf.facilities.of_type("kita")
    bigger = lauf.facilities.capacity.copy()
    bigger[kitas[0]] *= 2
    more = lauf.accessibility(replace(lauf.facilities, capacity=bigger))
    gained = more.supply["kita"] > acc.supply["kita"] + 1e-12
    assert gained.any()
    assert np.all(more.supply["kita"] >= acc.supply["kita"] - 1e-12)


def test_expected_demand_is_close_to_the_households_own(lauf: Twin) -> None:
    """Demand groups come from the town's persona profiles times each unit's published households."""
    for spec in CONFIG.types.values():
        if spec.demand is None:
            continue
        lo, hi = spec.demand.ages
        own = np.count_nonzero((lauf.micro.person_age >= lo) & (lauf.micro.person_age <= hi))
        assert lauf.units.demand(spec.demand.ages).sum() == pytest.approx(own, rel=0.05)


def test_h3_parent_matches_h3ronpy(lauf: Twin) -> None:
    cells = lauf.micro.h3_10[:500]
    for resolution in (7, 8, 9, 10):
        expected = np.asarray(change_resolution(pa.array(cells), resolution)).astype(np.uint64)
        assert np.array_equal(parent(cells, resolution), expected)


def test_rostock_without_paths_uses_the_straight_line_and_says_so(
    demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    with connect(demo_paths.store_file("rostock"), read_only=True) as con:
        assert walk_graph_from_store(con) is None
        model = distance_model(None)
        units = publish_units(read_microdata(con, CATALOGUE.ids), CATALOGUE.ids, key=KEY)
        homes = locate_homes(model, units.point_x, units.point_y)
        facilities, report = facilities_from_store(con, CONFIG)
    assert len(facilities) == 0
    assert set(report.missing_types) == set(FACILITY_TYPES)
    rng = np.random.default_rng(1)
    at = rng.choice(len(homes), 40, replace=False)
    kitas = Facilities.build(
        [f"k{i}" for i in range(40)], ["kita"] * 40, units.point_x[at], units.point_y[at], [65.0] * 40
    )
    acc = compute_accessibility(homes, units, kitas, CATALOGUE, CONFIG)
    dist, _ = cKDTree(np.column_stack([kitas.x, kitas.y])).query(np.column_stack([units.point_x, units.point_y]))
    assert np.allclose(acc.distance["kita"], DETOUR_FACTOR * dist)
    assert np.all(acc.distance["kita"][at] < 1e-6)
    assert np.all(np.isinf(acc.distance["stop"]))
    table = persona_indicators(acc, units)
    assert table.schema.metadata[b"distance_method"] == b"straight_line"
    assert b"detour factor 1.3" in table.schema.metadata[b"distance_description"]
    assert acc.fallback["kita"] == len(homes)
    stops = table.filter(pc.equal(table["facility"], "stop"))
    assert stops["mean_distance_m"].null_count == stops.num_rows
    assert pc.max(stops["coverage_share"]).as_py() == 0


def test_disconnected_components_fall_back_to_the_detoured_straight_line() -> None:
    def square(x0: float, size: float) -> shapely.LineString:
        return shapely.LineString([(x0, 0), (x0 + size, 0), (x0 + size, size), (x0, size), (x0, 0)])

    spur = shapely.LineString([(0, 500), (0, 600)])  # a 100 m fragment: nothing snaps to it
    graph = build_walk_graph(np.array([square(0, 400), square(1000, 400), spur], dtype=object))
    assert (graph.n_components, graph.fragments) == (2, 1)
    model = NetworkDistances(graph)
    facility = model.locate(np.array([1000.0]), np.array([0.0]))
    homes = model.locate(np.array([400.0, 1400.0, 0.0, 1200.0]), np.array([0.0, 400.0, 590.0, 200.0 + 2 * MAX_SNAP_M]))
    near = model.nearest(homes, facility)
    assert near.distance[0] == pytest.approx(600 * DETOUR_FACTOR)  # other square: straight line x detour
    assert near.distance[1] == pytest.approx(800)  # same square: half way round
    assert near.distance[2] == pytest.approx(np.hypot(1000, 590) * DETOUR_FACTOR)  # snaps past the fragment
    assert near.distance[3] == pytest.approx(np.hypot(200, 200 + 2 * MAX_SNAP_M) * DETOUR_FACTOR)  # off the network
    assert near.fallback.tolist() == [True, False, True, True]
    pairs = model.within(homes, facility, 1000.0)
    assert sorted(pairs.point.tolist()) == [0, 1, 3]


def test_points_on_one_long_segment_walk_along_it() -> None:
    model = NetworkDistances(build_walk_graph(np.array([shapely.LineString([(0, 0), (2000, 0)])], dtype=object)))
    facility = model.locate(np.array([600.0]), np.array([10.0]))
    homes = model.locate(np.array([1400.0, 600.0, 2100.0]), np.array([-20.0, -10.0, 0.0]))
    assert model.nearest(homes, facility).distance.tolist() == pytest.approx([830.0, 20.0, 1510.0])
    pairs = model.within(homes, facility, 1000.0)
    order = np.argsort(pairs.point)
    assert pairs.point[order].tolist() == [0, 1]
    assert pairs.distance[order].tolist() == pytest.approx([830.0, 20.0])


def test_the_gaussian_decay_weighs_the_door_fully_and_the_catchment_edge_not_at_all() -> None:
    d = np.array([0.0, 200.0, 400.0, 600.0, 800.0, 900.0])
    w = decay_weight(d, 800.0, "gaussian")
    assert w[0] == pytest.approx(1.0)
    assert w[4] == pytest.approx(0.0, abs=1e-12)
    assert w[5] == 0.0
    assert np.all(np.diff(w) <= 0)
    assert decay_weight(d, 800.0, "none").tolist() == [1, 1, 1, 1, 1, 0]


def test_with_decay_the_homes_near_a_kita_get_more_of_its_places(lauf: Twin) -> None:
    """One Kita alone in town: the places it hands out fall with the walk to it (none beyond its catchment)."""
    kita = lauf.facilities.take(lauf.facilities.of_type("kita")[:1])
    acc = lauf.accessibility(kita)
    supply, walk = acc.supply["kita"], acc.distance["kita"]
    reached = supply > 0
    assert reached.sum() > 20
    assert np.corrcoef(walk[reached], supply[reached])[0, 1] < -0.9
    assert np.all(supply[walk > acc.catchment_m["kita"]] == 0)


def test_schools_are_general_schools_and_the_rest_is_excluded_with_its_reason(lauf: Twin) -> None:
    """OSM amenity=school holds adult education, vocational schools and a support centre too: named and left out."""
    names = dict(
        lauf.con.execute("SELECT facility_id, name FROM facilities WHERE category = 'amenity=school'").fetchall()
    )
    kept = {names[i] for i in lauf.facilities.ids[lauf.facilities.of_type("school")] if i in names}
    assert "Christoph-Jacob-Treu-Gymnasium" in kept
    assert "Sonderpädagogisches Förderzentrum Lauf" in kept
    assert not kept & {
        "VHS Unteres Pegnitztal",
        "Volkshochschule Unteres Pegnitztal",
        "Staatliche Berufsschule Nürnberger Land",
        "Montesori FOS",
        "Betreuungszentrum der Lebenshilfe",
    }
    excluded = {c.reason: c.records for c in lauf.report.categories if c.status == "excluded"}
    assert excluded == {
        "adult education (Volkshochschule), not a school for ages 6 to 17": 2,
        "vocational school for ages 16 and older, not a general school": 2,
        "a care and support centre, not a school": 1,
    }


def test_an_exclusion_needs_a_pattern_or_tags(tmp_path: Path) -> None:
    text = (PIPELINES / "facility_types.toml").read_text(encoding="utf-8")
    bad = tmp_path / "facility_types.toml"
    bad.write_text(text + '\n[[exclude]]\ncategory = "amenity=school"\nreason = "all of them"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="name_pattern or a where"):
        load_facility_types(bad)
    bad.write_text(text + '\n[[exclude]]\ncategory = "amenity=school"\nname_pattern = "(("\nreason = "x"\n')
    with pytest.raises(ConfigError, match="not a regular expression"):
        load_facility_types(bad)


def test_homes_nearer_the_data_edge_than_their_facility_are_named(lauf: Twin) -> None:
    """A walk may be overstated where a facility beyond the edge of the extract could be nearer; the result says
    for how many residents, and no one is edge-bound once the data reach far beyond the town."""
    extent = data_extent(lauf.con)
    assert extent is not None
    rows = {r["facility"]: r for r in edge_bound(extent, lauf.units, lauf.acc, lauf.model.detour_factor)}
    total = float(lauf.units.persons[:, 0].sum())
    assert set(rows) == {k for k in lauf.acc.types if np.isfinite(lauf.acc.distance[k]).any()}
    for row in rows.values():
        assert 0 < row["persons"] < total
        assert row["share"] == pytest.approx(row["persons"] / total, abs=1e-3)
    # Bus stops lie closer together than Kitas: fewer residents could find a nearer one beyond the edge.
    assert rows["stop"]["share"] < rows["kita"]["share"]
    wide = shapely.buffer(extent, 20_000)
    assert all(r["persons"] == 0 for r in edge_bound(wide, lauf.units, lauf.acc, lauf.model.detour_factor))
    assert edge_bound(None, lauf.units, lauf.acc, lauf.model.detour_factor) == []
