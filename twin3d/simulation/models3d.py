"""Planned buildings as prisms in the twin's CRS: a drawn footprint raised to its height, or a placed glTF model's
footprint and height (:mod:`twin3d.layers.models`), for the analyses that need their volume (sun, noise, views).

A placed model stands as deck.gl's ``ScenegraphLayer`` shows it: its origin at ``location``, scaled, turned clockwise
from true north by ``rotation_deg``. Its footprint is laid out in a local azimuthal equidistant projection around the
location (true north up, metres, as deck.gl's local frame) and projected from there into the twin's CRS, so the grid
convergence of the twin's projection (1.7 degrees in Lauf's UTM zone) does not turn it.

Example:
    >>> footprint, height = planned_prism(measure, "EPSG:25832", models_dir(paths, "lauf"))  # doctest: +SKIP
    >>> placed = model_placer(models_dir(paths, "lauf"), "EPSG:25832")  # by placement  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer

from twin3d.errors import InputError
from twin3d.layers.models import ModelMeta, find_model
from twin3d.simulation.scenario import STOREY_M, ModelPlacement, PlannedBuilding, ScenarioSpec

Models = Path | Mapping[str, ModelMeta]
"""Where models are looked up: a twin's models folder (:func:`twin3d.layers.models.models_dir`) or a mapping."""


@lru_cache(maxsize=64)
def _from_lonlat(crs: str) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(crs), always_xy=True)


def _crs_key(crs: CRS | str) -> str:
    return crs if isinstance(crs, str) else crs.to_wkt()


def placed_prism(meta: ModelMeta, placement: ModelPlacement, crs: CRS | str) -> tuple[shapely.Polygon, float]:
    """The footprint of a placed model in the twin's CRS and its height in metres.

    Args:
        meta: the model's metadata (its footprint in model metres east and north of its origin).
        placement: where it stands (lon/lat), its scale and its rotation (degrees clockwise from north).
        crs: the twin's projected CRS.
    """
    lon, lat = placement.location.coordinates
    turn = math.radians(placement.rotation_deg)
    cos, sin = math.cos(turn), math.sin(turn)
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat!r} +lon_0={lon!r} +ellps=WGS84 +units=m +no_defs")
    to_twin = Transformer.from_crs(local, CRS.from_user_input(_crs_key(crs)), always_xy=True)
    rings = []
    for ring in meta.footprint.coordinates:
        en = np.asarray(ring, dtype=np.float64) * placement.scale
        east = en[:, 0] * cos + en[:, 1] * sin  # clockwise from north: north turns to east, east to south
        north = -en[:, 0] * sin + en[:, 1] * cos
        rings.append(np.column_stack(to_twin.transform(east, north)))
    return shapely.Polygon(rings[0], rings[1:]), meta.height_m * placement.scale


def _model(models: Models, model_id: str) -> ModelMeta | None:
    if isinstance(models, Path):
        return find_model(models, model_id)
    return models.get(model_id)


def planned_prism(measure: PlannedBuilding, crs: CRS | str, models: Models) -> tuple[shapely.Polygon, float]:
    """The footprint of a planned building in the twin's CRS and its height in metres: a drawn footprint with its
    ``height_m`` (or ``storeys`` x :data:`~twin3d.simulation.scenario.STOREY_M`), or a placed model's.

    Raises:
        InputError: the placed model is not stored (``check_models`` refuses such a scenario before it is run).
    """
    if measure.model is not None:
        return model_placer(models, crs)(measure.model)
    assert measure.footprint is not None  # PlannedBuilding: a footprint or a model
    height = measure.height_m if measure.height_m is not None else (measure.storeys or 1) * STOREY_M
    rings = [np.asarray(ring, dtype=np.float64) for ring in measure.footprint.coordinates]
    to_twin = _from_lonlat(_crs_key(crs))
    projected = [np.column_stack(to_twin.transform(ring[:, 0], ring[:, 1])) for ring in rings]
    return shapely.Polygon(projected[0], projected[1:]), float(height)


def model_placer(models: Models, crs: CRS | str) -> Callable[[ModelPlacement], tuple[shapely.Polygon, float]]:
    """A placed model's footprint (twin CRS) and height, for one twin: what the engine's baseline calls.

    Raises (when called):
        InputError: the model is not stored.
    """

    def placed(placement: ModelPlacement) -> tuple[shapely.Polygon, float]:
        meta = _model(models, placement.model_id)
        if meta is None:
            raise _missing(placement.model_id, "model.model_id")
        return placed_prism(meta, placement, crs)

    return placed


def _missing(model_id: str, record: str) -> InputError:
    return InputError(
        f"{record}: no uploaded model {model_id}",
        record=record,
        hint="upload the .glb first (POST /api/twins/<twin>/models) and place the id it answers",
    )


def check_models(spec: ScenarioSpec, twin_models_dir: Path) -> None:
    """Every placed model of the scenario must be stored in the twin.

    Raises:
        InputError: a model id with no upload; ``record`` names the field (``measures.<i>.model.model_id``).
    """
    for i, measure in enumerate(spec.measures):
        model = measure.model if isinstance(measure, PlannedBuilding) else None
        if model is not None and find_model(twin_models_dir, model.model_id) is None:
            raise _missing(model.model_id, f"measures.{i}.model.model_id")
