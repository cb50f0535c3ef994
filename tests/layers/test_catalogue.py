"""The catalogue: list, get, remove, replace, visibility; [[layers]] in a pipeline definition and `layers sync`;
the CLI; the twin's extent read from a built store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import PIPELINES
from tests.layers.conftest import BAD, BUILDINGS, POIS, fingerprint
from twin3d.cli import main
from twin3d.errors import ConfigError, InputError, NotFoundError
from twin3d.layers.catalogue import get_layer, list_layers, remove_layer, slugify
from twin3d.layers.context import LoadOptions, TwinInfo, twin_info
from twin3d.layers.load import load_layer, sync_layers
from twin3d.layers.model import visible_to
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings


def test_slugs_spell_out_umlauts() -> None:
    assert slugify("Bäume & Sträucher 2024") == "baeume-straeucher-2024"
    assert slugify("  ") == "layer"
    assert len(slugify("x" * 200)) == 64


def test_visibility_is_ordered() -> None:
    assert visible_to("public", "public")
    assert visible_to("council", "admin")
    assert not visible_to("council", "public")
    assert not visible_to("admin", "council")
    assert not visible_to("public", "nobody")


def test_list_get_replace_remove(paths: PathSettings, lauf: TwinInfo) -> None:
    assert list_layers(paths, "lauf") == []
    load_layer(paths, "lauf", POIS, LoadOptions(title="Einrichtungen", visibility="council"), info=lauf)
    load_layer(paths, "lauf", BUILDINGS, LoadOptions(title="Gebäude", visibility="admin"), info=lauf)
    assert [e.id for e in list_layers(paths, "lauf")] == ["einrichtungen", "gebaeude"]
    assert [e.id for e in list_layers(paths, "lauf", role="council")] == ["einrichtungen"]
    assert list_layers(paths, "lauf", role="public") == []
    with pytest.raises(ConfigError, match="exists already"):
        load_layer(paths, "lauf", BUILDINGS, LoadOptions(title="Einrichtungen"), info=lauf)
    entry, _ = load_layer(
        paths, "lauf", BUILDINGS, LoadOptions(layer_id="einrichtungen", title="Neu", replace=True), info=lauf
    )
    assert get_layer(paths, "lauf", "einrichtungen") == entry
    assert entry.feature_count == 6492
    assert not [p for p in (paths.layers_dir / "lauf").iterdir() if p.name.startswith(".")]
    removed = remove_layer(paths, "lauf", "gebaeude")
    assert removed.title == "Gebäude"
    with pytest.raises(NotFoundError, match="no layer 'gebaeude'"):
        get_layer(paths, "lauf", "gebaeude")
    assert [p.name for p in (paths.layers_dir / "lauf").iterdir()] == ["einrichtungen"]


def test_bad_ids_and_unknown_twins(paths: PathSettings) -> None:
    with pytest.raises(ConfigError, match="invalid layer id"):
        load_layer(paths, "lauf", POIS, LoadOptions(layer_id="../evil"))
    with pytest.raises(ConfigError, match="pipeline definition not found"):
        load_layer(paths, "atlantis", POIS, LoadOptions())


def test_existing_pipelines_have_no_layers_and_stay_valid() -> None:
    for twin in ("lauf", "rostock"):
        assert load_pipeline(PIPELINES / f"{twin}.toml").layers == []


def _pipeline(folder: Path, layers: str) -> PathSettings:
    folder.mkdir(exist_ok=True)
    (folder / "lauftest.toml").write_text(
        f"""
sources = []

