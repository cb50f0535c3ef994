"""``/api/twins/{twin}/scenarios``: store and read scenarios (a baseline plus measures), by content hash.

Validation happens before anything is written: the measures' own rules (pydantic: valid polygons, dwellings of
at least 1, known facility types), then what only the twin can judge (inside its extent, districts, facilities
and buildings that exist). A rejected scenario leaves no trace.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Annotated, Any, Literal

import numpy as np
import shapely
import shapely.geometry
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from h3ronpy.vector import cells_to_wkb_polygons
from pydantic import BaseModel, ConfigDict
from pyproj import CRS

from twin3d.csvsafe import write_csv
from twin3d.errors import ForbiddenError, InputError, NotFoundError
from twin3d.layers.models import models_dir
from twin3d.participation.guard import Guard
from twin3d.participation.ratelimit import token_hash
from twin3d.participation.service import PARTICIPANT_HEADER
from twin3d.secretfile import read_or_create_secret
from twin3d.server.access import at_least, request_role, request_user
from twin3d.server.deps import Twin
from twin3d.server.proxies import client_address
from twin3d.server.state import TwinHandle
from twin3d.settings import PathSettings
from twin3d.simulation.engine import Baseline, load_baseline, run_scenario
from twin3d.simulation.for_me import Prepared, prepare
from twin3d.simulation.infill import LayerSource
from twin3d.simulation.layer_inputs import hazard_areas, noise_at
from twin3d.simulation.models3d import check_models
from twin3d.simulation.report_html import scenario_report_file
from twin3d.simulation.scenario import (
    AddRoad,
    AddStoreys,
    CloseRoad,
    Flood,
    FloodWall,
    Hazard,
    Infill,
    NewHousing,
    NoiseMap,
    RemoveBuildings,
    RemoveFacility,
    ScenarioSpec,
    check_heights,
    check_within,
)
from twin3d.simulation.terrain import terrain_range
from twin3d.store import population_queries as pq
from twin3d.store.live import LiveStores

ScenarioId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$", description="the scenario's content hash")]
Against = Annotated[
    str | None, Query(pattern=r"^[0-9a-f]{64}$", description="compare with this stored scenario, not the baseline")
]


class ListingIn(BaseModel):
    """Whether a stored scenario appears in the lists of the roles its visibility admits."""

    model_config = ConfigDict(extra="forbid")
    listed: bool


class Simulations:
    """Warm baselines per twin, results per scenario id (a scenario's results never change: its id is its
    content) and prepared scenario states for "for me" questions, computed once each under a lock.

    A prepared state (the scenario's measures applied and the accessibility after them, several arrays per home
    point) is the expensive part of every "for me" answer; the answers themselves are never kept.
    """

    def __init__(
        self,
        pipelines_dir: Path,
        key_file: Callable[[str], Path],
        max_results: int = 64,
        max_states: int = 8,
    ) -> None:
        self.pipelines_dir = pipelines_dir
        self.key_file = key_file
        self.max_results = max_results
        self.max_states = max_states
        self._baselines: dict[tuple[Any, ...], Baseline] = {}  # by build (TwinHandle.build_key)
        self._results: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._states: OrderedDict[tuple[Any, ...], Prepared] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def _baseline(self, twin: TwinHandle) -> Baseline:
        """The twin's warm baseline (call under the lock)."""
        if twin.build_key not in self._baselines:
            # One baseline per twin: an older build's goes (a baseline holds the twin's walks and population), and
            # so do the states prepared on it.
            self._baselines = {k: v for k, v in self._baselines.items() if k[0] != twin.name}
            self._states = OrderedDict((k, v) for k, v in self._states.items() if k[0] != twin.name)
            # Made now if the build did not (older stores): never a key per process, which several workers
            # would each use, so that averaging their answers would thin the noise out.
            secret = read_or_create_secret(self.key_file(twin.name))
            beside = PathSettings(store_dir=twin.store_file.parent)  # the server's folders, as its routers use them
            self._baselines[twin.build_key] = load_baseline(
                twin.cursor(),
                self.pipelines_dir,
                key=secret,
                models=models_dir(beside, twin.name),
                layers=LayerSource(beside, twin.name),
            )
        return self._baselines[twin.build_key]

    def baseline(self, twin: TwinHandle) -> Baseline:
        """The twin's warm baseline, loaded now if it is not."""
        with self._lock:
            return self._baseline(twin)

    def results(self, twin: TwinHandle, spec: ScenarioSpec, against: ScenarioSpec | None = None) -> dict[str, Any]:
        """The results of ``spec`` on ``twin`` (against the baseline, or another scenario), cached or computed now."""
        cache_key = (*twin.build_key, spec.content_hash(), against.content_hash() if against else "")
        with self._lock:
            if cache_key in self._results:
                return self._results[cache_key]
            base = self._baseline(twin)
            started = perf_counter()
            result = run_scenario(base, spec, against)
            result["seconds"] = round(perf_counter() - started, 3)
            if len(self._results) >= self.max_results:
                self._results.pop(next(iter(self._results)))
            self._results[cache_key] = result
            return result

    def prepared(self, twin: TwinHandle, spec: ScenarioSpec) -> tuple[Baseline, Prepared]:
        """The twin's baseline and the scenario's prepared state (:func:`twin3d.simulation.for_me.prepare`), kept
        for the ``max_states`` scenarios asked last, keyed like the results by build and content hash."""
        key = (*twin.build_key, spec.content_hash())
        with self._lock:
            base = self._baseline(twin)
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = prepare(base, spec)
                while len(self._states) > self.max_states:
                    self._states.popitem(last=False)
            self._states.move_to_end(key)
            return base, state


