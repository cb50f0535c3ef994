"""Surveys through the real app on both live-store backends: double opt-in through a real SMTP server, each person
once (address or code), results through the privacy gate (with attacks), free texts for the administration only,
exports, codes, the lens."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.surveys_support import (
    API,
    SURVEY,
    Inbox,
    SurveyApp,
    answers,
    localized,
    mail_settings,
    open_app,
    option,
    smtp_server,
)
from twin3d.pipeline.report import BuildReport
from twin3d.settings import MailSettings, PathSettings

pytestmark = pytest.mark.usefixtures("live_settings")  # both live-store backends


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as served:
        yield served


@pytest.fixture
def make_app(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[Callable[..., SurveyApp]]:
    opened: list[TestClient] = []

    def make(mail: MailSettings | None = None, **kw: Any) -> SurveyApp:
        client, paths = open_app(tmp_path / f"app{len(opened)}", demo_paths, mail, **kw)
        opened.append(client)
        return SurveyApp(client, paths)

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def app(make_app: Callable[..., SurveyApp], smtp: tuple[Inbox, int]) -> SurveyApp:
    return make_app(mail_settings(smtp[1]))


def test_double_opt_in_round_trip_through_a_real_smtp_server(app: SurveyApp, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    sid = app.survey()
    offered = app.client.get(f"{API}/surveys/{sid}").json()
    assert (offered["phase"], offered["email"], offered["codes"], offered["results"]) == ("open", True, True, False)

    sent = app.answer(sid, answers=answers("bike", ["trees"], 4), email="Anna.Muster@Example.org ", lang="de")
    assert sent.status_code == 202, sent.text
    assert sent.json()["status"] == "pending"
    (mail,) = inbox.wait(1)
    assert inbox.envelopes[0] == ("beteiligung@lauf.example", ["anna.muster@example.org"])
    assert mail["To"] == "anna.muster@example.org"
    assert "Mobilität in Lauf" in mail["Subject"]
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert "http://testserver/#twin=lauf&survey-confirm=" in body.get_content()  # the token in the fragment
    assert app.results(sid).json()["status"]["pending_email"] == 1
    assert app.results(sid).json()["respondents"] in (0, None)  # pending answers do not count

    # The same person again, written differently, while the first answer waits: refused, in German and English.
    again = app.answer(sid, answers=answers("car"), email="anna.muster@example.ORG", lang="en")
    assert again.status_code == 409, again.text
    assert again.json()["reason"] == "survey_already_answered"
    assert set(again.json()["message"]) == {"de", "en"}
    assert "anna" not in again.text.lower()
    assert len(inbox.messages) == 1  # no second mail

    token = inbox.token()
    confirmed = app.client.post(f"{API}/surveys/confirmations", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["already"] is False
    assert confirmed.json()["title"]["de"] == "Mobilität in Lauf"
    assert app.client.post(f"{API}/surveys/confirmations", json={"token": token}).json()["already"] is True
    status = app.results(sid).json()["status"]
    assert (status["confirmed_email"], status["pending_email"]) == (1, 0)

    # And after the confirmation: still once.
    third = app.answer(sid, answers=answers(), email="anna.muster@example.org")
    assert third.status_code == 409
    unknown = app.client.post(f"{API}/surveys/confirmations", json={"token": "x" * 43})
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "survey_link_unknown")


def test_two_answers_sent_before_either_is_confirmed_count_once(app: SurveyApp, smtp: tuple[Inbox, int]) -> None:
    """A race the submit check cannot see (had two workers taken one address at once) is caught when the second
    link is followed: the first confirmed answer counts, the other is refused and removed."""
    inbox, _ = smtp
    sid = app.survey()
    assert app.answer(sid, answers=answers(), email="ben@example.org").status_code == 202
    store = app.client.app.state.live.get("lauf", create=False)  # type: ignore[attr-defined]
    racing = "racing-token-of-the-other-worker"
    store.write(  # the second pending answer of the same person, as the racing worker would have written it
        lambda cur: cur.execute(
            "INSERT INTO survey_responses (survey_id, person, via, status, confirm_hash, expires_at, created_at) "
            "SELECT survey_id, person, via, status, ?, expires_at, created_at FROM survey_responses",
            [hashlib.sha256(racing.encode()).hexdigest()],
        )
    )
    inbox.wait(1)
    assert app.client.post(f"{API}/surveys/confirmations", json={"token": inbox.token()}).status_code == 200
    twice = app.client.post(f"{API}/surveys/confirmations", json={"token": racing})
    assert (twice.status_code, twice.json()["reason"]) == (409, "survey_already_answered")
    status = app.results(sid).json()["status"]
    assert (status["confirmed_email"], status["pending_email"]) == (1, 0)


def test_a_lapsed_answer_is_refused_and_may_be_sent_again(app: SurveyApp, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    sid = app.survey()
    assert app.answer(sid, answers=answers(), email="carla@example.org").status_code == 202
    store = app.client.app.state.live.get("lauf", create=False)  # type: ignore[attr-defined]
    store.write(lambda cur: cur.execute("UPDATE survey_responses SET expires_at = ?", ["2000-01-01 00:00:00"]))
    lapsed = app.client.post(f"{API}/surveys/confirmations", json={"token": inbox.wait(1) and inbox.token()})
    assert (lapsed.status_code, lapsed.json()["reason"]) == (410, "survey_link_expired")
    assert app.answer(sid, answers=answers(), email="carla@example.org").status_code == 202  # may answer anew
    assert app.client.post(f"{API}/surveys/confirmations", json={"token": inbox.wait(2) and inbox.token()}).is_success


def test_a_mail_that_cannot_be_sent_keeps_nothing(make_app: Callable[..., SurveyApp], smtp: tuple[Inbox, int]) -> None:
    from tests.conftest import free_port  # noqa: PLC0415

    down = make_app(mail_settings(free_port(), timeout_s=3))
    sid = down.survey()
    failed = down.answer(sid, answers=answers(), email="dora@example.org")
    assert failed.status_code == 503, failed.text
    assert "dora" not in failed.text
    assert down.results(sid).json()["status"]["pending_email"] == 0  # so the person can simply try again


def test_each_invitation_code_counts_once(app: SurveyApp) -> None:
    sid = app.survey()
    codes = app.codes(sid, 3)
    assert len(set(codes)) == 3
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    first = app.answer(sid, answers=answers(), code=codes[0].lower().replace("-", " "))
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "confirmed"
    used = app.answer(sid, answers=answers("car"), code=codes[0])
    assert (used.status_code, used.json()["reason"]) == (409, "survey_code_used")
    assert set(used.json()["message"]) == {"de", "en"}
    wrong = app.answer(sid, answers=answers(), code="ABCDE-FGHJK")
    assert (wrong.status_code, wrong.json()["reason"]) == (422, "survey_code_unknown")
    other = app.survey()
    assert app.answer(other, answers=answers(), code=codes[1]).status_code == 422  # codes belong to one survey
    batches = app.client.get(f"{API}/surveys/{sid}/codes", headers=app.bearer("admin")).json()
    assert [(b["batch"], b["made"], b["used"]) for b in batches] == [(1, 3, 1)]
    assert codes[1] not in json.dumps(batches)


def test_code_sheets_are_pdf_or_csv_and_shown_once(app: SurveyApp) -> None:
    sid = app.survey()
    admin = app.bearer("admin")
    pdf = app.client.post(f"{API}/surveys/{sid}/codes", json={"count": 14}, headers=admin)
    assert pdf.status_code == 201
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert "attachment" in pdf.headers["content-disposition"]
    assert pdf.headers["cache-control"] == "no-store"
    sheet = app.client.post(f"{API}/surveys/{sid}/codes", json={"count": 4, "format": "csv"}, headers=admin)
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert [r["batch"] for r in rows] == ["2"] * 4
    assert app.answer(sid, answers=answers(), code=rows[0]["code"]).status_code == 201
    for role in ("public", "council"):
        refused = app.client.post(f"{API}/surveys/{sid}/codes", json={"count": 1}, headers=app.bearer(role))
        assert refused.status_code == 403


def test_wrong_codes_are_limited_per_address(app: SurveyApp) -> None:
    sid = app.survey()
    statuses = [app.answer(sid, answers=answers(), code=f"ZZZZZ-ZZZ{i:02d}").status_code for i in range(12)]
    assert statuses[:10] == [422] * 10
    assert statuses[-1] == 429


def answer_many(app: SurveyApp, sid: int, given: list[dict[str, Any]], **extra: Any) -> None:
    codes = app.codes(sid, len(given))
    for code, body in zip(codes, given, strict=True):
        done = app.answer(sid, answers=body, code=code, **extra)
        assert done.status_code == 201, done.text


def small_counts(result: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Every shown count of persons from 1 to 2, and every shown total that pins a withheld count."""
    bad = []
    for q in result["questions"]:
        shown = [a for a in q["answers"] if not a["withheld"]]
        bad += [(q["id"], a["value"], a["count"]) for a in shown if 0 < a["count"] < 3]
        if q["answered"] is None:
            continue
        rest = [q["answered"] - a["count"] for a in shown]
        if q["kind"] == "multiple":  # those who did not tick an option are a group too
            bad += [(q["id"], "not " + a["value"], r) for a, r in zip(shown, rest, strict=True) if 0 < r < 3]
        elif q["kind"] != "text":  # the total minus the shown counts is the sum of the withheld ones
            hidden = q["answered"] - sum(a["count"] for a in shown)
            if 0 < hidden < 3 or sum(a["withheld"] for a in q["answers"]) == 1:
                bad.append((q["id"], "withheld sum", hidden))
    return bad


