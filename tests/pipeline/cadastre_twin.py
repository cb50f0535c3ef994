"""Small cadastre twins for hand calculations: parcels, land use and buildings written as GeoJSON (EPSG:25832) and
built with a pipeline of their own (test geometry: the figures must be known exactly)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings

Features = list[tuple[dict[str, Any], dict[str, Any]]]


def box(x: float, y: float, w: float = 20, h: float = 20) -> dict[str, Any]:
    """A GeoJSON rectangle with its lower-left corner at (x, y), in metres of EPSG:25832."""
    ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def write_geojson(path: Path, features: Features) -> None:
    """(geometry, properties) pairs as a GeoJSON file that names EPSG:25832."""
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
                "features": [{"type": "Feature", "properties": p, "geometry": g} for g, p in features],
            }
        ),
        encoding="utf-8",
    )


def build_cadastre_twin(
    root: Path,
    *,
    parcels: Features,
    buildings: Features,
    land_use: Features,
    gemarkung_name: str,
    building_fields: str = 'levels_field = "geschosse"',
) -> PathSettings:
    """The twin ``hand`` under ``root`` (data, pipeline, store, tiles), built; buildings are keyed by ``gml_id``."""
    data = root / "data"
    data.mkdir(parents=True)
    write_geojson(data / "parcels.geojson", parcels)
    write_geojson(data / "buildings.geojson", buildings)
    write_geojson(data / "land_use.geojson", land_use)
    pipelines = root / "pipelines"
    pipelines.mkdir()
    (pipelines / "hand.toml").write_text(
        f"""
[twin]
name = "hand"
title = "Hand"
crs = "EPSG:25832"
ground_height = 10.0
geoid_undulation = 45.0

[[sources]]
name = "parcels"
kind = "parcels"
path = "../data/parcels.geojson"
gemarkung_name = "{gemarkung_name}"

[[sources]]
name = "land-use"
kind = "land_use"
path = "../data/land_use.geojson"

[[sources]]
name = "buildings"
kind = "buildings"
path = "../data/buildings.geojson"
id_field = "gml_id"
{building_fields}
""",
        encoding="utf-8",
    )
    paths = PathSettings(pipelines_dir=pipelines, store_dir=root / "var", tiles_dir=root / "tiles")
    build_twin(load_pipeline(pipelines / "hand.toml"), paths)
    return paths
