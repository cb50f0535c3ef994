"""``/api/twins/{twin}/surveys``: surveys of the administration, answers once per person, results, exports, codes.

Thin: every route calls :class:`twin3d.participation.surveys.service.Surveys`, where the rules are. Who may call
which route is in :data:`twin3d.server.access.MATRIX` (definitions, free texts, the answers one by one and the codes:
the administration only); bodies above :data:`MAX_BODY` bytes are refused with 413 before they are parsed. The
results routes take no query parameters at all: a filter would open the counts to differencing (422).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from twin3d.errors import InputError
from twin3d.participation.surveys.keys import printed
from twin3d.participation.surveys.model import CodesIn, ConfirmIn, ResponseIn, StateIn, SurveyIn
from twin3d.participation.surveys.service import Surveys
from twin3d.server.access import request_role, request_user
from twin3d.server.deps import Twin
from twin3d.server.proxies import client_address

MAX_BODY = 65_536  # a survey of 30 questions with German and English texts; an answer with long free texts
SurveyId = Annotated[int, Path(ge=1, le=2**62)]
PRIVATE = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


class Localized(BaseModel):
    de: str
    en: str


class SurveyOut(BaseModel):
    """A survey as a client reads it: the definition, where it stands, how to take part, whether results show."""

    survey_id: int
    state: Literal["draft", "open", "closed"]
    phase: Literal["draft", "scheduled", "open", "closed"]
    title: Localized
    intro: Localized
    questions: list[dict[str, Any]]
    self_description: bool
    access: Literal["email", "code", "both"]
    opens_at: str | None
    closes_at: str | None
    email: bool
    codes: bool
    results: bool
    created_at: str
    created_by: str | None = None
    updated_at: str | None = None


class Submitted(BaseModel):
    """An answer taken: ``pending`` until the link in the mail is followed (e-mail), or ``confirmed`` (code)."""

    survey_id: int
    status: Literal["pending", "confirmed"]
    confirm_hours: float | None = None


class Confirmed(BaseModel):
    """A confirmation link followed: the answer counts (``already``: it counted before)."""

    survey_id: int
    status: Literal["confirmed"]
    already: bool
    title: Localized


class AnswerCount(BaseModel):
    value: str
    label: Localized | None
    count: int | None
    withheld: bool


class QuestionResult(BaseModel):
    id: str
    kind: str
    text: Localized
    answered: int | None
    answered_withheld: bool
    answers: list[AnswerCount]
    mean: float | None = None


class Results(BaseModel):
    """Counts of persons per answer; ``null`` with ``withheld`` where fewer than ``min_count`` persons (or a total)
    would give someone away. ``status`` (administration only): answers by status and way, codes made and used."""

    survey_id: int
    phase: str
    min_count: int
    respondents: int | None
    respondents_withheld: bool
    questions: list[QuestionResult]
    status: dict[str, int] | None = None


class FreeText(BaseModel):
    response_id: int
    question: str
    text: str
    confirmed_at: str | None


class CodeBatch(BaseModel):
    batch: int
    made: int
    used: int
    created_at: str | None


class IssuedCodes(BaseModel):
    """New invitation codes: shown this once (only their hashes are kept)."""

    batch: int
    codes: list[str]


async def no_query(request: Request) -> None:
    """Refuse query parameters on the results: they take no filters."""
    if request.query_params:
        name = next(iter(request.query_params.keys()))
        raise InputError(
            f"the results take no parameter {name!r}",
            record=name,
            hint="results are counted over every answer; filters would open them to differencing",
        )


def router(service: Surveys) -> APIRouter:
    """Routes of the surveys; bodies above :data:`MAX_BODY` get 413."""
    r = APIRouter(prefix="/api/twins/{twin}/surveys", tags=["surveys"], max_body_size=MAX_BODY)

    @r.get("", summary="The twin's surveys, newest first (drafts: administration only)")
    def index(twin: Twin, request: Request) -> list[SurveyOut]:
        return [SurveyOut(**s) for s in service.listing(twin.name, request_role(request))]

    @r.post("", status_code=201, summary="Define a survey (a draft until opened; administration)")
    def create(twin: Twin, body: SurveyIn, request: Request) -> SurveyOut:
        return SurveyOut(**service.create(twin.name, body, request_user(request) or "admin"))

    @r.post(
        "/confirmations",
        summary="Follow a confirmation link: the pending answer counts",
        responses={404: {"description": "unknown link"}, 409: {"description": "answered already"}, 410: {}},
    )
    def confirm(twin: Twin, body: ConfirmIn) -> Confirmed:
        return Confirmed(**service.confirm(twin.name, body.token))

    @r.get("/{survey_id}", summary="One survey")
    def one(twin: Twin, survey_id: SurveyId, request: Request) -> SurveyOut:
        return SurveyOut(**service.one(twin.name, survey_id, request_role(request)))

    @r.put("/{survey_id}", summary="Change a survey's definition until its first answer (administration)")
    def replace(twin: Twin, survey_id: SurveyId, body: SurveyIn) -> SurveyOut:
        return SurveyOut(**service.replace(twin.name, survey_id, body))

    @r.post("/{survey_id}/state", summary="Open or close a survey (administration)")
    def set_state(twin: Twin, survey_id: SurveyId, body: StateIn) -> SurveyOut:
        return SurveyOut(**service.set_state(twin.name, survey_id, body.state))

    @r.post(
        "/{survey_id}/responses",
        status_code=201,
        summary="Answer a survey once: with an e-mail address (counts once confirmed; 202) or an invitation code",
        responses={
            202: {"description": "pending: a confirmation mail was sent", "model": Submitted},
            409: {"description": "answered already, or the survey is not open"},
            429: {"description": "too many answers or wrong codes from this address"},
            503: {"description": "the confirmation mail could not be sent"},
        },
    )
    def respond(twin: Twin, survey_id: SurveyId, body: ResponseIn, request: Request) -> Any:
        taken = Submitted(**service.submit(twin.name, survey_id, body, client_address(request)))
        if taken.status == "pending":
            return JSONResponse(taken.model_dump(), status_code=202)
        return taken

    @r.get("/{survey_id}/results", summary="Counts per answer through the privacy gate (public once closed)")
    def results(twin: Twin, survey_id: SurveyId, request: Request, _: Annotated[None, Depends(no_query)]) -> Results:
        return Results(**service.results(twin.name, survey_id, request_role(request)))

    @r.get("/{survey_id}/results.csv", summary="The results as CSV (gated as the results)", response_class=Response)
    def results_csv(
        twin: Twin, survey_id: SurveyId, request: Request, _: Annotated[None, Depends(no_query)]
    ) -> Response:
        text = service.results_csv(twin.name, survey_id, request_role(request))
        headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{twin.name}-survey-{survey_id}.csv"'}
        return Response(text, media_type="text/csv; charset=utf-8", headers=headers)

    @r.get("/{survey_id}/texts", summary="The free texts of counted answers (administration)")
    def texts(twin: Twin, survey_id: SurveyId) -> list[FreeText]:
        return [FreeText(**t) for t in service.texts(twin.name, survey_id)]

    @r.get(
        "/{survey_id}/responses.csv",
        summary="Every counted answer, one row each, no address or code (administration)",
        response_class=Response,
    )
    def responses_csv(twin: Twin, survey_id: SurveyId) -> Response:
        name = f"{twin.name}-survey-{survey_id}-responses.csv"
        headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(
            service.responses_csv(twin.name, survey_id), media_type="text/csv; charset=utf-8", headers=headers
        )

    @r.post(
        "/{survey_id}/codes",
        status_code=201,
        summary="Make invitation codes: a PDF sheet of slips, CSV, or JSON (shown once; administration)",
        responses={201: {"content": {"application/pdf": {}, "text/csv": {}}, "model": IssuedCodes}},
    )
    def make_codes(twin: Twin, survey_id: SurveyId, body: CodesIn) -> Any:
        if body.format == "json":
            batch, codes, _ = service.make_codes(twin.name, survey_id, body.count)
            return IssuedCodes(batch=batch, codes=[printed(c) for c in codes])
        data, media_type, name = service.codes_sheet(twin.name, survey_id, body.count, body.format)
        headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(data, status_code=201, media_type=media_type, headers=headers)

    @r.get("/{survey_id}/codes", summary="The batches of codes made, with how many are used (administration)")
    def code_batches(twin: Twin, survey_id: SurveyId) -> list[CodeBatch]:
        return [CodeBatch(**b) for b in service.code_batches(twin.name, survey_id)]

    return r
