"""One twin of a server, as GeoDataFrames: what the viewer shows, through the same roles and privacy gate.

Everything is read over HTTP from the routes the viewer and GIS clients use, never from the store's file: the
caller's token decides what it sees (council layers and scenarios), and population figures are the published ones.
Feature collections come as Arrow streams with WKB geometry (``.../items?f=arrow``) in pages of
:data:`PAGE_SIZE`; frames are in the twin's CRS unless ``crs`` asks for another (``"EPSG:4326"``: WGS 84).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from twin3d.client.errors import NotFound, TwinClientError
from twin3d.client.frames import arrow_table, cells_frame, geo_from_arrow, geo_from_geojson
from twin3d.client.http import Params, Session

if TYPE_CHECKING:
    from twin3d.client.deck import OfflineDeck
    from twin3d.client.scenarios import Scenario
    from twin3d.simulation.scenario import Measure, ScenarioSpec

PAGE_SIZE = 10_000  # the server's largest page (features.MAX_LIMIT): one request for most collections
TWIN = "twin"
BBox = tuple[float, float, float, float]


def bbox_param(bbox: BBox) -> str:
    """A lon/lat box as the server's ``bbox`` parameter (9 significant digits: about a centimetre)."""
    return ",".join(f"{float(v):.9g}" for v in bbox)


