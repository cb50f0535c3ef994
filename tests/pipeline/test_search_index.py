"""The search index a build writes: one row per street, address, district, parcel and named place."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from tests.conftest import GEODATA, REPO
from twin3d.errors import ConfigError
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.store import search as search_module
from twin3d.store.connection import connect, sql_file
from twin3d.store.search import build_search_index, normalise, search

TO_METRES = Transformer.from_crs(4326, 25832, always_xy=True)


@pytest.fixture
def lauf(built: dict[str, BuildReport], demo_paths: PathSettings) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(demo_paths.store_file("lauf"), read_only=True)
    yield con
    con.close()


@pytest.fixture
def rostock(built: dict[str, BuildReport], demo_paths: PathSettings) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(demo_paths.store_file("rostock"), read_only=True)
    yield con
    con.close()


def _metres(lon: float, lat: float) -> shapely.Point:
    return shapely.Point(*TO_METRES.transform(lon, lat))


def _lines(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> shapely.Geometry:
    wkb = [r[0] for r in con.execute(sql, params).fetchall()]
    geoms = shapely.from_wkb(np.array(wkb, dtype=object))
    return shapely.transform(shapely.union_all(geoms), lambda c: np.column_stack(TO_METRES.transform(c[:, 0], c[:, 1])))


def test_normalised_keys_match_however_a_name_is_written() -> None:
    cur = connect()
    assert normalise(cur, "Kröpeliner Straße") == "kroepeliner strasse"
    assert normalise(cur, "Kröpeliner Str.") == "kroepeliner strasse"
    assert normalise(cur, "Adolf-Becker-Str.") == "adolf becker strasse"
    assert normalise(cur, "GROSS-UMSTADT, Café") == "gross umstadt cafe"
    assert normalise(cur, "Flurstück 123/4") == "flurstueck 123/4"  # a parcel number keeps its slash
    assert normalise(cur, "a / b") == "a b"
    assert normalise(cur, "50%_off'; --") == "50 off"  # LIKE and SQL characters are just separators


def test_lauf_marktplatz_is_one_street_over_all_its_segments(lauf: duckdb.DuckDBPyConnection) -> None:
    rows = lauf.execute(
        "SELECT detail, lon, lat, west, south, east, north FROM search_index WHERE kind = 'street' AND name = ?",
        ["Marktplatz"],
    ).fetchall()
    assert len(rows) == 1  # 18 segments in the walk network, one result
    detail, lon, lat, west, south, east, north = rows[0]
    assert detail == "Lauf a.d. Pegnitz"  # no districts: the town
    extent = lauf.execute(
        "SELECT min(ST_XMin(geom_wgs84)), min(ST_YMin(geom_wgs84)), max(ST_XMax(geom_wgs84)), "
        "max(ST_YMax(geom_wgs84)), count(*) FROM paths WHERE name = 'Marktplatz'"
    ).fetchone()
    assert extent is not None
    assert extent[4] == 18
    assert (west, south, east, north) == pytest.approx(extent[:4], abs=1e-9)
    # The map flies to a point on the street, near the middle of all its segments.
    street = _lines(lauf, "SELECT ST_AsWKB(geom_wgs84) FROM paths WHERE name = ?", ["Marktplatz"])
    assert street.distance(_metres(lon, lat)) < 0.5
    assert street.centroid.distance(_metres(lon, lat)) < 100


def test_streets_of_one_name_far_apart_are_two_results(lauf: duckdb.DuckDBPyConnection) -> None:
    boxes = lauf.execute(
        "SELECT west, south, east, north FROM search_index WHERE kind = 'street' AND name = 'Weinbergstraße'"
    ).fetchall()
    assert len(boxes) == 2  # two Weinbergstraßen 3.4 km apart (the town and a village)
    a, b = (shapely.box(*box) for box in boxes)
    assert not a.intersects(b)


def test_every_address_of_the_buildings_is_found_once(lauf: duckdb.DuckDBPyConnection) -> None:
    tagged = lauf.execute(
        "SELECT json_extract_string(attributes, '$.\"addr:street\"'), "
        "json_extract_string(attributes, '$.\"addr:housenumber\"') FROM buildings "
        "WHERE json_extract_string(attributes, '$.\"addr:housenumber\"') IS NOT NULL "
        "AND json_extract_string(attributes, '$.\"addr:street\"') IS NOT NULL"
    ).fetchall()
    addresses = {f"{s} {n}" for s, n in tagged}
    assert len(addresses) > 600
    names = [r[0] for r in lauf.execute("SELECT name FROM search_index WHERE kind = 'address'").fetchall()]
    assert sorted(names) == sorted(addresses)  # one row per address, none made up
    cur = lauf.cursor()
    for address in random.Random(17).sample(sorted(addresses), 25):
        hits = search(cur, address, 5)
        assert hits[0].kind == "address", address
        assert hits[0].name == address


def test_streets_known_only_from_addresses_are_found(lauf: duckdb.DuckDBPyConnection) -> None:
    in_paths = {r[0] for r in lauf.execute("SELECT DISTINCT name FROM paths WHERE name IS NOT NULL").fetchall()}
    address_streets = {
        r[0]
        for r in lauf.execute(
            "SELECT DISTINCT json_extract_string(attributes, '$.\"addr:street\"') FROM buildings "
            "WHERE json_extract_string(attributes, '$.\"addr:housenumber\"') IS NOT NULL"
        ).fetchall()
        if r[0]
    }
    streets = {r[0] for r in lauf.execute("SELECT name FROM search_index WHERE kind = 'street'").fetchall()}
    assert address_streets - in_paths, "Lauf has addresses on streets its walk network lacks"
    assert address_streets <= streets


def test_rostock_street_axes_and_districts(rostock: duckdb.DuckDBPyConnection) -> None:
    kinds = dict(rostock.execute("SELECT kind, count(*) FROM search_index GROUP BY kind").fetchall())
    assert kinds["street"] == 157  # the register's "A" streets: one axis each, one result each
    assert kinds["district"] == 21 + 74
    # A statistical Bezirk reads with its Stadtbereich, a Stadtbereich with the town.
    row = rostock.execute(
        "SELECT detail, ref FROM search_index WHERE kind = 'district' AND name = 'Kröpeliner-Tor-Vorstadt II'"
    ).fetchone()
    assert row == ("Kröpeliner-Tor-Vorstadt", "bezirk:162")
    top = rostock.execute(
        "SELECT detail FROM search_index WHERE kind = 'district' AND name = 'Kröpeliner-Tor-Vorstadt'"
    ).fetchone()
    assert top == ("Hanse- und Universitätsstadt Rostock",)
    # A street reads with the smallest district its middle lies in.
    name, detail, lon, lat, key = rostock.execute(
        "SELECT name, detail, lon, lat, key FROM search_index WHERE kind = 'street' AND ref = ?",
        ["30340850-3ef5-11e5-9f8e-0050569b7e95"],
    ).fetchone()  # type: ignore[misc]
    assert (name, key) == ("Adolf-Becker-Str.", "adolf becker strasse")
    inside = rostock.execute(
        "SELECT name FROM districts WHERE ST_Contains(geom_wgs84, ST_Point(?, ?)) ORDER BY area_m2 LIMIT 1",
        [lon, lat],
    ).fetchone()
    assert inside == (detail,)
    assert detail == "Kröpeliner-Tor-Vorstadt IV"  # as the city's own table says (stat_bezirk_name)


def _store_with_parcels(count: int) -> duckdb.DuckDBPyConnection:
    """A store with the schema, Lauf's first paths and ``count`` real parcels of Gemarkung Monzel in a parcels
    table as the cadastre step writes it (its contract: id, cadastral id, Gemarkung, Flur, number, label)."""
    con = connect()
    con.execute(sql_file("schema.sql"))
    con.execute("DROP TABLE IF EXISTS parcels")
    con.execute(
        "CREATE TABLE parcels (parcel_id VARCHAR PRIMARY KEY, cadastral_id VARCHAR, gemarkung VARCHAR, flur VARCHAR,"
        " number VARCHAR, label VARCHAR NOT NULL, geom GEOMETRY, geom_wgs84 GEOMETRY)"
    )
    _, table = pyogrio.read_arrow(GEODATA / "monzel" / "monzel_alkis.gpkg", layer="flurstuecke", max_features=count)
    rows = table.to_pylist()
    to_wgs84 = Transformer.from_crs(25832, 4326, always_xy=True)
    for r in rows:
        number = r["zaehler"] + (f"/{r['nenner']}" if r["nenner"] else "")
        geom = shapely.from_wkb(r["geom"])
        lonlat = shapely.transform(geom, lambda c: np.column_stack(to_wgs84.transform(c[:, 0], c[:, 1])))
        label = f"Gemarkung Monzel ({r['gemarkungsnummer']}), Flur {r['flurnummer']}, Flurstück {number}"
        con.execute(
            "INSERT INTO parcels VALUES (?, ?, ?, ?, ?, ?, ST_GeomFromWKB(?), ST_GeomFromWKB(?))",
            [
                r["gml_id"],
                r["flurstueckskennzeichen"],
                r["gemarkungsnummer"],
                r["flurnummer"],
                number,
                label,
                shapely.to_wkb(geom),
                shapely.to_wkb(lonlat),
            ],
        )
    return con


def test_parcels_are_found_by_number_flur_and_cadastral_id() -> None:
    con = _store_with_parcels(400)
    assert build_search_index(con, town="Osann-Monzel") == 400
    parcel = con.execute(
        "SELECT parcel_id, cadastral_id, flur, number FROM parcels WHERE contains(number, '/') ORDER BY parcel_id"
    ).fetchone()
    assert parcel is not None
    parcel_id, cadastral_id, flur, number = parcel
    cur = con.cursor()
    by_number = search(cur, number, 50)
    assert by_number[0].kind == "parcel"
    assert parcel_id in [h.ref for h in by_number]
    # "123/4" finds parcels numbered 123/4, never 1234 or 4/123: the slash stays part of the number.
    assert all(h.name == f"Flurstück {number}" for h in by_number)
    hit = search(cur, f"Flur {flur} {number}", 5)[0]
    assert (hit.ref, hit.name, hit.detail) == (
        parcel_id,
        f"Flurstück {number}",
        f"Gemarkung Monzel (2566), Flur {flur}",
    )
    assert [h.ref for h in search(cur, cadastral_id, 5)] == [parcel_id]
    # The parcel's box is its outline's, in lon/lat.
    west, south, east, north = hit.bbox
    assert west < hit.lon < east
    assert south < hit.lat < north


def test_the_index_is_built_before_parcels_exist_too() -> None:
    con = _store_with_parcels(1)
    con.execute("DROP TABLE parcels")
    assert build_search_index(con, town="Osann-Monzel") == 0
    assert search(con.cursor(), "Flurstück", 5) == []


def test_a_store_without_an_index_answers_nothing() -> None:
    assert search(connect(), "Marktplatz", 5) == []


def test_the_index_reads_no_microdata() -> None:
    # Privacy: search is built from public tables only; the synthetic households and persons never enter it.
    code = Path(search_module.__file__).read_text(encoding="utf-8").lower()
    assert "households" not in code
    assert "persons" not in code


def test_a_street_register_without_names_is_refused_and_unnamed_axes_are_reported(tmp_path: Path) -> None:
    pipeline = tmp_path / "streets.toml"
    register = json.loads((GEODATA / "rostock" / "strassen" / "strassen_A.geojson").read_text(encoding="utf-8"))
    register["features"][0]["properties"]["strasse_name"] = " "  # a record the city left unnamed
    (tmp_path / "strassen.geojson").write_text(json.dumps(register), encoding="utf-8")
    districts = REPO / "geodata" / "rostock" / "stadtbereiche" / "stadtbereiche.json"
    head = f"""