def check_against_twin(spec: ScenarioSpec, twin: TwinHandle) -> None:
    """What only the twin can judge: extent, and districts, facilities and buildings that exist."""
    bbox = twin.meta.get("bbox_wgs84")
    if bbox:
        check_within(spec, tuple(bbox))
    cur = twin.cursor()
    if any(isinstance(m, Flood | FloodWall) for m in spec.measures):
        check_heights(spec, *terrain_range(cur))
    beside = PathSettings(store_dir=twin.store_file.parent)  # where the server keeps the twin's models and layers
    check_models(spec, models_dir(beside, twin.name))
    for i, m in enumerate(spec.measures):
        if isinstance(m, Infill) and not twin.counts.get("parcels"):
            raise InputError(
                f"measures.{i}: this twin has no parcels to densify",
                record=f"measures.{i}.kind",
                hint='add a cadastre source (kind = "parcels") to the twin\'s pipeline and build it again',
            )
        if isinstance(m, NewHousing | AddStoreys | Infill) and m.mix.startswith("like:"):
            _, level, code = m.mix.split(":", 2)
            if cur.execute("SELECT 1 FROM districts WHERE level = ? AND code = ?", [level, code]).fetchone() is None:
                raise InputError(
                    f"measures.{i}.mix names no district {level}:{code}",
                    record=f"measures.{i}.mix",
                    hint="use 'new_build' or 'like:<level>:<code>' of a district of this twin",
                )
        if isinstance(m, RemoveFacility):
            if cur.execute("SELECT 1 FROM facilities WHERE facility_id = ?", [m.facility_id]).fetchone() is None:
                raise InputError(
                    f"measures.{i}.facility_id: no facility {m.facility_id!r}",
                    record=f"measures.{i}.facility_id",
                    hint="GET .../facilities.geojson lists the facilities and their ids",
                )
        elif isinstance(m, AddRoad | CloseRoad):
            _check_road(i, m, twin)
        elif isinstance(m, Hazard | NoiseMap) and m.layer is not None:
            _check_layer(i, m, twin, spec.visibility)
        elif isinstance(m, RemoveBuildings | AddStoreys):
            found = cur.execute(
                "SELECT count(DISTINCT building_id) FROM buildings WHERE building_id IN (SELECT unnest(?))",
                [m.building_ids],
            ).fetchone()
            if found is None or found[0] != len(set(m.building_ids)):
                raise InputError(
                    f"measures.{i}.building_ids: {len(set(m.building_ids)) - (found[0] if found else 0)} unknown id(s)",
                    record=f"measures.{i}.building_ids",
                    hint="pick buildings in the viewer or GET .../buildings/{id}",
                )


def _check_road(i: int, m: AddRoad | CloseRoad, twin: TwinHandle) -> None:
    """Roads are added to or closed in the twin's road network, which the noise model needs."""
    if not twin.counts.get("roads"):
        raise InputError(
            f"measures.{i}: this twin has no roads for the noise model",
            record=f"measures.{i}.kind",
            hint=f'add a source of kind = "roads" (the OSM extract) to pipelines/{twin.name}.toml and build it again',
        )
    if isinstance(m, CloseRoad) and m.road_ids is not None:
        found = (
            twin.cursor()
            .execute("SELECT count(DISTINCT road_id) FROM roads WHERE road_id IN (SELECT unnest(?))", [m.road_ids])
            .fetchone()
        )
        unknown = len(set(m.road_ids)) - (found[0] if found else 0)
        if unknown:
            raise InputError(
                f"measures.{i}.road_ids: {unknown} unknown road id(s)",
                record=f"measures.{i}.road_ids",
                hint="close roads by an area, or by the road_id of the twin's roads (GET .../features: roads)",
            )


