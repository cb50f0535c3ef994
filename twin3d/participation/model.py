"""What citizens send: places, proposals, votes, comments and reports, validated before anything is written.

Texts are plain text, cleaned by :mod:`twin3d.plaintext` (NFC, control, bidirectional and invisible characters
removed, trimmed) and stored as given otherwise: every client must render them escaped (``textContent``).

What only the twin can judge (the category list, the extent, the building) is checked in
:mod:`twin3d.participation.service`.

Example:
    >>> PlaceIn.model_validate({"kind": "happy", "category": "green", "title": "Stadtpark",
    ...     "text": "Schöne Bänke", "location": {"lon": 11.28, "lat": 49.51}}).title
    'Stadtpark'
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from twin3d.plaintext import Line, Text
from twin3d.simulation.scenario import Measure, Polygon

Kind = Literal["happy", "improvable"]
Status = Literal["new", "visible", "hidden", "answered"]
AgeBand = Literal["under_18", "18_29", "30_44", "45_64", "65_79", "80_plus"]
Household = Literal["alone", "couple", "family_young_children", "family_school_children", "single_parent", "shared"]
ReportReason = Literal["spam", "insult", "personal_data", "illegal", "off_topic", "other"]
KINDS: tuple[str, ...] = get_args(Kind)
AGE_BANDS: tuple[str, ...] = get_args(AgeBand)
HOUSEHOLDS: tuple[str, ...] = get_args(Household)
REPORT_REASONS: tuple[str, ...] = get_args(ReportReason)
TITLE_MAX = 120
TEXT_MAX = 1000
COMMENT_MAX = 1000
REPORT_TEXT_MAX = 500


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(_Strict):
    """Where a place is: a clicked point, or a point on a building with the height the pin sits at.

    Attributes:
        lon: longitude, WGS 84.
        lat: latitude, WGS 84.
        building_id: the building picked; with it the pin sits on the building.
        height: metres above the ground (on a building: where on it, e.g. its roof); default: the roof.
    """

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    building_id: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[\w:/.\-]+$")
    height: float | None = Field(default=None, ge=0, le=500, allow_inf_nan=False)

    @model_validator(mode="after")
    def _height_needs_building(self) -> Location:
        if self.height is not None and self.building_id is None:
            raise ValueError("height is given for pins on a building: add building_id, or leave height out")
        return self


class SelfDescription(_Strict):
    """A voluntary, coarse self-description, used only for the representation lens (never shown per place)."""

    age_band: AgeBand | None = None
    household: Household | None = None


class PlaceIn(_Strict):
    """A new place: what makes someone happy, or what could be better, and where.

    ``website`` is a honeypot: the form hides it from people, so only bots fill it in. A filled-in honeypot is
    refused with a plain 422 that does not say why (see :func:`twin3d.participation.service.check_honeypot`).
    """

    kind: Kind
    category: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    title: Line = Field(min_length=1, max_length=TITLE_MAX)
    text: Text = Field(min_length=1, max_length=TEXT_MAX)
    location: Location
    self_description: SelfDescription | None = None
    website: str = Field(default="", max_length=200)


class VoteIn(_Strict):
    """A vote on a place: +1 (agree) or -1 (disagree); voting again replaces one's own vote."""

    value: Literal[1, -1] = 1


class CommentIn(_Strict):
    """A comment on a place, or a reply to a top-level comment (one level of replies only)."""

    text: Text = Field(min_length=1, max_length=COMMENT_MAX)
    parent_id: int | None = Field(default=None, ge=1, le=2**62)
    website: str = Field(default="", max_length=200)


class ReportIn(_Strict):
    """A report of a place, or of one of its comments, to the moderators."""

    reason: ReportReason
    text: Text = Field(default="", max_length=REPORT_TEXT_MAX)
    comment_id: int | None = Field(default=None, ge=1, le=2**62, description="report this comment instead of the place")


class ModerationIn(_Strict):
    """A moderator's decision on a place or a comment.

    Attributes:
        action: ``show`` (publish), ``hide`` (withdraw, reason required), ``answer`` (publish with the official
            answer; places only).
        reason: why; stored in the moderation log and shown to moderators only.
        answer: the official answer for ``answer``; public with the place.
    """

    action: Literal["show", "hide", "answer"]
    reason: Line = Field(default="", max_length=300)
    answer: Text = Field(default="", max_length=TEXT_MAX)

    @model_validator(mode="after")
    def _needs(self) -> ModerationIn:
        if self.action == "hide" and not self.reason:
            raise ValueError("hiding needs a reason")
        if self.action == "answer" and not self.answer:
            raise ValueError("answer needs the answer text")
        return self


class RemarkIn(_Strict):
    """An internal remark of the administration on a place."""

    text: Text = Field(min_length=1, max_length=TEXT_MAX)


class ParticipantIn(_Strict):
    """What a new participant may send: the workshop code it was given, if any (case, blanks, dashes do not matter)."""

    workshop_code: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\s\-_]+$")


class WorkshopIn(_Strict):
    """A workshop code to issue: for whom (label), how many (quota), until when (hours from now, or a time)."""

    label: Line = Field(min_length=1, max_length=80, description="a name participants recognise; shown to them")
    quota: int = Field(ge=1, le=100_000, description="the most participants who may join with the code")
    hours: float | None = Field(default=None, gt=0, le=24 * 90, description="valid for this long from now")
    expires_at: str | None = Field(
        default=None, max_length=40, description="or valid until this ISO time (UTC if it names no offset)"
    )

    @model_validator(mode="after")
    def _one_expiry(self) -> WorkshopIn:
        if (self.hours is None) == (self.expires_at is None):
            raise ValueError("give either hours or expires_at")
        return self


Stage = Literal["under_review", "simulated", "adopted", "rejected"]
STAGES: tuple[str, ...] = get_args(Stage)
PROPOSAL_TEXT_MAX = 2000
MAX_PROPOSAL_MEASURES = 20


class ProposalPoint(_Strict):
    """Where a proposal is, as a point (lon/lat, WGS 84)."""

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)


class ProposalIn(_Strict):
    """A citizen's proposal (an idea): what, why, where, and optionally measures in the scenario vocabulary (a Kita
    here, a green space there, homes on this parking lot), which are simulated once the administration has looked.

    Where: a point, an area, or the measures themselves (the point is then the area's, or the first measure's).
    ``website`` is the honeypot, as for places.
    """

    title: Line = Field(min_length=1, max_length=TITLE_MAX)
    text: Text = Field(min_length=1, max_length=PROPOSAL_TEXT_MAX)
    topic: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$", description="a category id")
    location: ProposalPoint | None = None
    area: Polygon | None = None
    measures: list[Measure] = Field(default_factory=list, max_length=MAX_PROPOSAL_MEASURES)
    self_description: SelfDescription | None = None
    website: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _somewhere(self) -> ProposalIn:
        if self.location is None and self.area is None and not self.measures:
            raise ValueError("say where: give a location, an area or measures drawn on the map")
        return self


class StageIn(_Strict):
    """The administration moves a proposal to a stage, with a reason the public reads (required for rejected)."""

    stage: Stage
    reason: Text = Field(default="", max_length=TEXT_MAX)

    @model_validator(mode="after")
    def _reason(self) -> StageIn:
        if self.stage == "rejected" and not self.reason:
            raise ValueError("rejecting a proposal needs a reason")
        return self


class OfficialScenarioIn(_Strict):
    """A stored public scenario the administration attaches to a proposal, to be simulated instead of its measures."""

    scenario_id: str = Field(pattern=r"^[0-9a-f]{64}$")
