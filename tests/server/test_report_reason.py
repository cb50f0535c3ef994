"""A report names its reason: the server never files one under a default ("Werbung oder Spam" was what a report
without a chosen reason became in the viewer), and a missing or empty reason is refused with a 422 naming it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.server.participation_twin import API, Twin

pytestmark = pytest.mark.usefixtures("live_settings")  # both live-store backends


def test_a_report_without_a_reason_is_refused_and_files_nothing(make_twin: Callable[..., Twin]) -> None:
    twin = make_twin()
    place_id = twin.post_place(twin.participant())["place_id"]
    url = f"{API}/places/{place_id}/reports"
    for body in ({}, {"text": "Bitte prüfen"}, {"reason": ""}, {"reason": None}, {"reason": "nonsense"}):
        response = twin.client.post(url, json=body, headers=twin.participant())
        assert response.status_code == 422, (body, response.text)
        assert [e["loc"] for e in response.json()["detail"]] == [["body", "reason"]], body
    # Nothing was filed: the queue is empty and the place carries no open report.
    assert twin.client.get(f"{API}/moderation/queue", headers=twin.bearer("admin")).json() == []
    assert twin.client.get(f"{API}/places/{place_id}").json().get("reports_open", 0) == 0
    chosen = twin.client.post(url, json={"reason": "off_topic"}, headers=twin.participant())
    assert chosen.status_code == 201
    queue = twin.client.get(f"{API}/moderation/queue", headers=twin.bearer("admin")).json()
    assert [q["reasons"] for q in queue] == [{"off_topic": 1}]