def _check_layer(i: int, m: Hazard | NoiseMap, twin: TwinHandle, visibility: str) -> None:
    """A hazard's or noise map's layer must be loaded, visible to the scenario's audience and of the right kind."""
    assert m.layer is not None
    layers = LayerSource(PathSettings(store_dir=twin.store_file.parent), twin.name)
    crs = CRS.from_user_input(twin.meta["crs"])
    if isinstance(m, Hazard):
        found, why = hazard_areas(layers, m.layer, visibility, crs) if layers else (None, "layer_missing")
    else:
        levels, why = (
            noise_at(layers, m.layer, visibility, crs, np.zeros(0), np.zeros(0)) if layers else (None, "layer_missing")
        )
        found = levels
    if found is None:
        raise InputError(
            f"measures.{i}.layer: layer {m.layer!r} cannot serve here ({why})",
            record=f"measures.{i}.layer",
            hint=LAYER_HINTS.get(why or "", "GET .../layers lists the loaded layers and their kinds"),
        )


LAYER_HINTS = {
    "layer_missing": "load the layer first (GET .../layers lists the loaded ones)",
    "layer_hidden": "the layer is for a narrower audience than the scenario: give the scenario that visibility",
    "layer_not_polygons": "a hazard needs a layer of polygons (e.g. flood zones from a WFS)",
    "layer_empty": "the layer has no polygons with an area",
    "layer_not_levels": "a noise map needs a raster of levels in dB, or polygons with a dB attribute",
    "layer_no_levels": "the polygons need a numeric attribute such as lden or db",
}


def stored_spec(live: LiveStores, twin: TwinHandle, scenario_id: str, role: str) -> dict[str, Any]:
    """The stored spec of a scenario if ``role`` may see it; otherwise as if there were none (a 404 that never hints
    at a scenario the caller may not see).

    Raises:
        NotFoundError: no such scenario for this role.
    """
    store = live.get(twin.name, create=False)
    spec = store.scenario_spec(scenario_id) if store is not None else None
    if spec is None or not at_least(role, spec.get("visibility", "public")):
        raise NotFoundError(f"no scenario {scenario_id}", hint="POST the scenario first; GET .../scenarios lists them")
    return spec


def require_population(twin: TwinHandle) -> None:
    """Scenarios are simulated on the twin's population.

    Raises:
        NotFoundError: the twin was built without one.
    """
    if not twin.counts.get("personas"):
        raise NotFoundError(
            "this twin has no population to simulate",
            hint=f"add a [population] section to pipelines/{twin.name}.toml and run: twin3d build {twin.name}",
        )