def test_results_never_show_fewer_than_three_persons(app: SurveyApp) -> None:
    sid = app.survey()
    given = (
        [answers("bus", ["trees", "benches"], 4, "Mehr Busse!")] * 5
        + [answers("bike", ["trees"], 5)] * 2
        + [answers("car", ["trees", "light"], 2, "Parkplätze")]
    )
    answer_many(app, sid, given, self_description={"age_band": "30_44", "household": "couple"})

    public_early = app.results(sid, "public")
    assert (public_early.status_code, public_early.json()["reason"]) == (403, "survey_results_later")
    council = app.results(sid, "council").json()
    assert council["respondents"] == 8
    mode = {a["value"]: a for a in council["questions"][0]["answers"]}
    assert mode["bus"]["count"] == 5
    assert mode["bike"]["withheld"]
    assert mode["car"]["withheld"]
    assert mode["bike"]["count"] is None
    wishes = {a["value"]: a for a in council["questions"][1]["answers"]}
    assert (wishes["trees"]["count"], wishes["benches"]["count"]) == (8, 5)  # all ticked trees: a group of none
    assert wishes["light"]["withheld"]
    assert not small_counts(council)
    safety = council["questions"][2]
    assert safety["mean"] is None  # a mean beside withheld counts would be an equation for them
    assert council["questions"][3]["answered"] == 6
    assert "Mehr Busse" not in json.dumps(council)
    assert "Parkplätze" not in json.dumps(council)

    app.state(sid, "closed")
    public = app.results(sid, "public")
    assert public.status_code == 200
    assert public.json()["questions"] == council["questions"]  # the same gate for every role
    assert "status" not in public.json() or public.json()["status"] is None
    # Filters and breakdowns are refused, not ignored: each would be a second table to difference against.
    for query in ("?age_band=30_44", "?household=couple", "?by=age_band", "?question=mode", "?status=pending"):
        refused = app.results(sid, "public", query)
        assert refused.status_code == 422, query
        assert app.client.get(f"{API}/surveys/{sid}/results.csv{query}").status_code == 422
    exported = list(csv.DictReader(io.StringIO(app.client.get(f"{API}/surveys/{sid}/results.csv").text)))
    by_answer = {(r["question"], r["answer"]): r for r in exported}
    assert by_answer[("mode", "bus")]["persons"] == "5"
    assert (by_answer[("mode", "car")]["persons"], by_answer[("mode", "car")]["withheld"]) == ("", "True")
    assert by_answer[("mode", "")]["persons"] == "8"