[twin]
name = "streets"
title = "Rostock (Straßen)"
crs = "EPSG:25833"
ground_height = 13.0
geoid_undulation = 39.0

[[sources]]
name = "stadtbereiche"
kind = "districts"
level = "stadtbereich"
path = "{districts}"
code_field = "code"
name_field = "bezeichnung"
"""
    pipeline.write_text(head + '[[sources]]\nname = "strassen"\nkind = "streets"\npath = "strassen.geojson"\n')
    with pytest.raises(ConfigError, match="name_field"):
        load_pipeline(pipeline)
    pipeline.write_text(
        head + '[[sources]]\nname = "strassen"\nkind = "streets"\npath = "strassen.geojson"\n'
        'id_field = "uuid"\nname_field = "strasse_name"\nkey_field = "strasse_schluessel"\n'
    )
    paths = PathSettings(pipelines_dir=tmp_path, store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")
    report = build_twin(load_pipeline(pipeline), paths)
    streets = next(s for s in report.sources if s.name == "strassen")
    assert (streets.records_in, streets.records_out, streets.dropped) == (157, 156, 1)
    assert report.drop_reasons()["street without a name (strasse_name)"] == 1
    con = connect(paths.store_file("streets"), read_only=True)
    assert con.execute("SELECT count(*), count(street_key) FROM streets").fetchone() == (156, 156)
    assert con.execute("SELECT count(*) FROM search_index WHERE kind = 'street'").fetchone() == (156,)
