"""Attacks on the representation lens through HTTP: a total beside a withheld count, and one participant with many
pins. Every withheld count is audited by linear programming over all published figures of the lens: the attacker
must not be able to prove a withheld count below the minimum."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.participation.test_lens import interval
from tests.privacy.conftest import Http, attack_server
from twin3d.participation import lens as lens_module
from twin3d.population.privacy import with_margins
from twin3d.settings import PathSettings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("live_settings")]  # both live-store backends
API = "/api/twins/lauf"


@pytest.fixture
def lens_http(privacy_paths: PathSettings, tmp_path: pytest.TempPathFactory) -> Iterator[Http]:
    """A server with a live store of its own (each attack starts with no places)."""
    root = tmp_path
    paths = PathSettings(
        pipelines_dir=privacy_paths.pipelines_dir, store_dir=root / "var", tiles_dir=privacy_paths.tiles_dir
    )
    paths.store_dir.mkdir()
    for name in ("lauf.duckdb", "lauf.privacy-key"):
        (paths.store_dir / name).symlink_to((privacy_paths.store_dir / name).resolve())
    with attack_server(paths) as client:
        yield client


def contribute(http: Http, token: str | None, cell: dict[str, Any], *, band: str, household: str) -> str:
    """Post a place as a participant (a new one when ``token`` is None); returns the token."""
    if token is None:
        status, body = http.request("POST", f"{API}/participants")
        assert status == 201, body
        token = str(body["token"])
    place = {
        "kind": "improvable",
        "category": "mobility",
        "title": "Gehweg zu schmal",
        "text": "Mit dem Rollator kommt man hier nicht vorbei.",
        "location": {"lon": cell["lon"], "lat": cell["lat"]},
        "self_description": {"age_band": band, "household": household},
    }
    status, body = http.request("POST", f"{API}/places", place, {"X-Participant-Token": token})
    assert status == 201, body
    return token


def published_table(lens: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """The lens as the attacker reads it: the cell x group table with its totals, and which entries are unknown.

    Row totals (described participants per cell) are not published, but a shown share gives them away: count /
    share. The row of participants outside every published cell is unknown.
    """
    groups = [g["id"] for g in lens["groups"]]
    cells = [c["h3"] for c in lens["cells"]]
    table = np.zeros((len(cells) + 2, len(groups) + 1))
    unknown = np.zeros(table.shape, bool)
    unknown[len(cells), :] = True  # outside every published cell
    for entry in lens["cell_groups"]:
        i, j = cells.index(entry["h3"]), groups.index(entry["group"])
        if entry["contributions"] is None:
            unknown[i, j] = True
        else:
            table[i, j] = entry["contributions"]
            if entry["contribution_share"]:
                table[i, -1] = round(entry["contributions"] / entry["contribution_share"])
    for i in range(len(cells)):
        unknown[i, -1] = table[i, -1] == 0 and bool(unknown[i, :-1].any() or table[i, :-1].any())
    for j, g in enumerate(lens["groups"]):
        unknown[-1, j] = g["contributions"] is None
        table[-1, j] = g["contributions"] or 0
    unknown[-1, -1] = lens["described"] is None
    table[-1, -1] = lens["described"] or 0
    return table, unknown, cells, groups


def lens_attack(http: Http) -> list[tuple[int, ...]]:
    """The issue's case, and one participant with six pins; returns the withheld entries the published lens pins
    below the minimum (the attacker's catch)."""
    rows = http.ndjson(f"{API}/population/h3", resolution=8)
    rows = sorted((r for r in rows if r["persona"] == "*"), key=lambda r: -r["persons"])
    a, b = rows[0], rows[1]
    # 7 contributions of "80+, living alone", 6 in cell A and 1 in cell B; couples beside them.
    for _ in range(6):
        contribute(http, None, a, band="80_plus", household="alone")
    contribute(http, None, b, band="80_plus", household="alone")
    for k in range(12):
        contribute(http, None, a if k % 3 else b, band="30_44", household="couple")
    # One participant with six pins, two of them in cell B: they count once, in cell A.
    token = contribute(http, None, a, band="18_29", household="alone")
    for k in range(5):
        contribute(http, token, b if k < 2 else a, band="18_29", household="alone")
    lens = http.get(f"{API}/lens", resolution=8)
    assert lens["counted"] == "participants"
    assert lens["contributions"] == 6 + 1 + 12 + 1
    table, unknown, cells, names = published_table(lens)
    truth = np.zeros((len(cells) + 1, len(names)), np.int64)
    ia, ib = cells.index(a["h3"]), cells.index(b["h3"])
    truth[ia, names.index("very_old_alone")] = 6
    truth[ib, names.index("very_old_alone")] = 1
    truth[ia, names.index("couples")] = 8
    truth[ib, names.index("couples")] = 4
    truth[ia, names.index("young_singles")] = 1
    full = with_margins(truth)
    assert np.array_equal(table[~unknown], full[~unknown]), "what is shown is the truth"
    minimum = lens["min_count"]
    pinned = []
    for at in map(tuple, np.argwhere((full > 0) & (full < minimum))):
        if not unknown[at] or interval(full, unknown, at)[1] < minimum:
            pinned.append(at)
    return pinned


def test_a_total_beside_a_withheld_count_gives_nothing_away(lens_http: Http) -> None:
    assert lens_attack(lens_http) == []
    groups = {g["id"]: g for g in lens_http.get(f"{API}/lens", resolution=8)["groups"]}
    assert groups["young_singles"]["contributions"] is None, "one participant with six pins is one: withheld"


def _row_by_row(counts: np.ndarray, min_count: int) -> np.ndarray:
    """The old lens: small counts hidden within each row only, totals beside them shown."""
    table = with_margins(counts)
    return (table > 0) & (table < min_count) & (np.arange(table.shape[0]) < counts.shape[0])[:, None]


def test_the_attack_catches_suppression_row_by_row(lens_http: Http, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lens_module, "suppress_with_margins", _row_by_row)
    assert lens_attack(lens_http), "with the group totals shown, the one in cell B is given away"