def test_a_survey_of_two_shows_no_count(app: SurveyApp) -> None:
    sid = app.survey()
    answer_many(app, sid, [answers("bus", ["trees"], 3), answers("bike", [], 3)])
    result = app.results(sid, "admin").json()
    assert (result["respondents"], result["respondents_withheld"]) == (None, True)
    for q in result["questions"]:
        assert q["answered"] in (None, 0)
        assert all(a["count"] in (0, None) for a in q["answers"])


def test_free_texts_and_single_answers_are_for_the_administration_only(app: SurveyApp) -> None:
    sid = app.survey()
    answer_many(app, sid, [answers("bus", idea=f"Idee Nummer {i}") for i in range(4)])
    app.state(sid, "closed")
    for role in ("public", "council"):
        assert app.client.get(f"{API}/surveys/{sid}/texts", headers=app.bearer(role)).status_code == 403
        assert app.client.get(f"{API}/surveys/{sid}/responses.csv", headers=app.bearer(role)).status_code == 403
        result = app.results(sid, role)
        assert result.status_code == 200
        assert "Idee Nummer" not in result.text
        assert "Idee Nummer" not in app.client.get(f"{API}/surveys/{sid}/results.csv", headers=app.bearer(role)).text
    texts = app.client.get(f"{API}/surveys/{sid}/texts", headers=app.bearer("admin")).json()
    assert sorted(t["text"] for t in texts) == [f"Idee Nummer {i}" for i in range(4)]
    export = app.client.get(f"{API}/surveys/{sid}/responses.csv", headers=app.bearer("admin"))
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 4
    assert {r["mode"] for r in rows} == {"bus"}
    assert {r["via"] for r in rows} == {"code"}
    assert not {"person", "email", "code_hash"} & set(rows[0])