def router(live: LiveStores, simulations: Simulations, viewer_dir: Path | None = None, *, guard: Guard) -> APIRouter:
    """Routes for storing and reading scenarios; ``viewer_dir`` lends the report its vendored deck.gl; ``guard``
    limits submissions (body size, and new scenarios per address, participant token or user)."""
    r = APIRouter(prefix="/api/twins/{twin}/scenarios", tags=["scenarios"])

    def visible_spec(twin: TwinHandle, scenario_id: str, request: Request) -> dict[str, Any]:
        return stored_spec(live, twin, scenario_id, request_role(request))

    @r.post(
        "",
        summary="Store a scenario (201), or find the same one stored before (200)",
        max_body_size=guard.scenarios.max_body_bytes,
        responses={413: {"description": "the body is too large"}, 429: {"description": "too many new scenarios"}},
    )
    def save(
        twin: Twin,
        spec: ScenarioSpec,
        response: Response,
        request: Request,
        token: Annotated[str | None, Header(alias=PARTICIPANT_HEADER, max_length=100)] = None,
    ) -> dict[str, Any]:
        role = request_role(request)
        if not at_least(role, spec.visibility):
            raise ForbiddenError(
                f"a {role} caller may not store a scenario for the {spec.visibility} twin",
                hint="leave visibility at 'public', or sign in with a token of that role",
            )
        scenario_id = spec.content_hash()
        existing = live.get(twin.name, create=False)
        if existing is None or existing.scenario_summary(scenario_id) is None:  # only new scenarios count
            ip_hash = guard.address(twin.name, client_address(request))
            participant = token_hash(token) if token else None
            guard.scenario(twin.name, ip_hash, participant, role=role, user=request_user(request))
        check_against_twin(spec, twin)
        store = live.get(twin.name, create=True)
        assert store is not None
        # The public's scenarios are permalinks: listed only through a moderated proposal (no list to spam).
        stored, created = store.save_scenario(
            scenario_id, spec.name, spec.description, spec.model_dump(mode="json"), listed=role != "public"
        )
        response.status_code = 201 if created else 200
        return stored

    _library_routes(r, live)

    @r.get("/{scenario_id}", summary="One scenario with its measures")
    def one(twin: Twin, scenario_id: ScenarioId, request: Request) -> dict[str, Any]:
        spec = visible_spec(twin, scenario_id, request)
        store = live.get(twin.name, create=False)
        assert store is not None  # visible_spec found the scenario there
        return {**(store.scenario_summary(scenario_id) or {}), "spec": spec}

    @r.get(
        "/{scenario_id}/results",
        summary="Run a stored scenario: KPIs per persona against the baseline, or against another scenario",
    )
    def results(
        twin: Twin,
        scenario_id: ScenarioId,
        request: Request,
        against: Against = None,
    ) -> dict[str, Any]:
        require_population(twin)
        spec = visible_spec(twin, scenario_id, request)
        other = ScenarioSpec.model_validate(visible_spec(twin, against, request)) if against else None
        return simulations.results(twin, ScenarioSpec.model_validate(spec), other)

    @r.get("/{scenario_id}/results.csv", summary="The KPI table per persona as CSV")
    def results_csv(twin: Twin, scenario_id: ScenarioId, request: Request) -> Response:
        kpis = results(twin, scenario_id, request)["kpis"]
        return Response(
            write_csv(list(kpis[0]), kpis) if kpis else "",
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="scenario-{scenario_id[:12]}-kpis.csv"'},
        )

    @r.get("/{scenario_id}/results.geojson", summary="Baseline and scenario per H3 cell as GeoJSON")
    def results_geojson(
        twin: Twin, scenario_id: ScenarioId, request: Request, against: Against = None
    ) -> dict[str, Any]:
        cells = results(twin, scenario_id, request, against)["cells"]
        ids = np.array([int(c["h3"], 16) for c in cells], dtype=np.uint64)
        rings = shapely.from_wkb(np.asarray(cells_to_wkb_polygons(ids)).astype(object)) if len(ids) else []
        features = [
            {"type": "Feature", "id": c["h3"], "geometry": shapely.geometry.mapping(ring), "properties": c}
            for c, ring in zip(cells, rings, strict=True)
        ]
        return {"type": "FeatureCollection", "features": features}

    @r.get(
        "/{scenario_id}/report.html",
        summary="The results as one self-contained HTML file that loads nothing (map, KPIs, privacy note)",
        response_class=HTMLResponse,
    )
    def report(
        twin: Twin, scenario_id: ScenarioId, request: Request, lang: Annotated[Literal["de", "en"], Query()] = "de"
    ) -> HTMLResponse:
        result = results(twin, scenario_id, request)
        store = live.get(twin.name, create=False)
        assert store is not None  # results() found the scenario there
        summary = {**(store.scenario_summary(scenario_id) or {}), "spec": store.scenario_spec(scenario_id)}
        title = str(twin.meta.get("title") or twin.name)
        personas = pq.personas(twin.cursor())
        file = scenario_report_file(
            summary, result, twin=twin.name, twin_title=title, personas=personas, viewer_dir=viewer_dir, lang=lang
        )
        return HTMLResponse(file.page, headers=file.headers())

    return r


def _library_routes(r: APIRouter, live: LiveStores) -> None:
    """The lists of stored scenarios, and the administration's listing of one."""

    @r.get("", summary="Listed scenarios the caller's role may see, newest first (the public's only via proposals)")
    def index(
        twin: Twin,
        request: Request,
        unlisted: Annotated[bool, Query(description="administration: also the unlisted ones")] = False,
    ) -> list[dict[str, Any]]:
        role = request_role(request)
        if unlisted and role != "admin":
            raise ForbiddenError("only the administration sees unlisted scenarios", hint="leave unlisted out")
        store = live.get(twin.name, create=False)
        rows = store.scenarios(listed_only=not unlisted) if store is not None else []
        return [row for row in rows if at_least(role, row["visibility"])]

    @r.post("/{scenario_id}/listing", summary="List or unlist a stored scenario (administration)")
    def listing(twin: Twin, scenario_id: ScenarioId, body: ListingIn) -> dict[str, Any]:
        store = live.get(twin.name, create=False)
        if store is None or not store.list_scenario(scenario_id, body.listed):
            raise NotFoundError(f"no scenario {scenario_id}", hint="GET .../scenarios?unlisted=true lists them all")
        return store.scenario_summary(scenario_id) or {}