[twin]
name = "lauftest"
title = "Lauf (Ebenen)"
crs = "EPSG:25832"
ground_height = 327.0
geoid_undulation = 47.8
{layers}
""",
        encoding="utf-8",
    )
    return PathSettings(pipelines_dir=folder, store_dir=folder.parent / "var", tiles_dir=folder.parent / "tiles")


POIS_LAYER = f"""
[[layers]]
id = "pois"
title = "Einrichtungen"
path = "{POIS.as_posix()}"
licence = "ODbL-1.0"
attribution = "© OpenStreetMap contributors"
visibility = "council"
style = {{ fill_color = "#ff0000", point_radius = 6 }}
legend = [{{ label = "Einrichtung", color = "#ff0000", symbol = "point" }}]
"""


def test_sync_loads_changed_and_removes_dropped_pipeline_layers(tmp_path: Path) -> None:
    paths = _pipeline(tmp_path / "pipelines", POIS_LAYER)
    (entry_action,) = sync_layers(paths, "lauftest")
    assert entry_action[:2] == ("loaded", "pois")
    entry = get_layer(paths, "lauftest", "pois")
    assert (entry.origin, entry.licence, entry.visibility, entry.style.fill_color) == (
        "pipeline",
        "ODbL-1.0",
        "council",
        "#ff0000",
    )
    assert entry.legend[0].label == "Einrichtung"
    before = fingerprint(paths.layers_dir)
    assert sync_layers(paths, "lauftest") == [("unchanged", "pois", None)]
    assert fingerprint(paths.layers_dir) == before
    _pipeline(tmp_path / "pipelines", POIS_LAYER.replace('title = "Einrichtungen"', 'title = "POIs"'))
    assert sync_layers(paths, "lauftest")[0][:2] == ("loaded", "pois")
    assert get_layer(paths, "lauftest", "pois").title == "POIs"
    load_layer(paths, "lauftest", BUILDINGS, LoadOptions(layer_id="gebaeude"))
    _pipeline(tmp_path / "pipelines", "")
    assert sync_layers(paths, "lauftest") == [("removed", "pois", None)]
    assert [e.id for e in list_layers(paths, "lauftest")] == ["gebaeude"]  # added by hand: left alone


def test_sync_refuses_to_take_over_a_hand_added_layer_and_stops_at_a_bad_file(tmp_path: Path) -> None:
    paths = _pipeline(tmp_path / "pipelines", POIS_LAYER)
    load_layer(paths, "lauftest", BUILDINGS, LoadOptions(layer_id="pois"))
    with pytest.raises(ConfigError, match="taken by a layer added by hand"):
        sync_layers(paths, "lauftest")
    bad = POIS_LAYER.replace('id = "pois"', 'id = "kaputt"').replace(
        POIS.as_posix(), (BAD / "truncated.gpkg").as_posix()
    )
    paths = _pipeline(tmp_path / "pipelines", bad)
    before = fingerprint(paths.layers_dir)
    with pytest.raises(InputError, match=r"truncated\.gpkg"):
        sync_layers(paths, "lauftest")
    assert fingerprint(paths.layers_dir) == before


def test_repeated_layer_ids_in_a_pipeline_are_refused(tmp_path: Path) -> None:
    paths = _pipeline(tmp_path / "pipelines", POIS_LAYER + POIS_LAYER)
    with pytest.raises(ConfigError, match="repeated: pois"):
        sync_layers(paths, "lauftest")


def test_cli_add_list_remove(paths: PathSettings) -> None:
    env = {"TWIN3D_PIPELINES_DIR": str(paths.pipelines_dir), "TWIN3D_STORE_DIR": str(paths.store_dir)}
    runner = CliRunner()
    args = ["layers", "add", "lauf", str(POIS), "--title", "POIs", "--visibility", "council", "--licence", "ODbL"]
    added = runner.invoke(main, [*args, "--attribution", "© OSM"], env=env)
    assert added.exit_code == 0, added.output
    assert "loaded lauf/pois (vector, lauf_pois.geojson): 573 in -> 573 out" in added.output
    listed = runner.invoke(main, ["layers", "list", "lauf", "--json"], env=env)
    (entry,) = json.loads(listed.output)
    assert (entry["id"], entry["visibility"], entry["licence"]) == ("pois", "council", "ODbL")
    again = runner.invoke(main, args, env=env)
    assert again.exit_code == 2
    assert "exists already" in again.output
    removed = runner.invoke(main, ["layers", "remove", "lauf", "pois"], env=env)
    assert removed.exit_code == 0
    missing = runner.invoke(main, ["layers", "remove", "lauf", "pois"], env=env)
    assert missing.exit_code == 5


def test_twin_info_reads_the_extent_of_a_built_twin(demo_paths: PathSettings, built: dict[str, BuildReport]) -> None:
    info = twin_info(demo_paths, "lauf")
    assert info.bbox_wgs84 is not None
    west, south, east, north = info.bbox_wgs84
    assert 11.1 < west < east < 11.4
    assert 49.4 < south < north < 49.6
    # The Rostock districts are inside the CRS's region but 500 km from the built Lauf twin.
    with pytest.raises(InputError, match="outside 50 km around twin 'lauf'"):
        load_layer(demo_paths, "lauf", BAD / "rostock_in_lauf.geojson", LoadOptions(layer_id="fern"))
    assert not (demo_paths.layers_dir / "lauf" / "fern").exists()
