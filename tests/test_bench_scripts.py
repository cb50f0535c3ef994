"""The benchmark scripts keep running and print one JSON figure per line (their numbers are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.services.postgres import fresh_database

pytestmark = pytest.mark.slow


def _figures(*args: str) -> dict[str, dict[str, object]]:
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=600, check=True)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all({"name", "value", "unit"} <= set(line) for line in lines), lines
    return {str(line["name"]): line for line in lines}


def test_build_bench_runs_on_lauf() -> None:
    figures = _figures("bench/build.py", "--repeat", "1")
    assert figures["build_buildings_per_s"]["buildings"] == 6492
    assert float(figures["tile_bytes_per_building"]["value"]) > 0  # type: ignore[arg-type]


def test_basemap_bench_runs_on_lauf() -> None:
    figures = _figures("bench/basemap.py", "--repeat", "1")
    step = figures["basemap_step_seconds"]
    assert int(step["tiles"]) > 0  # type: ignore[call-overload]
    assert float(step["baseline"]) > 0  # type: ignore[arg-type]
    assert "baseline" in figures["build_with_basemap_seconds"]


def test_tiles_bench_runs_small() -> None:
    figures = _figures("bench/tiles.py", "--phase", "lod1", "--lod1", "3000", "--workers", "2")
    assert figures["lod1_buildings_per_s"]["buildings"] == 3000
    assert "lod1_bytes_per_building_meshopt" in figures
    assert float(figures["lod1_peak_memory"]["value"]) > 0  # type: ignore[arg-type]
    baseline = _figures("bench/tiles.py", "--phase", "baseline", "--baseline", "100")
    assert float(baseline["speedup_vs_py3dtiles"]["value"]) > 1  # type: ignore[arg-type]


def test_population_bench_runs_small() -> None:
    sample = "tests/data/census-grid-bavaria/census2021_1km_tile_17_11_sample300.csv.gz"
    figures = _figures("bench/population.py", "--only", "bavaria", "--grid", sample)
    rate = figures["bavaria_persons_per_s"]
    assert rate["cells"] == 300
    assert float(rate["value"]) > 0  # type: ignore[arg-type]
    assert float(figures["bavaria_baseline_multinomial_persons_per_s"]["value"]) > 0  # type: ignore[arg-type]
    assert float(figures["bavaria_peak_memory"]["value"]) > 0  # type: ignore[arg-type]
    assert "bavaria_grid_srmse_persons" in figures


def test_simulation_bench_runs_small() -> None:
    figures = _figures("bench/simulation.py", "--scale", "40000")
    assert figures["lauf_warm_seconds"]["distance_method"] == "network"
    # Published households (the simulation sees the gate's units, noised): within the noise of Rostock's 118,550.
    assert abs(int(figures["rostock_warm_seconds"]["households"]) - 118_550) < 200  # type: ignore[call-overload]
    assert abs(int(figures["scale_warm_seconds"]["households"]) - 40_000) < 10_000  # type: ignore[call-overload]
    assert int(figures["lauf_warm_seconds"]["kpi_rows"]) > 0  # type: ignore[call-overload]


def test_raster_tiles_bench_runs_small() -> None:
    figures = _figures("bench/raster_tiles.py", "--pixels", "600", "--tiles", "30")
    assert figures["raster_tile_http_p50_ms"]["tiles"] == 30
    assert float(figures["raster_tile_render_p95_ms"]["value"]) > 0  # type: ignore[arg-type]
    assert "baseline_warped_p50_ms" in figures["raster_tile_http_p50_ms"]


def test_participation_bench_runs_small() -> None:
    small = ("--places", "300", "--proposals", "600", "--votes", "5000")
    figures = _figures("bench/participation.py", *small, "--repeat", "3", "--clients", "4", "--seconds", "1")
    assert figures["list_town_p95_ms"]["places"] == 300
    assert figures["proposals_top_p95_ms"]["proposals"] == 600
    assert figures["proposals_town_p95_ms"]["mode"] == "clusters"
    assert figures["post_places_per_s"]["errors"] == 0
    assert float(figures["post_places_per_s"]["value"]) > 0  # type: ignore[arg-type]
    assert figures["acknowledged_missing"]["value"] == 0
    assert figures["vote_proposals_per_s"]["errors"] == 0
    assert float(figures["vote_proposals_per_s"]["value"]) > 0  # type: ignore[arg-type]


def test_projection_backtest_runs() -> None:
    figures = _figures("bench/projection_backtest.py")
    headline = figures["projection_backtest_mape"]
    assert headline["districts"] == 21
    assert int(headline["later_files_left_unopened"]) > 0  # type: ignore[call-overload]
    assert float(headline["value"]) < float(headline["baseline"])  # type: ignore[arg-type]
    assert "projection_2019_age_share_error_K" in figures
    assert "trend_backtest_mape" in figures
    assert "demand_care_80_plus" in figures


def test_flood_bench_runs() -> None:
    figures = _figures("bench/flood.py")
    wall = figures["lauf_flood_wall_warm_seconds"]
    assert 0 < int(wall["buildings_flooded"]) < int(figures["lauf_flood_polygon_warm_seconds"]["buildings_flooded"])  # type: ignore[call-overload]
    assert "baseline_seconds" in wall


def test_sun_bench_runs() -> None:
    figures = _figures("bench/sun.py", "--reference", "20")
    sun = figures["lauf_sun_hours_seconds"]
    assert sun["buildings"] == 6492
    assert float(sun["same_side_share"]) >= 0.9  # type: ignore[arg-type]
    assert "baseline_per_building_ms" in sun
    assert int(figures["lauf_sun_scenario_seconds"]["losing"]) > 0  # type: ignore[call-overload]
    assert "lauf_noise_seconds" in figures
    assert int(figures["lauf_viewshed_seconds"]["buildings_seeing"]) > 0  # type: ignore[call-overload]


def test_tile_route_bench_runs_small() -> None:
    figures = _figures("bench/tile_route.py", "--requests", "40")
    assert float(figures["tile_route_cpu_us"]["value"]) > 0  # type: ignore[arg-type]
    assert "tile_route_304_cpu_us" in figures


def test_participation_bench_runs_with_two_workers_on_postgres(postgres_server: str) -> None:
    database = fresh_database(postgres_server)
    args = ("--places", "300", "--proposals", "600", "--votes", "5000", "--repeat", "3", "--clients", "4")
    args += ("--seconds", "1", "--workers", "2")
    figures = _figures("bench/participation.py", *args, "--database-url", database)
    assert figures["post_places_per_s"]["backend"] == "postgres"
    assert figures["acknowledged_missing"]["value"] == 0
    assert figures["vote_proposals_per_s"]["errors"] == 0


def test_client_bench_runs_on_lauf() -> None:
    figures = _figures("bench/client.py", "--repeat", "1")
    client = figures["client_buildings_seconds"]
    assert client["rows"] == 6492
    assert float(client["baseline"]) > 0  # type: ignore[arg-type]
    assert figures["geojson_paging_100_seconds"]["rows"] == 6492
    assert figures["geojson_paging_100_seconds"]["pages"] == 65
    assert figures["geojson_paging_1000_seconds"]["rows"] == 6492