def test_only_the_administration_defines_surveys(app: SurveyApp) -> None:
    for role in ("public", "council"):
        assert app.client.post(f"{API}/surveys", json=SURVEY, headers=app.bearer(role)).status_code == 403
    draft = app.survey(open_it=False)
    assert app.client.get(f"{API}/surveys/{draft}").status_code == 404  # drafts: the administration only
    assert draft not in [s["survey_id"] for s in app.client.get(f"{API}/surveys").json()]
    assert draft in [s["survey_id"] for s in app.client.get(f"{API}/surveys", headers=app.bearer("admin")).json()]
    assert app.answer(draft, answers=answers(), code="ABCDE-FGHJK").status_code == 404
    one_option = {**SURVEY, "questions": [{**SURVEY["questions"][0], "options": [option("bus", "Bus")]}]}
    assert app.client.post(f"{API}/surveys", json=one_option, headers=app.bearer("admin")).status_code == 422
    extra = {**SURVEY, "colour": "red"}
    assert app.client.post(f"{API}/surveys", json=extra, headers=app.bearer("admin")).status_code == 422
    changed = {**SURVEY, "title": localized("Neu", "New")}
    put = app.client.put(f"{API}/surveys/{draft}", json=changed, headers=app.bearer("admin"))
    assert put.status_code == 200
    assert put.json()["title"]["de"] == "Neu"
    app.state(draft, "open")
    answer_many(app, draft, [answers()])
    assert app.client.put(f"{API}/surveys/{draft}", json=SURVEY, headers=app.bearer("admin")).status_code == 409
    app.state(draft, "closed")
    late = app.answer(draft, answers=answers(), code=app.codes(draft, 1)[0])
    assert (late.status_code, late.json()["reason"]) == (409, "survey_not_open")


def test_answers_must_fit_their_questions(app: SurveyApp) -> None:
    sid = app.survey()
    code = app.codes(sid, 1)[0]
    for wrong, record in [
        ({"mode": "tram", "safety": 3}, "answers.mode"),
        ({"mode": "bus", "safety": 9}, "answers.safety"),
        ({"mode": "bus"}, "answers.safety"),
        ({"mode": "bus", "safety": 3, "wishes": ["trees", "rockets"]}, "answers.wishes"),
        ({"mode": "bus", "safety": 3, "colour": "red"}, "answers.colour"),
    ]:
        refused = app.answer(sid, answers=wrong, code=code)
        assert refused.status_code == 422, wrong
        assert refused.json()["record"] == record
    assert app.answer(sid, answers=answers(), code=code, website="http://spam").status_code == 422  # honeypot
    both = app.answer(sid, answers=answers(), code=code, email="x@example.org")
    assert both.status_code == 422
    assert app.answer(sid, answers=answers(), email="not an address").status_code == 422
    big = app.client.post(f"{API}/surveys/{sid}/responses", content=b"{" + b" " * 70_000 + b"}")
    assert big.status_code == 413
    assert app.answer(sid, answers=answers(), code=code).status_code == 201  # the code is still good


def test_without_mail_a_survey_takes_codes_only(make_app: Callable[..., SurveyApp]) -> None:
    app = make_app()
    sid = app.survey()
    assert app.client.get(f"{API}/surveys/{sid}").json()["email"] is False
    refused = app.answer(sid, answers=answers(), email="eva@example.org")
    assert (refused.status_code, refused.json()["reason"]) == (422, "survey_way_closed")


def test_self_descriptions_of_answers_count_in_the_lens(app: SurveyApp) -> None:
    before = app.client.get(f"{API}/lens").json()
    sid = app.survey()
    described = {"age_band": "30_44", "household": "family_young_children"}
    answer_many(app, sid, [answers()] * 6, self_description=described)
    after = app.client.get(f"{API}/lens").json()
    assert (after["described"] or 0) - (before["described"] or 0) == 6  # town-wide: in no cell
    assert after["contributions"] == (before["contributions"] or 0) + 6
    grown = [g for g in after["groups"] if (g["contributions"] or 0) >= 6]
    assert len(grown) == 1, after["groups"]  # the one persona of young families
    assert sum(c["contributions"] or 0 for c in after["cells"]) == sum(c["contributions"] or 0 for c in before["cells"])