class Twin:
    """A twin of a server (``client.twin("lauf")``).

    Args:
        session: the connection to the server.
        name: the twin's name in URLs.
    """

    def __init__(self, session: Session, name: str) -> None:
        self.session = session
        self.name = name
        self.path = f"/api/twins/{name}"

    def __repr__(self) -> str:
        return f"<Twin {self.name!r} at {self.session.url}>"

    # ------------------------------------------------------------------------------------------------------------
    # What the twin is

    @cached_property
    def info(self) -> dict[str, Any]:
        """The twin as ``GET /api/twins/{name}`` describes it (title, CRS, extent, counts, layers, build report)."""
        found: dict[str, Any] = self.session.get_json(self.path)
        return found

    def refresh(self) -> Twin:
        """Forget what was read of the twin (its description and CRS): after it was built again on the server."""
        for name in ("info", "crs"):
            self.__dict__.pop(name, None)
        return self

    @property
    def title(self) -> str:
        """The twin's title."""
        return str(self.info.get("title") or self.name)

    @cached_property
    def crs(self) -> CRS:
        """The twin's projected CRS (e.g. EPSG:25832): the default of every frame."""
        return CRS.from_user_input(self.info["crs"])

    @property
    def bbox(self) -> BBox:
        """The twin's extent in lon/lat (west, south, east, north)."""
        west, south, east, north = self.info["bbox"]
        return float(west), float(south), float(east), float(north)

    @property
    def counts(self) -> dict[str, int]:
        """Rows per table of the build (buildings, facilities, parcels, personas, ...)."""
        return dict(self.info.get("counts") or {})

    def _crs(self, crs: Any) -> Any:
        return self.crs if crs is None or crs == TWIN else crs

    # ------------------------------------------------------------------------------------------------------------
    # Feature collections (OGC API Features)

    def collections(self) -> pd.DataFrame:
        """The feature collections the caller may see: id, title, description."""
        found = self.session.get_json(f"{self.path}/features/collections")["collections"]
        return pd.DataFrame(
            [{"id": c["id"], "title": c["title"], "description": c.get("description", "")} for c in found],
            columns=["id", "title", "description"],
        )

    def features(
        self,
        collection: str,
        *,
        bbox: BBox | None = None,
        where: dict[str, Any] | None = None,
        crs: Any = None,
        limit: int | None = None,
    ) -> gpd.GeoDataFrame:
        """The features of a collection (``collections()`` lists them) as a GeoDataFrame indexed by the
        collection's id column (``building_id``, ``facility_id``, ``fid`` of a loaded layer, ...).

        Args:
            collection: the collection id (``buildings``, ``facilities``, ``layer_<id>``, ...).
            bbox: only features meeting this lon/lat box (west, south, east, north).
            where: equality filters on properties (``{"building_type": "residential"}``).
            crs: the frame's CRS; None: the twin's; ``"EPSG:4326"``: WGS 84.
            limit: at most this many features (None: all, fetched page by page).
        """
        params: Params = {"f": "arrow", "limit": min(limit or PAGE_SIZE, PAGE_SIZE)}
        if bbox is not None:
            params["bbox"] = bbox_param(bbox)
        for key, value in (where or {}).items():
            params[key] = str(value)
        url: str | None = f"{self.path}/features/collections/{collection}/items"
        query: Params | None = params
        tables = []
        got = 0
        while url is not None:
            response = self.session.get(url, query)
            table = arrow_table(response.content)
            tables.append(table)
            got += table.num_rows
            next_url = response.links.get("next", {}).get("url")
            url, query = (next_url, None) if next_url and (limit is None or got < limit) else (None, None)
        frame = geo_from_arrow(tables, self._crs(crs))
        return frame.iloc[:limit] if limit is not None else frame

    def buildings(self, *, bbox: BBox | None = None, crs: Any = None, **where: Any) -> gpd.GeoDataFrame:
        """Building footprints with type, height, storeys and footprint area; ``where``: equality filters
        (``building_type="residential"``)."""
        return self.features("buildings", bbox=bbox, where=where, crs=crs)

    def facilities(self, *, bbox: BBox | None = None, crs: Any = None, **where: Any) -> gpd.GeoDataFrame:
        """Schools, Kitas, stops, doctors and the other facilities; ``where``: equality filters
        (``category="amenity=kindergarten"``)."""
        return self.features("facilities", bbox=bbox, where=where, crs=crs)

    def paths(self, *, bbox: BBox | None = None, crs: Any = None, **where: Any) -> gpd.GeoDataFrame:
        """The street and footpath network the walks are measured on."""
        return self.features("paths", bbox=bbox, where=where, crs=crs)

    def parcels(self, *, bbox: BBox | None = None, crs: Any = None, **where: Any) -> gpd.GeoDataFrame:
        """Cadastre parcels with area, land use, GRZ and GFZ (twins built with a cadastre)."""
        return self.features("parcels", bbox=bbox, where=where, crs=crs)

    def land_use(self, *, bbox: BBox | None = None, crs: Any = None, **where: Any) -> gpd.GeoDataFrame:
        """Actual land use (ALKIS) by class and group (twins built with a cadastre)."""
        return self.features("land_use", bbox=bbox, where=where, crs=crs)

    # ------------------------------------------------------------------------------------------------------------
    # Statistics

    def district_levels(self) -> list[str]:
        """The district levels of the twin (Stadtbezirk, Stadtteil, ...), coarsest first."""
        return [layer["id"].split(":", 1)[1] for layer in self.info.get("layers", []) if layer["kind"] == "districts"]

    def districts(self, level: str | None = None, *, year: int | None = None, crs: Any = None) -> gpd.GeoDataFrame:
        """Districts of one level (None: the first) with their statistics of ``year`` (None: the latest)."""
        levels = self.district_levels()
        if not levels:
            raise TwinClientError(f"the twin {self.name!r} has no districts")
        chosen = level or levels[0]
        response = self.session.get(f"{self.path}/districts/{chosen}.geojson", {"year": year})
        return geo_from_geojson(response.content, self._crs(crs))

    def district_series(self, variable: str, level: str | None = None) -> pd.DataFrame:
        """One statistic of every district over its years: a frame with a row per district and a column per year."""
        levels = self.district_levels()
        if level is None and not levels:  # else the server's answer to ".../districts//series" is a bare 404
            raise TwinClientError(f"the twin {self.name!r} has no districts")
        chosen = level or levels[0]
        found = self.session.get_json(f"{self.path}/districts/{chosen}/series", {"variable": variable})
        frame = pd.DataFrame.from_dict(found["values"], orient="index", columns=found["years"])
        frame.index.name = "district_id"
        frame.attrs.update(unit=found.get("unit"), source=found.get("source"), variable=variable)
        return frame

    def grid(self, *, year: int | None = None, crs: Any = None) -> gpd.GeoDataFrame:
        """The census grid cells with their statistics of ``year`` (None: the latest)."""
        response = self.session.get(f"{self.path}/grid.geojson", {"year": year})
        return geo_from_geojson(response.content, self._crs(crs))

    # ------------------------------------------------------------------------------------------------------------
    # Loaded layers and participation

    def layers(self) -> pd.DataFrame:
        """The loaded layers the caller may see: id, title, kind, visibility, features, source, licence."""
        found = self.session.get_json(f"{self.path}/layers")
        rows = found.get("layers", found) if isinstance(found, dict) else found
        columns = ["id", "title", "kind", "visibility", "feature_count", "source", "licence", "attribution"]
        return pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)

    def layer(self, layer_id: str, *, bbox: BBox | None = None, crs: Any = None) -> gpd.GeoDataFrame:
        """The features of a loaded vector layer (raster, 3D and service layers are drawn, not read: see
        ``layers()`` and the viewer)."""
        entry = self.session.get_json(f"{self.path}/layers/{layer_id}")
        if entry.get("kind") != "vector":
            raise TwinClientError(
                f"layer {layer_id!r} is a {entry.get('kind')} layer: only vector layers are read as features"
            )
        return self.features(str(entry["collection"]), bbox=bbox, crs=crs)

    def places(self, *, crs: Any = None) -> gpd.GeoDataFrame:
        """The citizens' visible places (happy or improvable) with votes and the official answer."""
        return geo_from_geojson(self.session.get(f"{self.path}/places.geojson").content, self._crs(crs))

    def proposals(self, *, crs: Any = None) -> gpd.GeoDataFrame:
        """The citizens' visible proposals with their stage, votes and simulated gainers."""
        return geo_from_geojson(self.session.get(f"{self.path}/proposals.geojson").content, self._crs(crs))

    # ------------------------------------------------------------------------------------------------------------
    # The population (published aggregates only: the privacy gate is the server's)

    def personas(self) -> pd.DataFrame:
        """The persona catalogue, in its order, indexed by id (names, descriptions, colour, needs)."""
        return pd.DataFrame(self.session.get_json(f"{self.path}/personas")).set_index("id")

    def population(
        self,
        *,
        resolution: int = 9,
        persona: str = "*",
        scenario: str | Scenario = "baseline",
        bbox: BBox | None = None,
        crs: Any = None,
    ) -> gpd.GeoDataFrame:
        """Published persons and households per H3 cell (``persona``: one persona's, ``*``: everyone's), with each
        cell's outline: the same figures the viewer draws. Small cells are merged into coarser ones
        (``cell_resolution``) and counts are noised by the server's privacy gate; a merged cell overlaps the finer
        cells inside it, so a spatial join should weigh by area or keep one resolution (``cell_resolution``)."""
        params: Params = {"format": "arrow", "resolution": resolution, "persona": persona,
                          "scenario": scenario if isinstance(scenario, str) else scenario.id}  # fmt: skip
        if bbox is not None:
            params["bbox"] = bbox_param(bbox)
        table = arrow_table(self.session.get(f"{self.path}/population/h3", params).content)
        return cells_frame(table.to_pandas(), "h3", self._crs(crs))

    def population_summary(self, scenario: str | Scenario = "baseline") -> pd.DataFrame:
        """Published persons and households per persona (summed over resolution-7 cells), indexed by persona; the
        total of everyone is in ``frame.attrs["total"]``. Suppressed groups make the personas add up to less."""
        scenario_id = scenario if isinstance(scenario, str) else scenario.id
        found = self.session.get_json(f"{self.path}/population/summary", {"scenario": scenario_id})
        frame = pd.DataFrame(found["personas"]).set_index("id").rename_axis("persona")
        frame.attrs["total"] = found["total"]
        return frame

    # ------------------------------------------------------------------------------------------------------------
    # Scenarios

    def scenarios(self, *, unlisted: bool = False) -> pd.DataFrame:
        """The stored scenarios the caller may see, newest first (``unlisted``: the administration's all)."""
        rows = self.session.get_json(f"{self.path}/scenarios", {"unlisted": unlisted or None})
        return pd.DataFrame(rows).set_index("scenario_id") if rows else pd.DataFrame()

    def scenario(self, scenario_id: str) -> Scenario:
        """A stored scenario by its id."""
        from twin3d.client.scenarios import Scenario  # noqa: PLC0415  (the modules refer to each other)

        return Scenario(self, scenario_id)

    def create_scenario(
        self,
        spec: ScenarioSpec | str,
        measures: list[Measure] | None = None,
        *,
        description: str = "",
        visibility: Literal["public", "council", "admin"] = "public",
    ) -> Scenario:
        """Store a scenario (or find the same one stored before): a :class:`ScenarioSpec`, or a name and measures
        (``twin3d.client.measures``). The server checks it against the twin (extent, ids) before storing it."""
        from twin3d.client.scenarios import Scenario  # noqa: PLC0415
        from twin3d.simulation.scenario import ScenarioSpec  # noqa: PLC0415

        if isinstance(spec, str):
            if not measures:
                raise TwinClientError("a scenario needs at least one measure: pass measures=[...]")
            spec = ScenarioSpec(name=spec, description=description, measures=measures, visibility=visibility)
        stored = self.session.post_json(f"{self.path}/scenarios", spec.model_dump(mode="json"))
        return Scenario(self, str(stored["scenario_id"]), stored)

    def has(self, collection: str) -> bool:
        """Whether the caller sees the feature collection ``collection``."""
        try:
            self.session.get_json(f"{self.path}/features/collections/{collection}")
        except NotFound:
            return False
        return True

    # ------------------------------------------------------------------------------------------------------------
    # Maps

    def deck(self, **kwargs: Any) -> OfflineDeck:
        """A pydeck map of the twin that loads nothing from a CDN: buildings, population cells, a scenario's change,
        your frames (keywords of :func:`twin3d.client.deck.twin_deck`)."""
        from twin3d.client.deck import twin_deck  # noqa: PLC0415  (pydeck only when a map is asked for)

        return twin_deck(self, **kwargs)
