"""The clear e-mail address of a survey answer is in no store and no log: a double opt-in round trip (and its
refusals and failures), then the live store's bytes (the SQLite files; every table of the PostgreSQL schema as
text), the rate-limit store and every log record are searched for it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.server.surveys_support import API, Inbox, SurveyApp, answers, mail_settings, open_app, smtp_server
from twin3d.settings import LiveSettings, PathSettings
from twin3d.store.live.postgres import schema_name

pytestmark = pytest.mark.usefixtures("live_settings")  # both live-store backends

ADDRESS = "Grete.Geheim-4711@Mailbox.example.org"
NEEDLES = ("grete.geheim", "geheim-4711", "mailbox.example")  # any part of the address, in any case


def found_in(data: bytes) -> list[str]:
    lower = data.lower()
    return [n for n in NEEDLES if n.encode() in lower or n.encode("utf-16-le") in lower]


def postgres_text(url: str, twin: str) -> bytes:
    """Every row of every table of the twin's schema and of the shared rate limits, as PostgreSQL's text."""
    import psycopg  # noqa: PLC0415

    out = []
    with psycopg.connect(url, autocommit=True) as con:
        for schema in (schema_name(twin), "twin3d_shared"):
            tables = con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
            ).fetchall()
            for (table,) in tables:
                rows = con.execute(f'SELECT t::text FROM "{schema}"."{table}" AS t').fetchall()
                out += [f"{schema}.{table}: {r[0]}" for r in rows]
    return "\n".join(out).encode()


def store_bytes(store_dir: Path) -> bytes:
    """Every file of the store folder this app wrote (the SQLite live store with its -wal and -shm, the rate limits,
    the keys), not the symlinked build stores."""
    return b"".join(p.read_bytes() for p in sorted(store_dir.rglob("*")) if p.is_file() and not p.is_symlink())


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as served:
        yield served


@pytest.mark.usefixtures("built")
def test_the_address_is_in_no_store_and_no_log(
    tmp_path: Path,
    demo_paths: PathSettings,
    *,
    live_settings: LiveSettings,
    inbox: tuple[Inbox, int],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    mails, port = inbox
    caplog.set_level(logging.DEBUG)
    client, paths = open_app(tmp_path / "a", demo_paths, mail_settings(port))
    app = SurveyApp(client, paths)
    try:
        sid = app.survey()
        sent = app.answer(sid, answers=answers(idea="Mehr Bäume"), email=ADDRESS, lang="en")
        assert sent.status_code == 202, sent.text
        assert app.answer(sid, answers=answers(), email=ADDRESS.upper()).status_code == 409
        mails.wait(1)
        assert mails.envelopes[0][1] == [ADDRESS.lower()]  # the mail did go to the address
        assert found_in(mails.messages[0].as_bytes())  # and the search finds it where it is
        assert client.post(f"{API}/surveys/confirmations", json={"token": mails.token()}).status_code == 200
        assert app.answer(sid, answers=answers(), email=ADDRESS).status_code == 409
        export = client.get(f"{API}/surveys/{sid}/responses.csv", headers=app.bearer("admin"))
        texts = client.get(f"{API}/surveys/{sid}/texts", headers=app.bearer("admin"))
        assert not found_in(export.content + texts.content)
        assert client.get(f"{API}/lens").status_code == 200

        # A mail that cannot be delivered logs its failure, without the address.
        down, down_paths = open_app(tmp_path / "b", demo_paths, mail_settings(free_port(), timeout_s=3))
        try:
            down_app = SurveyApp(down, down_paths)
            assert down_app.answer(down_app.survey(), answers=answers(), email=ADDRESS).status_code == 503
        finally:
            down.__exit__(None, None, None)
        assert any("confirmation mail was not sent" in r.getMessage() for r in caplog.records)

        if live_settings.database_url:
            assert not found_in(postgres_text(live_settings.database_url, "lauf"))
            assert postgres_text(live_settings.database_url, "lauf").count(b"survey_responses:") == 1
        assert not found_in(store_bytes(paths.store_dir))  # while the app runs: the WAL holds the latest writes
    finally:
        client.__exit__(None, None, None)
    assert not found_in(store_bytes(paths.store_dir))  # after the checkpoint at close
    assert not found_in(store_bytes(tmp_path / "b" / "var"))

    # The SMTP server under test (aiosmtpd, logger "mail.log") has to know the address; twin3d's records must not.
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert ours  # the mail failure at least
    for record in ours:
        text = record.getMessage() + (record.exc_text or "")
        assert not found_in(text.encode()), (record.name, text)
    out, err = capfd.readouterr()
    assert not found_in((out + err).encode())
