"""``/api/twins/{twin}/models``: glTF models of planned buildings, uploaded for scenarios and served to the viewer.

Whoever may store a scenario may upload the model it places (see :data:`twin3d.server.access.MATRIX`); a new model
costs what a new scenario costs (:meth:`twin3d.participation.guard.Guard.scenario`), the same bytes again cost nothing
and are answered with 200 and the stored model. The body is limited while it streams in (413); the file is checked
and measured by :func:`twin3d.layers.models.store_model` before anything is written, and a bad one is a 422 naming
the problem and its fix. A model's file never changes (its id is its SHA-256), so it is served as immutable.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, File, Header, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from twin3d.errors import InputError, NotFoundError
from twin3d.layers.formats import MIB
from twin3d.layers.models import MAX_MODEL_BYTES, ModelMeta, find_model, model_file, models_dir, store_model
from twin3d.participation.guard import Guard
from twin3d.participation.ratelimit import token_hash
from twin3d.participation.service import PARTICIPANT_HEADER
from twin3d.server.access import request_role, request_user
from twin3d.server.conditional import not_modified
from twin3d.server.deps import Twin
from twin3d.server.proxies import client_address
from twin3d.server.routers.tiles import IMMUTABLE
from twin3d.settings import PathSettings

ModelId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$", description="the model's SHA-256")]
GLB = "model/gltf-binary"
FORM_SLACK = MIB  # the multipart headers beside the file


class ModelOut(ModelMeta):
    """A stored model: its metadata and where the viewer loads it from."""

    url: str
    glb: str


def model_out(twin: str, meta: ModelMeta) -> ModelOut:
    """The metadata with the model's URLs."""
    base = f"/api/twins/{twin}/models/{meta.model_id}"
    return ModelOut(**meta.model_dump(), url=base, glb=f"{base}.glb")


def router(paths: PathSettings, guard: Guard) -> APIRouter:
    """Routes of uploaded models; ``guard`` limits how many new ones an address (or a user) may upload."""
    r = APIRouter(prefix="/api/twins/{twin}/models", tags=["models"])

    @r.post(
        "",
        summary="Upload a glTF binary (.glb) of a planned building (201), or find the same one stored before (200)",
        response_model=ModelOut,
        max_body_size=MAX_MODEL_BYTES + FORM_SLACK,
        responses={
            413: {"description": "the body is too large"},
            422: {"description": "not a usable model"},
            429: {"description": "too many new models"},
        },
    )
    def upload(
        twin: Twin,
        request: Request,
        response: Response,
        file: Annotated[UploadFile, File(description="the model as one self-contained .glb file")],
        token: Annotated[str | None, Header(alias=PARTICIPANT_HEADER, max_length=100)] = None,
    ) -> ModelOut:
        data = file.file.read(MAX_MODEL_BYTES + 1)
        if not data:
            raise InputError("the uploaded file is empty", record="file", hint="choose the model's .glb file")
        name = PurePosixPath((file.filename or "").replace("\\", "/")).name
        folder = models_dir(paths, twin.name)
        stored = find_model(folder, hashlib.sha256(data).hexdigest())
        if stored is not None:
            response.status_code = 200
            return model_out(twin.name, stored)
        role = request_role(request)
        ip_hash = guard.address(twin.name, client_address(request))
        participant = token_hash(token) if token else None
        guard.scenario(twin.name, ip_hash, participant, role=role, user=request_user(request))
        meta, created = store_model(folder, data, name)
        response.status_code = 201 if created else 200
        if created:
            response.headers["Location"] = model_out(twin.name, meta).url
        return model_out(twin.name, meta)

    @r.get(
        "/{model_id}.glb",
        summary="The model's file (immutable: its id is its content)",
        response_class=FileResponse,
        responses={200: {"content": {GLB: {}}}, 304: {"description": "not modified"}},
    )
    def glb(twin: Twin, model_id: ModelId, request: Request) -> Response:
        folder = models_dir(paths, twin.name)
        if find_model(folder, model_id) is None:
            raise NotFoundError(f"no model {model_id}", hint="upload it: POST /api/twins/<twin>/models")
        headers = {"ETag": f'"{model_id}"', "Cache-Control": IMMUTABLE}
        return not_modified(request, headers) or FileResponse(
            model_file(folder, model_id), media_type=GLB, headers=headers
        )

    @r.get("/{model_id}", summary="One model's metadata: footprint, height, box in metres", response_model=ModelOut)
    def one(twin: Twin, model_id: ModelId) -> ModelOut:
        meta = find_model(models_dir(paths, twin.name), model_id)
        if meta is None:
            raise NotFoundError(f"no model {model_id}", hint="upload it: POST /api/twins/<twin>/models")
        return model_out(twin.name, meta)

    return r
