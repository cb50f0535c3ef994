"""What citizens send is validated and normalised before anything is written; nothing is turned into HTML."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from twin3d.participation.model import TEXT_MAX, TITLE_MAX, CommentIn, ModerationIn, PlaceIn, ReportIn, VoteIn


def place(**change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "improvable",
        "category": "mobility",
        "title": "Radweg",
        "text": "Hier fehlt ein Radweg.",
        "location": {"lon": 11.28, "lat": 49.51},
    }
    body.update(change)
    return body


def field_of(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return ".".join(str(p) for p in exc.value.errors()[0]["loc"])


def test_texts_are_normalised_and_kept_as_plain_text() -> None:
    decomposed = "Scho\u0308n"  # o + combining diaeresis
    got = PlaceIn.model_validate(
        place(title=f"  <b>{decomposed}</b>\r\n\t", text="Zeile 1\r\nZeile 2\rZeile 3\u202e\x00 <script>x</script>")
    )
    assert got.title == "<b>Schön</b>"  # NFC, trimmed; markup stays as typed (clients render it escaped)
    assert got.text == "Zeile 1\nZeile 2\nZeile 3 <script>x</script>"  # CR LF and CR become LF; controls dropped
    assert "\u202e" not in got.text


def test_one_line_titles_lose_their_line_breaks() -> None:
    assert PlaceIn.model_validate(place(title="Ein\nzwei")).title == "Ein zwei"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "x" * (TITLE_MAX + 1)}, "title"),
        ({"title": " \u202e "}, "title"),  # nothing left after normalising
        ({"text": "x" * (TEXT_MAX + 1)}, "text"),
        ({"kind": "angry"}, "kind"),
        ({"category": "Wohnen!"}, "category"),
        ({"location": {"lon": 200, "lat": 49.5}}, "location.lon"),
        ({"location": {"lon": 11.2, "lat": 49.5, "height": 5}}, "location"),
        ({"location": {"lon": 11.2, "lat": 49.5, "building_id": "a b"}}, "location.building_id"),
        ({"self_description": {"age_band": "40"}}, "self_description.age_band"),
        ({"self_description": {"income": "high"}}, "self_description.income"),
        ({"email": "a@b.de"}, "email"),
        ({"text": 5}, "text"),
    ],
)
def test_invalid_places_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        PlaceIn.model_validate(place(**change))
    assert field_of(exc) == field


def test_text_length_counts_after_normalising() -> None:
    # 1,000 characters of text plus removed controls still fit.
    assert len(PlaceIn.model_validate(place(text="a" * TEXT_MAX + "\x00\x01")).text) == TEXT_MAX


def test_votes_comments_reports_and_decisions() -> None:
    assert VoteIn.model_validate({}).value == 1
    with pytest.raises(ValidationError):
        VoteIn.model_validate({"value": 2})
    assert CommentIn.model_validate({"text": " ja ", "parent_id": 3}).text == "ja"
    with pytest.raises(ValidationError):
        CommentIn.model_validate({"text": ""})
    with pytest.raises(ValidationError):
        ReportIn.model_validate({"reason": "boring"})
    with pytest.raises(ValidationError, match="needs a reason"):
        ModerationIn.model_validate({"action": "hide"})
    with pytest.raises(ValidationError, match="answer text"):
        ModerationIn.model_validate({"action": "answer"})
    assert ModerationIn.model_validate({"action": "answer", "answer": "Wird 2026 gebaut."}).answer
