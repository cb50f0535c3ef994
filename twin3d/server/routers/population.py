"""``/api/twins/{twin}/personas`` and ``/population/...``: the society twin's public face.

Everything here reads the persona catalogue, the privacy-safe aggregates (``population_public``) and the stored
validation report; nothing reads the microdata tables ``households`` and ``persons``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, StreamingResponse

from twin3d.errors import ForbiddenError, NotFoundError
from twin3d.population.report_page import report_html
from twin3d.server.access import at_least, request_role
from twin3d.server.arrow_ipc import ARROW_STREAM, arrow_stream
from twin3d.server.cache import ByteCache
from twin3d.server.deps import Twin
from twin3d.server.state import TwinHandle
from twin3d.store import population_queries as pq
from twin3d.store import queries

NDJSON = "application/x-ndjson"
# The report page is static: its own inline style, nothing else, no scripts.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
BBOX_PATTERN = r"^\s*-?\d+(\.\d+)?\s*(,\s*-?\d+(\.\d+)?\s*){3}$"


def populated_twin(twin: Twin) -> TwinHandle:
    """The twin named in the path, if it has a synthetic population; 404 otherwise."""
    if not twin.counts.get("personas"):
        raise NotFoundError(
            "this twin has no population",
            hint=f"add a [population] section to pipelines/{twin.name}.toml and run: twin3d build {twin.name}",
        )
    return twin


PopulatedTwin = Annotated[TwinHandle, Depends(populated_twin)]


def _invalid(field: str, value: str, message: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape, naming the query parameter (as its built-in checks do)."""
    return RequestValidationError([{"type": "value_error", "loc": ("query", field), "msg": message, "input": value}])


def scenario_of(
    twin: PopulatedTwin,
    scenario: Annotated[
        str,
        Query(pattern=r"^(baseline|[0-9a-f]{64})$", description="'baseline' or a scenario's 64-hex content hash"),
    ] = pq.BASELINE,
) -> str:
    """The scenario asked for; 404 when nothing was published for it.

    The baseline of a populated twin always exists, though a town too small for the privacy gate has no rows.
    """
    if scenario != pq.BASELINE and not pq.has_scenario(twin.cursor(), scenario):
        raise NotFoundError(
            f"no published population for scenario {scenario!r}",
            hint="the baseline is published by twin3d build; scenarios are published when they are computed",
        )
    return scenario


def persona_of(
    twin: PopulatedTwin,
    persona: Annotated[
        str, Query(pattern=r"^(\*|[A-Za-z0-9_-]{1,64})$", description="a persona id, or '*' for everyone")
    ] = pq.ALL,
) -> str:
    """The persona asked for, checked against the twin's catalogue."""
    if persona != pq.ALL and persona not in pq.persona_ids(twin.cursor()):
        raise _invalid("persona", persona, "unknown persona; GET .../personas lists them, '*' means everyone")
    return persona


def bbox_of(
    bbox: Annotated[
        str | None,
        Query(max_length=200, pattern=BBOX_PATTERN, description="minlon,minlat,maxlon,maxlat (WGS 84)"),
    ] = None,
) -> tuple[float, float, float, float] | None:
    """The bounding box as four floats, or None."""
    if bbox is None:
        return None
    west, south, east, north = (float(v) for v in bbox.split(","))
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise _invalid("bbox", bbox, "needs -180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90")
    return west, south, east, north


def cell_query(
    scenario: Annotated[str, Depends(scenario_of)],
    persona: Annotated[str, Depends(persona_of)],
    bbox: Annotated[tuple[float, float, float, float] | None, Depends(bbox_of)],
    resolution: Annotated[int, Query(ge=7, le=10, description="H3 resolution")] = 9,
) -> pq.CellQuery:
    """The validated query parameters of ``/population/h3``."""
    return pq.CellQuery(resolution=resolution, persona=persona, scenario=scenario, bbox=bbox)


def ndjson_stream(batches: Iterator[pa.RecordBatch]) -> Iterator[bytes]:
    """Record batches as newline-delimited JSON, one object per row."""
    for batch in batches:
        yield "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in batch.to_pylist()).encode()


