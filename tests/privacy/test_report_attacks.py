"""The population report's age pyramids over HTTP, judged against the microdata: a district's single years by sex
are keyed-noise counts of the gate; a count of one or two persons never shows, neither in its cell nor through a
band total beside it, and asking again (or in the other language) teaches nothing new."""

from __future__ import annotations

import numpy as np
import pytest

from tests.privacy.conftest import Http
from twin3d.population.privacy import PrivacyRules
from twin3d.population.pyramids import TOP_AGE
from twin3d.settings import PathSettings
from twin3d.store.connection import connect

pytestmark = pytest.mark.slow
RULES = PrivacyRules()


def _true_pyramids(paths: PathSettings) -> dict[str, np.ndarray]:
    """Per district: persons by (sex: female, male) x single year, from the store's microdata (replicate 0)."""
    con = connect(paths.store_file("rostock"), read_only=True)
    rows = con.execute(
        """
        SELECT h.district_id, p.sex = 'm', least(p.age, ?), count(*)
        FROM persons p JOIN households h USING (replicate, household_id)
        WHERE p.replicate = 0 AND h.district_id IS NOT NULL GROUP BY ALL
        """,
        [TOP_AGE],
    ).fetchall()
    con.close()
    out: dict[str, np.ndarray] = {}
    for district, male, age, n in rows:
        out.setdefault(district, np.zeros((2, TOP_AGE + 1), np.int64))[int(male), age] = n
    return out


def test_the_pyramids_show_no_small_count_and_no_exact_one(http: Http, privacy_paths: PathSettings) -> None:
    status, report = http.request("GET", "/api/twins/rostock/population/report")
    assert status == 200
    truth = _true_pyramids(privacy_paths)
    shown = small_hidden = exact = 0
    for pyramid in report["pyramids"]:
        true = truth[pyramid["id"]]
        published = np.array([pyramid["female"], pyramid["male"]], dtype=object)
        hidden = np.equal(published, None)
        small = (true > 0) & (true < RULES.min_group)
        assert hidden[small].all(), f"{pyramid['name']}: a count of 1 or 2 persons is shown"
        small_hidden += int(small.sum())
        values = published[~hidden].astype(np.int64)
        assert np.abs(values - true[~hidden]).max() <= RULES.noise_amplitude
        shown += values.size
        exact += int((values == true[~hidden]).sum())
        # A band's synthetic total is given only where none of its years is hidden: no total beside a hidden cell.
        for band, total in zip(pyramid["register"], pyramid["synthetic_bands"], strict=True):
            years = hidden[:, band["lo"] : band["hi"] + 1]
            assert (total is None) == bool(years.any())
    assert small_hidden > 0  # the attack met small counts, and the gate hid every one
    assert exact < 0.5 * shown  # most counts carry noise: a shown count is no exact count


def test_asking_again_or_in_english_gives_the_same_published_counts(http: Http) -> None:
    first = http.request("GET", "/api/twins/rostock/population/report")[1]["pyramids"]
    again = http.request("GET", "/api/twins/rostock/population/report")[1]["pyramids"]
    assert first == again
    status, page = http.request("GET", "/api/twins/rostock/population/report.html", lang="en")
    assert status == 200
    assert "Age pyramids per district" in str(page)
