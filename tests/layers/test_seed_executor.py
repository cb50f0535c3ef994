"""A layer's vector tiles cut by ranges of tiles on workers: the same files as cut in one query.

A Land's parcels or buildings as a layer are millions of features. On a cluster of several machines each task cuts
the tiles under a range of tile columns from the features near them, and what a GIS user fetches must not depend
on which process cut it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.layers.conftest import BUILDINGS, fingerprint
from twin3d.cli import main
from twin3d.executor import ExecutorSpec, open_executor
from twin3d.layers.catalogue import layer_dir, layer_file
from twin3d.layers.context import LoadOptions, TwinInfo
from twin3d.layers.load import load_layer
from twin3d.layers.tiles import SEED_DIR, SEED_ZOOMS, vector_collection
from twin3d.settings import PathSettings
from twin3d.store.connection import connect
from twin3d.store.tile_seed import RANGES_PER_WORKER, column_ranges, write_seeded


def _tiles(paths: PathSettings, lauf: TwinInfo, folder: str) -> dict[str, str]:
    """The layer's tiles seeded in this process, in a store folder of its own (the layer id is in every tile)."""
    own = paths.model_copy(update={"store_dir": paths.store_dir / folder})
    entry, _ = load_layer(own, "lauf", BUILDINGS, LoadOptions(title="Gebäude", layer_id="haeuser"), info=lauf)
    return fingerprint(layer_file(own, entry, "tiles"))


@pytest.mark.parametrize("spec", [ExecutorSpec("processes", 2), ExecutorSpec("dask", 2)], ids=lambda s: s.kind)
def test_tiles_cut_by_ranges_on_two_workers_are_the_files_cut_in_one_query(
    paths: PathSettings, lauf: TwinInfo, spec: ExecutorSpec, tmp_path: Path
) -> None:
    entry, _ = load_layer(paths, "lauf", BUILDINGS, LoadOptions(title="Gebäude", layer_id="haeuser"), info=lauf)
    here = fingerprint(layer_file(paths, entry, "tiles"))
    collection = vector_collection(entry.id, layer_file(paths, entry, "features"), entry.fields)
    con = connect()
    try:
        with open_executor(spec) as runner:
            written = write_seeded(con.cursor(), collection, tmp_path / "ranges", SEED_ZOOMS, runner, ranges=True)
            ranged = column_ranges(con.cursor(), collection, SEED_ZOOMS.start, runner.workers * RANGES_PER_WORKER)
    finally:
        con.close()
    assert len(ranged) >= 2  # Lauf lies across two columns of zoom 12: features on the edge reach both ranges
    assert written == sum(name.endswith(".pbf") for name in here) > 100
    assert fingerprint(tmp_path / "ranges") == here


def test_the_cli_cuts_a_layer_on_a_dask_cluster(
    paths: PathSettings, lauf: TwinInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = _tiles(paths, lauf, "here")
    for name, value in (
        ("TWIN3D_PIPELINES_DIR", paths.pipelines_dir),
        ("TWIN3D_STORE_DIR", paths.store_dir),
        ("TWIN3D_TILES_DIR", paths.tiles_dir),
    ):
        monkeypatch.setenv(name, str(value))
    result = CliRunner().invoke(
        main,
        ["layers", "add", "lauf", str(BUILDINGS), "--id", "haeuser", "--executor", "dask", "--workers", "2"],
    )
    assert result.exit_code == 0, result.output
    assert fingerprint(layer_dir(paths, "lauf", "haeuser") / SEED_DIR) == here