def router(public_max_resolution: int = 10, cache_bytes: int = 64 * 2**20) -> APIRouter:
    """Routes for the persona catalogue and the published population; the public sees H3 resolutions up to
    ``public_max_resolution`` (every resolution passes the privacy gate; a town may still keep the finest one
    for its council and administration). Answers of the cells are kept per build up to ``cache_bytes``: they are
    the same bytes every time (the noise is keyed on the record, not the request)."""
    r = APIRouter(prefix="/api/twins/{twin}", tags=["population"])
    answers: ByteCache[bytes] = ByteCache(max_bytes=cache_bytes)

    def max_resolution(request: Request) -> int:
        return 10 if at_least(request_role(request), "council") else public_max_resolution

    @r.get("/personas", summary="The persona catalogue, in its order")
    def personas(twin: PopulatedTwin) -> list[dict[str, Any]]:
        return pq.personas(twin.cursor())

    @r.get(
        "/population/h3",
        summary="Published persons and households per H3 cell (privacy-safe), streamed",
        response_class=StreamingResponse,
        responses={200: {"content": {NDJSON: {}, ARROW_STREAM: {}}}},
    )
    def population_h3(
        twin: PopulatedTwin,
        request: Request,
        query: Annotated[pq.CellQuery, Depends(cell_query)],
        geometry: Annotated[bool, Query(description="add each cell's boundary ring [[lon, lat], ...]")] = False,
        fmt: Annotated[Literal["ndjson", "arrow"], Query(alias="format", description="NDJSON or Arrow IPC")] = "ndjson",
    ) -> StreamingResponse:
        if query.resolution > max_resolution(request):
            raise ForbiddenError(
                f"resolution {query.resolution} is kept for the council and the administration",
                record="resolution",
                hint=f"ask for resolution {max_resolution(request)} or coarser",
            )
        key = (*twin.build_key, query, geometry, fmt)
        media_type = ARROW_STREAM if fmt == "arrow" else NDJSON
        cached = answers.get(key)
        if cached is not None:  # a build's published cells never change: the same bytes as the first time
            return StreamingResponse(iter((cached,)), media_type=media_type)
        batches = pq.public_cells(twin.cursor(), query, geometry=geometry)
        chunks = arrow_stream(batches, pq.cell_schema(geometry)) if fmt == "arrow" else ndjson_stream(batches)
        return StreamingResponse(_kept(chunks, key), media_type=media_type)

    def _kept(chunks: Iterator[bytes], key: tuple[Any, ...]) -> Iterator[bytes]:
        """Stream the chunks, and keep the whole answer once it was sent in full (not when a client left early)."""
        sent: list[bytes] = []
        for chunk in chunks:
            sent.append(chunk)
            yield chunk
        body = b"".join(sent)
        answers.put(key, body, len(body))

    @r.get("/population/summary", summary="Published persons and households per persona (resolution-7 rows)")
    def population_summary(
        twin: PopulatedTwin, request: Request, scenario: Annotated[str, Depends(scenario_of)]
    ) -> dict[str, Any]:
        return {**pq.summary(twin.cursor(), scenario), "max_resolution": max_resolution(request)}

    def stored_report(twin: TwinHandle) -> dict[str, Any]:
        report = queries.meta(twin.cursor(), "population_report")
        if not isinstance(report, dict):
            raise NotFoundError("this twin has no population report", hint=f"rebuild it: twin3d build {twin.name}")
        return report

    @r.get("/population/report", summary="How well the synthetic population reproduces its statistics")
    def population_report(twin: PopulatedTwin) -> dict[str, Any]:
        return stored_report(twin)

    @r.get(
        "/population/report.html",
        summary="The validation report as a page: fit per control, hold-outs, age pyramids, backtest (de or en)",
        response_class=HTMLResponse,
    )
    def population_report_html(
        twin: PopulatedTwin, lang: Annotated[Literal["de", "en"], Query()] = "de"
    ) -> HTMLResponse:
        page = report_html(stored_report(twin), lang)
        return HTMLResponse(page, headers={"Content-Security-Policy": REPORT_CSP})

    return r
