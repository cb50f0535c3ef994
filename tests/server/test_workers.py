"""``twin3d serve --workers 2``: every participation and scenario route works whichever worker answers, on both
live-store backends, and the rate limits hold for the server as a whole, not per worker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.services.server import call, serving_workers
from twin3d.cli import main
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("live_settings")]  # both live-store backends

API = "/api/twins/lauf"


@contextmanager
def workers(store_dir: Path, demo_paths: PathSettings, env: dict[str, str]) -> Iterator[tuple[int, frozenset[int]]]:
    """``twin3d serve --workers 2`` on a free port; yields the port and the workers' process ids."""
    with serving_workers(store_dir, demo_paths, workers=2, env=env, log=store_dir.parent / "serve.log") as served:
        yield served.port, served.workers


@pytest.fixture
def store_dir(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> Path:
    var = tmp_path / "var"
    var.mkdir()
    (var / "lauf.duckdb").symlink_to(demo_paths.store_file("lauf").resolve())
    return var


PLACE = {
    "kind": "happy",
    "category": "green",
    "title": "Am Fluss",
    "text": "Hier sitze ich gern.",
    "location": {"lon": 11.2783, "lat": 49.5101},
}
GENEROUS = {
    f"TWIN3D_PARTICIPATION_{name}": "100000"
    for name in ("POSTS_PER_MINUTE", "POSTS_BURST", "PARTICIPANT_POSTS_PER_MINUTE", "PARTICIPANT_POSTS_BURST")
}


def test_every_write_is_seen_by_both_workers(store_dir: Path, demo_paths: PathSettings) -> None:
    with workers(store_dir, demo_paths, GENEROUS) as (port, pids):
        status, joined = call(port, "POST", f"{API}/participants")
        assert status == 201, joined
        me = {"X-Participant-Token": joined["token"]}
        ids = []
        for i in range(6):
            status, posted = call(port, "POST", f"{API}/places", {**PLACE, "title": f"Ort {i}"}, me)
            assert status == 201, posted
            ids.append(posted["place_id"])
        assert ids == sorted(set(ids))  # ids from one sequence, whichever worker wrote
        for place_id in ids:  # a vote and a comment on each, then read back through fresh connections
            assert call(port, "POST", f"{API}/places/{place_id}/votes", {"value": 1}, me)[0] == 200
            assert call(port, "POST", f"{API}/places/{place_id}/comments", {"text": "Ja!"}, me)[0] == 201
        for _ in range(4):
            status, listing = call(port, "GET", f"{API}/places?sort=old&cluster=false")
            assert status == 200
            assert [p["place_id"] for p in listing["places"]][-6:] == ids
            assert {p["votes"]["up"] for p in listing["places"] if p["place_id"] in ids} == {1}
        spec = {"name": "Zwei Prozesse", "measures": [{"kind": "close_facility", "facility_id": "none"}]}
        status, refused = call(port, "POST", f"{API}/scenarios", spec)
        assert status == 422, refused  # validated the same way in every worker
        assert call(port, "GET", f"{API}/scenarios")[0] == 200
    assert len(pids) == 2


def test_rate_limits_hold_for_the_server_not_per_worker(store_dir: Path, demo_paths: PathSettings) -> None:
    """Three new participant tokens per address: a fourth is refused, however many workers share the load."""
    env = {"TWIN3D_PARTICIPATION_PARTICIPANTS_BURST": "3", "TWIN3D_PARTICIPATION_PARTICIPANTS_PER_HOUR": "0.01"}
    with workers(store_dir, demo_paths, env) as (port, _):
        statuses = [call(port, "POST", f"{API}/participants")[0] for _ in range(10)]
    assert statuses == [201] * 3 + [429] * 7


def test_a_bad_live_database_url_is_refused_in_one_line(tmp_path: Path) -> None:
    """``twin3d serve`` names the variable and the fix, exits 2 and starts nothing (no traceback)."""
    env = {"TWIN3D_STORE_DIR": str(tmp_path), "TWIN3D_LIVE_DATABASE_URL": "mysql://twin3d@db/twin3d"}
    result = CliRunner().invoke(main, ["serve", "--port", "1"], env=env)
    assert result.exit_code == 2, result.output
    assert "TWIN3D_LIVE_DATABASE_URL" in result.output
    assert "postgresql://" in result.output
    assert "Traceback" not in result.output
