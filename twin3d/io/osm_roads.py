"""Roads for motor traffic from OpenStreetMap extracts, and the parsing of their speed limits.

The walking network (:func:`twin3d.io.osm.read_osm_paths`) leaves motorways out and keeps footways; the noise
model needs the opposite: every way a car or lorry drives on, with its class, speed limit, lanes and whether it runs
in a tunnel. :func:`read_osm_roads` reads those ways in one pyosmium pass (the machinery of
:mod:`twin3d.io.osm_pass`); :func:`parse_maxspeed` turns the free-text ``maxspeed`` values of OSM (``"50"``,
``"30 mph"``, ``"DE:urban"``, ``"none"``, ``"signals"`` ...) into km/h, and says why where it cannot. Both OSM and
vector sources (a GeoJSON/GPKG with a class field) use it, so a speed means the same whatever file it came from.

OSM data is licensed under the ODbL 1.0 ("© OpenStreetMap contributors").

Example:
    >>> from pyproj import CRS
    >>> roads = read_osm_roads(Path("lauf-200115.osm.pbf"), CRS.from_epsg(25832))  # doctest: +SKIP
    >>> speeds, why = parse_maxspeed(["50", "30 mph", "DE:urban", "signals", None])
    >>> speeds.round(1).tolist(), why[3] == SPEED_VARIABLE
    ([50.0, 48.3, 50.0, nan, nan], True)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import osmium
import osmium.filter
import osmium.geom
import osmium.osm
from pyproj import CRS

from twin3d.io.osm_pass import WGS84, Rows, way_lines
from twin3d.io.surfaces import SkipLog
from twin3d.io.vector import FeatureTable

#: ``highway`` values of roads for motor traffic, from the most to the least important (OSM's road hierarchy).
#: ``living_street`` (motor traffic at walking pace) is kept: its few cars are part of the town's noise.
MOTOR_ROAD_CLASSES: tuple[str, ...] = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
)

#: Tags copied into string columns besides ``highway`` (raw values; :func:`parse_maxspeed` and the pipeline
#: step read them).
ROAD_TAGS: tuple[str, ...] = ("name", "maxspeed", "lanes", "oneway", "layer", "tunnel", "bridge", "service", "ref")

SKIP_ROAD_AREA = "highway area (area=yes), a surface and not a road axis"

MPH_KMH = 1.609344

#: The implicit limits of ``maxspeed=<country>:<zone>`` values (OSM wiki "Key:maxspeed", German StVO § 3:
#: 50 km/h in built-up areas, 100 km/h outside; living streets and ``walk`` at walking pace, taken as 7 km/h).
ZONE_SPEEDS: dict[str, float] = {
    "urban": 50.0,
    "rural": 100.0,
    "trunk": 100.0,
    "motorway": 130.0,  # no limit in Germany; 130 km/h is the advisory speed (Richtgeschwindigkeit)
    "living_street": 7.0,
    "zone30": 30.0,
    "zone:30": 30.0,
    "zone20": 20.0,
    "zone:20": 20.0,
    "zone10": 10.0,
    "zone:10": 10.0,
    "bicycle_road": 30.0,
    "walk": 7.0,
}

#: Why a ``maxspeed`` gives no number (the reasons :func:`parse_maxspeed` returns; the build report counts them).
SPEED_MISSING = "no maxspeed tag (the class's assumed speed applies)"
SPEED_NONE = "maxspeed=none: no limit (the class's assumed speed applies)"
SPEED_VARIABLE = "maxspeed varies (signals, variable, several values): the class's assumed speed applies"
SPEED_UNPARSED = "maxspeed not understood (the class's assumed speed applies)"

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_UNIT_KMH = {"mph": MPH_KMH, "knots": 1.852}
_WORDS: dict[str, tuple[float, str | None]] = {
    "none": (np.nan, SPEED_NONE),
    "no": (np.nan, SPEED_NONE),
    "unlimited": (np.nan, SPEED_NONE),
    "signals": (np.nan, SPEED_VARIABLE),
    "variable": (np.nan, SPEED_VARIABLE),
    "walk": (ZONE_SPEEDS["walk"], None),
}


def _one_maxspeed(value: str | None) -> tuple[float, str | None]:
    """One ``maxspeed`` value as km/h (NaN and the reason where there is no number)."""
    text = (value or "").strip()
    lower = text.lower()
    if not text:
        return np.nan, SPEED_MISSING
    if lower in _WORDS:
        return _WORDS[lower]
    if ";" in text or "|" in text:
        return np.nan, SPEED_VARIABLE
    if (match := _NUMBER.match(text)) is not None:
        return float(match.group(1)) * _UNIT_KMH.get((match.group(2) or "").lower(), 1.0), None
    zone = lower.split(":", 1)[1] if ":" in lower else ""  # DE:urban, AT:rural, DE:zone30, DE:zone:30
    return (ZONE_SPEEDS[zone], None) if zone in ZONE_SPEEDS else (np.nan, SPEED_UNPARSED)


def parse_maxspeed(values: Sequence[str | None]) -> tuple[np.ndarray, list[str | None]]:
    """Speed limits in km/h from OSM ``maxspeed`` values.

    Understood: numbers (``"50"``, ``"50 km/h"``), miles and knots (``"30 mph"`` is 48.3 km/h), implicit limits
    ``<country>:<zone>`` (:data:`ZONE_SPEEDS`: ``DE:urban`` 50, ``DE:rural`` 100, ``DE:zone30`` 30,
    ``DE:living_street`` 7 ...), and ``walk`` (7 km/h). No number, with the reason, for a missing tag
    (:data:`SPEED_MISSING`), ``none`` (:data:`SPEED_NONE`), values that vary (``signals``, ``variable``, ``50;30``:
    :data:`SPEED_VARIABLE`) and anything else (:data:`SPEED_UNPARSED`). Each distinct value is parsed once.

    Args:
        values: the raw tag values, ``None`` where a road has none.

    Returns:
        float64 km/h per value (NaN where there is no number), and per value the reason there is none (else None).
    """
    distinct = {value: _one_maxspeed(value) for value in set(values)}
    speeds = np.array([distinct[v][0] for v in values], dtype=np.float64)
    return speeds, [distinct[v][1] for v in values]


def read_osm_roads(path: Path, target_crs: CRS, *, skipped: SkipLog | None = None) -> FeatureTable:
    """Read the roads for motor traffic: every way whose ``highway`` is in :data:`MOTOR_ROAD_CLASSES`, as a line.

    Left out without a record: other ``highway`` values (footways, tracks, cycleways, platforms ...: no motor
    traffic to speak of). Left out and recorded in ``skipped``: highway areas (``area=yes``, reason
    :data:`SKIP_ROAD_AREA`), ways with nodes missing at the extract edge (also where only their first nodes are
    missing: no shortened lines) and ways with fewer than two distinct nodes. Ways are not split at intersections.

    Args:
        path: an OSM PBF or XML file.
        target_crs: the twin's projected CRS.
        skipped: where to list the ways left out, as (file, ``"way/123"``, reason).

    Returns:
        One LineString per way in file order; attributes ``osm_id`` and ``highway`` and the raw tags of
        :data:`ROAD_TAGS`, all strings (null where the way lacks the tag).

    Raises:
        InputError: the file is missing, empty, truncated or not OSM data.
    """
    path = Path(path)
    classes = frozenset(MOTOR_ROAD_CLASSES)

    def skip(tags: osmium.osm.TagList) -> str | None:
        if tags.get("highway") not in classes:
            return ""
        return SKIP_ROAD_AREA if tags.get("area") == "yes" else None

    road_filter = osmium.filter.TagFilter(*(("highway", c) for c in MOTOR_ROAD_CLASSES))
    lines, attributes = way_lines(
        path, target_crs, Rows(("osm_id",), ("highway", *ROAD_TAGS)), road_filter, skip, skipped=skipped
    )
    return FeatureTable(path, WGS84, lines, attributes)
