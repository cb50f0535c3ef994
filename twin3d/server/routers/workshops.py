"""``/api/twins/{twin}/workshops``: workshop codes for a room of participants behind one router (administration).

Thin: the codes live in :mod:`twin3d.participation.workshops` (the same file ``twin3d workshops`` edits); who may
call these routes is in :data:`twin3d.server.access.MATRIX` (the administration only). A code is returned once, when
it is issued; listings never hold it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from twin3d.errors import InputError
from twin3d.participation.model import WorkshopIn
from twin3d.participation.service import Participation
from twin3d.participation.workshops import add_workshop, parse_time, remove_workshop
from twin3d.server.access import request_user
from twin3d.server.deps import Twin

WorkshopId = Annotated[str, Path(pattern=r"^ws_[0-9a-f]{8}$")]


class WorkshopOut(BaseModel):
    """A workshop code as the administration sees it (never the code itself)."""

    workshop_id: str
    twin: str
    label: str
    quota: int
    expires_at: str
    created_at: str
    created_by: str
    joined: int
    expired: bool


class IssuedWorkshop(WorkshopOut):
    """A workshop just issued, with its code: shown this once, keep it."""

    code: str


def router(service: Participation) -> APIRouter:
    """Routes to issue, list and withdraw workshop codes."""
    r = APIRouter(prefix="/api/twins/{twin}/workshops", tags=["workshops"], max_body_size=4096)
    path = service.guard.workshops.path

    @r.post("", status_code=201, summary="Issue a workshop code (shown once) with a quota and an expiry")
    def issue(twin: Twin, body: WorkshopIn, request: Request) -> IssuedWorkshop:
        expires = None
        if body.expires_at is not None:
            try:
                expires = parse_time(body.expires_at)
            except ValueError as exc:
                raise InputError(
                    "expires_at is not an ISO time", record="expires_at", hint="2025-05-01T18:00Z"
                ) from exc
        workshop, code = add_workshop(
            path,
            twin.name,
            body.label,
            body.quota,
            hours=body.hours,
            expires_at=expires,
            created_by=request_user(request) or "admin",
            max_quota=service.settings.workshop_max_quota,
        )
        return IssuedWorkshop(**workshop.public(), joined=0, expired=False, code=code)

    @r.get("", summary="The twin's workshop codes with how many have joined (never the codes)")
    def index(twin: Twin) -> list[WorkshopOut]:
        return [WorkshopOut(**w) for w in service.workshops(twin.name)]

    @r.delete("/{workshop_id}", summary="Withdraw a workshop code: nobody joins any more, limits apply as for all")
    def withdraw(twin: Twin, workshop_id: WorkshopId) -> WorkshopOut:
        joined = next((w["joined"] for w in service.workshops(twin.name) if w["workshop_id"] == workshop_id), 0)
        workshop = remove_workshop(path, twin.name, workshop_id)
        return WorkshopOut(**workshop.public(), joined=joined, expired=workshop.expired())

    return r
