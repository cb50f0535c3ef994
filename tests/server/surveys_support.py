"""Helpers of the survey tests: a real SMTP server (aiosmtpd) in the test process, a survey, an app on a private
live store with users of each role."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from tests.conftest import GENEROUS_PARTICIPATION, free_port
from twin3d.auth.users import add_user
from twin3d.server.app import create_app
from twin3d.settings import MailSettings, ParticipationSettings, PathSettings, ServerSettings

API = "/api/twins/lauf"
TOKEN = re.compile(r"survey-confirm=([A-Za-z0-9_\-]+)")


def localized(de: str, en: str | None = None) -> dict[str, str]:
    return {"de": de, "en": en or de}


def option(oid: str, de: str, en: str | None = None) -> dict[str, Any]:
    return {"id": oid, "label": localized(de, en)}


SURVEY: dict[str, Any] = {
    "title": localized("Mobilität in Lauf", "Mobility in Lauf"),
    "intro": localized("Fünf Fragen, zwei Minuten.", "Five questions, two minutes."),
    "questions": [
        {
            "id": "mode",
            "kind": "single",
            "text": localized("Wie kommen Sie zur Arbeit?", "How do you get to work?"),
            "options": [option("bus", "Bus"), option("bike", "Fahrrad", "Bike"), option("car", "Auto", "Car")],
        },
        {
            "id": "wishes",
            "kind": "multiple",
            "required": False,
            "text": localized("Was fehlt Ihnen?", "What do you miss?"),
            "options": [
                option("trees", "Bäume", "Trees"),
                option("benches", "Bänke", "Benches"),
                option("light", "Licht", "Light"),
            ],
        },
        {
            "id": "safety",
            "kind": "scale",
            "text": localized("Wie sicher fühlen Sie sich auf dem Rad?", "How safe do you feel on a bike?"),
            "scale": {
                "low": 1,
                "high": 5,
                "low_label": localized("gar nicht", "not at all"),
                "high_label": localized("sehr", "very"),
            },
        },
        {"id": "idea", "kind": "text", "required": False, "text": localized("Ihre Idee", "Your idea")},
    ],
}


def answers(
    mode: str = "bus", wishes: list[str] | None = None, safety: int = 3, idea: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"mode": mode, "wishes": wishes or [], "safety": safety}
    if idea is not None:
        out["idea"] = idea
    return out


class Inbox:
    """What the SMTP server received: each message as the mail client sent it, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._cond:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def wait(self, count: int, timeout: float = 15) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} of {count} mails arrived"
                self._cond.wait(left)
            return list(self.messages)

    def token(self, index: int = -1) -> str:
        """The confirmation token in a mail's link."""
        body = self.messages[index].get_body(preferencelist=("plain",))
        assert body is not None
        found = TOKEN.search(body.get_content())
        assert found, body.get_content()
        return found.group(1)


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a free local port, in this process."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def mail_settings(port: int, public_url: str = "http://testserver", **change: Any) -> MailSettings:
    return MailSettings(host="127.0.0.1", port=port, sender="beteiligung@lauf.example", public_url=public_url, **change)


class SurveyApp:
    """A client of the real app on a private live store, with a bearer token per role."""

    def __init__(self, client: TestClient, paths: PathSettings) -> None:
        self.client = client
        self.paths = paths
        self._bearers: dict[str, dict[str, str]] = {}

    def bearer(self, role: str) -> dict[str, str]:
        if role == "public":
            return {}
        if role not in self._bearers:
            _, token = add_user(self.paths.users_file, f"{role}-user", role)
            self._bearers[role] = {"Authorization": f"Bearer {token}"}
        return self._bearers[role]

    def survey(self, spec: dict[str, Any] | None = None, *, open_it: bool = True) -> int:
        admin = self.bearer("admin")
        made = self.client.post(f"{API}/surveys", json=spec or SURVEY, headers=admin)
        assert made.status_code == 201, made.text
        survey_id = int(made.json()["survey_id"])
        if open_it:
            self.state(survey_id, "open")
        return survey_id

    def state(self, survey_id: int, state: str) -> None:
        done = self.client.post(f"{API}/surveys/{survey_id}/state", json={"state": state}, headers=self.bearer("admin"))
        assert done.status_code == 200, done.text

    def codes(self, survey_id: int, count: int) -> list[str]:
        made = self.client.post(
            f"{API}/surveys/{survey_id}/codes", json={"count": count, "format": "json"}, headers=self.bearer("admin")
        )
        assert made.status_code == 201, made.text
        return list(made.json()["codes"])

    def answer(self, survey_id: int, **body: Any) -> Any:
        return self.client.post(f"{API}/surveys/{survey_id}/responses", json=body)

    def results(self, survey_id: int, role: str = "admin", query: str = "") -> Any:
        return self.client.get(f"{API}/surveys/{survey_id}/results{query}", headers=self.bearer(role))


def open_app(
    root: Path,
    demo_paths: PathSettings,
    mail: MailSettings | None = None,
    participation: ParticipationSettings = GENEROUS_PARTICIPATION,
) -> tuple[TestClient, PathSettings]:
    """The real app (lifespan entered) over the built demo twins, with a live store of its own under ``root``."""
    store_dir = root / "var"
    store_dir.mkdir(parents=True)
    (store_dir / "lauf.duckdb").symlink_to(demo_paths.store_file("lauf").resolve())
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)
    client = TestClient(create_app(ServerSettings(), paths, participation, mail=mail or MailSettings()))
    client.__enter__()
    return client, paths
