"""``/api/twins/{twin}/search``: streets, addresses, districts, parcels and named places of a twin by name.

The index is written by the build (:mod:`twin3d.store.search`); this route only asks it. Facility and green
categories (``amenity=kindergarten``) are labelled in the caller's language from the facility types the scenarios
use (``pipelines/facility_types.toml`` for the type, the report's labels for its name); a category without a type
reads as its value ("townhall").
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from twin3d.errors import ConfigError
from twin3d.server.deps import Twin
from twin3d.simulation.facility_types import load_facility_types
from twin3d.simulation.report_texts import FACILITIES
from twin3d.store.search import Hit, search

log = logging.getLogger(__name__)
Lang = Literal["de", "en"]


class SearchHit(BaseModel):
    """One thing found."""

    kind: Literal["street", "address", "district", "parcel", "facility", "green", "place"] = Field(
        description="place: a named building"
    )
    name: str = Field(description="what a person reads, e.g. 'Marktplatz 1'")
    detail: str = Field(description="where or what it is: the district or town, the category, the Flur")
    lon: float = Field(description="where to fly (WGS 84), on the object")
    lat: float
    bbox: tuple[float, float, float, float] = Field(description="west, south, east, north: the box to show")
    ref: str | None = Field(description="the object's id in its table (building, facility, district, ...)")


class SearchAnswer(BaseModel):
    """The best matches of a query, best first."""

    query: str
    fuzzy: bool = Field(description="nothing matched the words typed: these names resemble the first word")
    results: list[SearchHit]


@cache
def category_labels(pipelines_dir: Path, lang: Lang) -> dict[str, str]:
    """Facility category -> readable label, for categories whose type does not depend on further tags."""
    try:
        config = load_facility_types(pipelines_dir / "facility_types.toml")
    except ConfigError as exc:
        log.warning("search: facility categories stay unlabelled: %s", exc)
        return {}
    names = FACILITIES[lang]
    labels: dict[str, str] = {}
    for category, rules in config.rules_by_category().items():
        # The first rule decides; one with conditions (social_facility=...) may not hold: no label then.
        if not rules[0].where and rules[0].type in names:
            labels[category] = names[rules[0].type]
    return labels


def _hit(hit: Hit, labels: dict[str, str]) -> SearchHit:
    detail = labels.get(hit.category, hit.detail) if hit.category else hit.detail
    return SearchHit(
        kind=hit.kind,
        name=hit.name,
        detail=detail,
        lon=hit.lon,
        lat=hit.lat,
        bbox=hit.bbox,
        ref=hit.ref,
    )


def router(pipelines_dir: Path) -> APIRouter:
    """The search route; facility categories are labelled from ``pipelines_dir/facility_types.toml``."""
    r = APIRouter(prefix="/api/twins/{twin}", tags=["search"])

    @r.get(
        "/search", summary="Find streets, addresses, districts, parcels and places by name", response_model=SearchAnswer
    )
    def find(
        twin: Twin,
        q: Annotated[str, Query(min_length=1, max_length=100, description="what to look for, e.g. 'kroep str'")],
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
        lang: Annotated[Lang, Query(description="language of the category labels")] = "de",
    ) -> SearchAnswer:
        hits = search(twin.cursor(), q, limit)
        labels = category_labels(pipelines_dir, lang)
        return SearchAnswer(query=q, fuzzy=any(h.fuzzy for h in hits), results=[_hit(h, labels) for h in hits])

    return r
