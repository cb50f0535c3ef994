"""A client of the real app on a private live store, for the tests of citizens' places and proposals."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from twin3d.auth.users import add_user
from twin3d.settings import PathSettings

API = "/api/twins/lauf"


def place(**change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "improvable",
        "category": "mobility",
        "title": "Radweg zur Schule",
        "text": "Hier fehlt ein sicherer Radweg.",
        "location": {"lon": 11.2780, "lat": 49.5100},
        "self_description": {"age_band": "30_44", "household": "family_school_children"},
    }
    body.update(change)
    return body


class Twin:
    """A client on a private live store, with helpers for tokens and roles."""

    def __init__(self, client: TestClient, paths: PathSettings) -> None:
        self.client = client
        self.paths = paths
        self._bearers: dict[str, dict[str, str]] = {}

    def participant(self) -> dict[str, str]:
        response = self.client.post(f"{API}/participants")
        assert response.status_code == 201, response.text
        return {"X-Participant-Token": response.json()["token"]}

    def bearer(self, role: str) -> dict[str, str]:
        if role == "public":
            return {}
        if role not in self._bearers:
            _, token = add_user(self.paths.users_file, f"{role}-user", role)
            self._bearers[role] = {"Authorization": f"Bearer {token}"}
        return self._bearers[role]

    def post_place(self, headers: dict[str, str], **change: Any) -> dict[str, Any]:
        response = self.client.post(f"{API}/places", json=place(**change), headers=headers)
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found
