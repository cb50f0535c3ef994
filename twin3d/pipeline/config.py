"""The declarative pipeline definition of a twin (``pipelines/<twin>.toml``), parsed and validated.

A definition holds no code: the twin's name, CRS and ground, a list of sources (what each file is and how its
fields map onto the twin's tables), building-height rules and tiling parameters. Relative paths are taken
relative to the definition file.

Example:
    >>> cfg = load_pipeline(Path("pipelines/lauf.toml"))  # doctest: +SKIP
    >>> cfg.twin.crs  # doctest: +SKIP
    'EPSG:25832'
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from twin3d.errors import ConfigError
from twin3d.layers.model import LayerDefinition
from twin3d.tomlfile import read_toml

TWIN_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choropleth(_Strict):
    """Which statistic the viewer colours by default."""

    layer: str = Field(pattern=r"^(grid|districts:[a-z0-9_]+)$", description="'grid' or 'districts:<level>'")
    variable: str
    label: str
    label_en: str | None = Field(default=None, min_length=1, description="the label in the English viewer")
    year: int | None = None


class TwinSection(_Strict):
    """The ``[twin]`` table: identity, CRS and the ground the buildings stand on."""

    name: str = Field(pattern=TWIN_NAME_PATTERN)
    title: str
    description: str = ""
    # What the municipality writes is German; the English viewer shows these where given (else the German text).
    title_en: str | None = Field(default=None, min_length=1, description="the title in the English viewer")
    description_en: str | None = Field(default=None, min_length=1, description="the description in English")
    crs: str = Field(description="the twin's projected CRS, e.g. EPSG:25832")
    ground_height: float = Field(description="twin-wide ground height in the height_system (default DHHN2016), metres")
    geoid_undulation: float = Field(
        ge=-120, le=100, description="quasigeoid above the GRS80 ellipsoid at the twin origin, metres"
    )
    geoid_source: str = Field(default="", description="where the undulation value comes from")
    height_system: str = Field(
        default="EPSG:7837", description="vertical CRS of heights: EPSG:7837 DHHN2016 (Germany), EPSG:5709 NAP, ..."
    )
    dem: str | None = Field(default=None, description="terrain GeoTIFF, relative to the pipeline file")
    dem_crs: str | None = Field(default=None, description="CRS of a DEM file that carries none")
    attribution: list[str] = Field(default_factory=list)
    attribution_en: list[str] | None = Field(default=None, description="the attribution lines in English, one each")
    choropleth: Choropleth | None = None

    @model_validator(mode="after")
    def _english_beside_german(self) -> TwinSection:
        if self.description_en and not self.description:
            raise ValueError("description_en is given but description is not: write the German description too")
        if self.attribution_en is not None and len(self.attribution_en) != len(self.attribution):
            raise ValueError(
                f"attribution_en has {len(self.attribution_en)} line(s), attribution {len(self.attribution)}: "
                "translate each line of attribution, in the same order"
            )
        return self

    def english(self) -> dict[str, str | list[str]]:
        """The twin's texts in English, where the definition gives them (``title``, ``description``,
        ``attribution``)."""
        texts = {"title": self.title_en, "description": self.description_en, "attribution": self.attribution_en}
        return {key: text for key, text in texts.items() if text}

    @field_validator("crs")
    @classmethod
    def _projected_crs(cls, value: str) -> str:
        try:
            crs = CRS.from_user_input(value)
        except ProjCRSError as exc:
            raise ValueError(f"unknown CRS {value!r}") from exc
        if not crs.is_projected:
            raise ValueError(f"{value} is not a projected CRS; twins work in metres (e.g. EPSG:25832)")
        return value


class _SourceBase(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    path: str = Field(description="file path or glob, relative to the pipeline file")
    crs: str | None = Field(default=None, description="declared CRS for files that carry none")
    layer: str | None = Field(default=None, description="the layer of a multi-layer file (GeoPackage); default: first")
    attribution: str = ""

    def files(self, base: Path) -> list[Path]:
        """The files this source names, sorted; a glob must match at least one file."""
        pattern = os.path.normpath(base / self.path)
        if any(ch in self.path for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(pattern))  # noqa: PTH207  (the pattern is a whole path)
            if not found:
                raise ConfigError(
                    f"source {self.name!r}: the pattern matches no file",
                    file=pattern,
                    hint="check the path in the pipeline definition",
                )
            return found
        return [Path(pattern)]


class BuildingsSource(_SourceBase):
    """Building footprints (GeoJSON, GeoPackage, Shapefile) or 3D buildings (CityJSON)."""

    kind: Literal["buildings"]
    format: Literal["vector", "osm", "cityjson", "citygml", "nas"] = "vector"
    id_field: str | None = None
    type_field: str | None = None
    type_names: str | None = Field(
        default=None,
        description="a code list (CSV: code, name) naming the values of type_field, e.g. ALKIS building functions; "
        "relative to this file",
    )
    name_field: str | None = None
    height_field: str | None = None
    levels_field: str | None = None
    source_label: str = Field(default="footprints", pattern=r"^[a-z0-9_-]+$")
    keep_fields: list[str] = Field(default_factory=list, description="attributes kept for the building API")
    split_mb: float = Field(
        default=256.0,
        gt=0,
        description="an OSM file larger than this (MB) is cut into pieces of about this size, each read by a task "
        "of its own (needs osmium-tool; see twin3d.io.osm_split)",
    )


class FacilitiesSource(_SourceBase):
    """Points of interest: schools, kindergartens, stops, doctors, parks."""

    kind: Literal["facilities"]
    format: Literal["vector", "osm"] = "vector"
    id_field: str | None = None
    category_field: str
    name_field: str | None = None
    keep_fields: list[str] = Field(default_factory=list)


class GreensSource(_SourceBase):
    """Public green areas (polygons): parks, public gardens, playgrounds; for green space per resident.

    With ``format = "osm"`` the green tags of :data:`twin3d.io.osm.GREEN_VALUES` are read (the category is the
    tag); a vector file names its category field.
    """

    kind: Literal["greens"]
    format: Literal["vector", "osm"] = "vector"
    id_field: str | None = None
    category_field: str | None = None
    name_field: str | None = None


class PathsSource(_SourceBase):
    """A street and footpath network (lines); the graph is built from it by later steps."""

    kind: Literal["paths"]
    format: Literal["vector", "osm"] = "vector"
    id_field: str | None = None
    class_field: str | None = None
    name_field: str | None = None


class RoadsSource(_SourceBase):
    """Roads for motor traffic (lines) with their class, speed limit and lanes: the noise model's sources.

    With ``format = "osm"`` the ways of :data:`twin3d.io.osm_roads.MOTOR_ROAD_CLASSES` are read with their OSM tags;
    a vector file names its fields (the defaults are the OSM tag names, so an OSM export to GeoJSON needs none).
    Rows whose class is no motor road class are left out (reported).
    """

    kind: Literal["roads"]
    format: Literal["vector", "osm"] = "vector"
    id_field: str | None = None
    class_field: str = Field(default="highway", description="the road class, as OSM highway values (primary ...)")
    name_field: str | None = "name"
    maxspeed_field: str | None = Field(default="maxspeed", description="speed limit: km/h or an OSM maxspeed value")
    lanes_field: str | None = "lanes"
    oneway_field: str | None = "oneway"
    tunnel_field: str | None = Field(default="tunnel", description="yes/building_passage/...: the road emits no noise")
    bridge_field: str | None = "bridge"
    layer_field: str | None = "layer"


class StreetsSource(_SourceBase):
    """Street axes with their names (lines): for search and the basemap, e.g. a municipal street register."""

    kind: Literal["streets"]
    format: Literal["vector"] = "vector"
    name_field: str = Field(description="the street name; axes without a name are left out (reported)")
    id_field: str | None = None
    key_field: str | None = Field(default=None, description="the official street key (Straßenschlüssel)")
    class_field: str | None = None


class DistrictsSource(_SourceBase):
    """District polygons of one level (e.g. Stadtbereiche, statistische Bezirke)."""

    kind: Literal["districts"]
    level: str = Field(pattern=r"^[a-z0-9_]+$")
    level_title: str = ""
    level_title_en: str | None = Field(default=None, min_length=1, description="the level's title in English")
    code_field: str
    name_field: str
    parent_level: str | None = Field(
        default=None, description="level this one nests in; parents are assigned by location"
    )


class DistrictStatsSource(_SourceBase):
    """A municipal statistics table, one row per district, joined on the district code."""

    kind: Literal["district_stats"]
    level: str = Field(pattern=r"^[a-z0-9_]+$")
    key_field: str
    year: int | None = None
    years: list[int] | None = Field(default=None, description="with '{year}' in path: one file per year")
    rename: dict[str, str] = Field(default_factory=dict, description="source column -> variable name")
    units: dict[str, str] = Field(default_factory=dict, description="variable name -> unit")

    @model_validator(mode="after")
    def _year_given(self) -> DistrictStatsSource:
        if (self.year is None) == (self.years is None):
            raise ValueError("give exactly one of 'year' or 'years'")
        if self.years is not None and "{year}" not in self.path:
            raise ValueError("'years' needs a '{year}' placeholder in 'path'")
        return self

    def files_by_year(self, base: Path) -> list[tuple[int, Path]]:
        """(year, file) pairs for this source."""
        if self.years is not None:
            return [(y, Path(os.path.normpath(base / self.path.replace("{year}", str(y))))) for y in self.years]
        assert self.year is not None
        return [(self.year, Path(os.path.normpath(base / self.path)))]


class GridStatsSource(_SourceBase):
    """A census grid CSV: Eurostat 1 km (``GRD_ID``) or Destatis Zensus 2022 (``GITTER_ID_100m;...``)."""

    kind: Literal["grid"]
    format: Literal["auto", "eurostat-grid", "zensus-grid"] = Field(
        default="auto", description="'auto' tells the two layouts apart by their header"
    )
    year: int
    rename: dict[str, str] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)


class ParcelsSource(_SourceBase):
    """Cadastre parcels (ALKIS Flurstücke): NAS XML, or an open-data export (GeoPackage, Shapefile, GeoJSON).

    The field defaults are the ALKIS names (PostNAS schema) that NAS and the Länder's exports share.
    """

    kind: Literal["parcels"]
    format: Literal["vector", "nas"] = "vector"
    id_field: str | None = "gml_id"
    cadastral_id_field: str | None = Field(default="flurstueckskennzeichen", description="the parcel's official key")
    gemarkung_field: str | None = "gemarkungsnummer"
    gemarkung_name: str | None = Field(default=None, description="the Gemarkung's name, shown with the numbers")
    flur_field: str | None = "flurnummer"
    numerator_field: str | None = "zaehler"
    denominator_field: str | None = "nenner"
    official_area_field: str | None = Field(default="amtlicheflaeche", description="the official area, m²")


class LandUseSource(_SourceBase):
    """Actual land use (ALKIS tatsächliche Nutzung) or any land-use polygons with a class field."""

    kind: Literal["land_use"]
    format: Literal["vector", "nas"] = "vector"
    id_field: str | None = "gml_id"
    class_field: str = Field(default="objektart", description="ALKIS object type (ax_wohnbauflaeche ...) or a class")
    function_field: str | None = "funktion"
    name_field: str | None = "name"


Source = Annotated[
    BuildingsSource
    | ParcelsSource
    | LandUseSource
    | FacilitiesSource
    | GreensSource
    | PathsSource
    | RoadsSource
    | StreetsSource
    | DistrictsSource
    | DistrictStatsSource
    | GridStatsSource,
    Field(discriminator="kind"),
]


class HeightRules(_Strict):
    """How a building's height is found: tag, else storeys x storey height, else a default per type."""

    storey_height: float = Field(default=3.0, gt=1.5, le=10)
    default: float = Field(default=7.0, gt=0, le=300, description="height for types without their own default")
    by_type: dict[str, float] = Field(default_factory=dict)
    min_height: float = Field(default=2.0, gt=0, description="tagged heights below this are implausible")
    max_height: float = Field(default=300.0, gt=0, description="tagged heights above this are implausible")


class TilingRules(_Strict):
    """How buildings are cut into tiles."""

    max_features_per_tile: int = Field(default=800, ge=1, le=100_000)
    max_vertices_per_tile: int = Field(default=60_000, ge=100, le=65_535)
    min_footprint_area: float = Field(default=1.0, ge=0, description="m²; smaller footprints are dropped")
    partition: str = Field(
        default="blocks",
        pattern=r"^(blocks|districts:[a-z0-9_]+)$",
        description="external tilesets per square block, or per district of a level ('districts:<level>')",
    )
    block_size_m: float = Field(default=1000.0, ge=100.0, le=20_000.0)
    levels_of_detail: bool = Field(default=True, description="coarse LoD1 parents so a whole town shows at once")
    compression: Literal["none", "meshopt"] = "none"
    workers: int = Field(default=1, ge=1, le=64, description="processes that build partitions in parallel")


class PlacementSection(_Strict):
    """Which buildings house people, and the point lattice used where a zone has none."""

    residential_types: list[str] = Field(
        default_factory=lambda: [
            "yes",
            "house",
            "detached",
            "semidetached_house",
            "terrace",
            "residential",
            "apartments",
            "farm",
            "bungalow",
            "dormitory",
        ]
    )
    min_footprint_m2: float = Field(default=35.0, ge=0, description="smaller buildings are sheds and garages")
    lattice_spacing_m: float = Field(default=100.0, ge=10.0, le=1000.0)


class PrivacySection(_Strict):
    """Thresholds of the privacy gate; they can be raised, never lowered below the defaults."""

    min_persons: int = Field(default=50, ge=50)
    min_households: int = Field(default=25, ge=25)
    min_group: int = Field(default=3, ge=3)
    noise_amplitude: int = Field(default=2, ge=1, le=10)


class PopulationSection(_Strict):
    """The ``[population]`` table: synthesise households and persons from the twin's statistics."""

    year: int = Field(description="the statistics year the population reproduces")
    district_level: str | None = Field(default=None, description="district level whose tables are fitted")
    seed: int = Field(default=2023, ge=0)
    replicates: int = Field(default=1, ge=1, le=20)
    holdout: list[str] = Field(default_factory=list, description="controls left out of the fit to validate it")
    priors: str = Field(default="priors/germany.toml", description="household priors, relative to this file")
    personas: str = Field(default="personas.toml", description="persona catalogue, relative to this file")
    placement: PlacementSection = PlacementSection()
    privacy: PrivacySection = PrivacySection()

    @field_validator("holdout")
    @classmethod
    def _known_controls(cls, value: list[str]) -> list[str]:
        from twin3d.population.controls import ALL_CONTROLS  # noqa: PLC0415  (keeps config import light)

        unknown = sorted(set(value) - set(ALL_CONTROLS))
        if unknown:
            raise ValueError(f"unknown control(s) {', '.join(unknown)}; known: {', '.join(ALL_CONTROLS)}")
        return value


class PlaceCategory(_Strict):
    """A category citizens file their places under."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    name: str = Field(min_length=1, max_length=60)
    name_en: str = Field(min_length=1, max_length=60)


DEFAULT_PLACE_CATEGORIES = (
    PlaceCategory(id="housing", name="Wohnen", name_en="Housing"),
    PlaceCategory(id="mobility", name="Mobilität", name_en="Mobility"),
    PlaceCategory(id="green", name="Grün und Freiraum", name_en="Green and open space"),
    PlaceCategory(id="social", name="Soziales", name_en="Social"),
    PlaceCategory(id="culture", name="Kultur und Freizeit", name_en="Culture and leisure"),
    PlaceCategory(id="safety", name="Sicherheit", name_en="Safety"),
    PlaceCategory(id="other", name="Sonstiges", name_en="Other"),
)


class ParticipationSection(_Strict):
    """The ``[participation]`` table: citizens' places of this twin (all optional)."""

    categories: list[PlaceCategory] = Field(default_factory=lambda: list(DEFAULT_PLACE_CATEGORIES), min_length=1)
    moderation: Literal["pre", "post"] = Field(
        default="post", description="pre: nothing is public before a moderator shows it; post: public at once"
    )
    auto_hide_reports: int = Field(default=3, ge=1, le=100, description="open reports that hide a place")
    lens_min_contributions: int = Field(default=5, ge=5, description="fewer contributions per group are withheld")

    @field_validator("categories")
    @classmethod
    def _unique_categories(cls, value: list[PlaceCategory]) -> list[PlaceCategory]:
        ids = [c.id for c in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"category ids must be unique, repeated: {', '.join(dupes)}")
        return value


class BasemapSection(_Strict):
    """The ``[basemap]`` table: the vector tiles of the map under the buildings (:mod:`twin3d.pipeline.basemap`).

    With ``osm`` the map is drawn from that OpenStreetMap extract (land use, water, roads, railways, places); without
    it from the twin's own tables (districts, street axes, paths, greens). Districts come from the store in both.
    A twin with none of these gets no basemap.
    """

    enabled: bool = True
    osm: str | None = Field(default=None, description="an OSM extract (.osm.pbf), relative to the pipeline file")
    minzoom: int = Field(default=8, ge=0, le=16, description="the lowest zoom level tiles are made for")
    maxzoom: int = Field(default=14, ge=0, le=16, description="the highest; viewers overzoom its tiles beyond it")
    margin_m: float = Field(default=500.0, ge=0, le=20_000, description="map kept around the twin's extent, metres")

    @model_validator(mode="after")
    def _zoom_order(self) -> BasemapSection:
        if self.minzoom > self.maxzoom:
            raise ValueError(f"minzoom {self.minzoom} is above maxzoom {self.maxzoom}")
        return self


class PipelineConfig(_Strict):
    """A whole pipeline definition."""

    twin: TwinSection
    sources: list[Source]
    heights: HeightRules = HeightRules()
    tiles: TilingRules = TilingRules()
    population: PopulationSection | None = None
    participation: ParticipationSection = ParticipationSection()
    layers: list[LayerDefinition] = Field(default_factory=list, description="extra layers: twin3d layers sync")
    basemap: BasemapSection = BasemapSection()
    base_dir: Path = Field(default=Path(), description="folder of the definition file (set on load)")

    @model_validator(mode="after")
    def _unique_source_names(self) -> PipelineConfig:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique, repeated: {', '.join(dupes)}")
        levels = {s.level for s in self.sources if isinstance(s, DistrictsSource)}
        if self.tiles.partition.startswith("districts:") and self.tiles.partition.split(":", 1)[1] not in levels:
            raise ValueError(f"tiles.partition {self.tiles.partition!r} names a district level no source defines")
        for s in self.sources:
            if isinstance(s, DistrictStatsSource) and s.level not in levels:
                raise ValueError(f"source {s.name!r} refers to district level {s.level!r}, which no source defines")
            if isinstance(s, DistrictsSource) and s.parent_level and s.parent_level not in levels:
                raise ValueError(f"source {s.name!r}: parent level {s.parent_level!r} is not defined")
        pop = self.population
        if pop is not None and pop.district_level is not None and pop.district_level not in levels:
            raise ValueError(f"population.district_level {pop.district_level!r} is not a district level of a source")
        return self

    def twin_crs(self) -> CRS:
        """The twin's projected CRS."""
        return CRS.from_user_input(self.twin.crs)

    def sources_of(self, kind: type[_SourceBase]) -> list[_SourceBase]:
        """The sources of one kind, in definition order."""
        return [s for s in self.sources if isinstance(s, kind)]


def load_pipeline(path: Path) -> PipelineConfig:
    """Read and validate a pipeline definition.

    Args:
        path: the ``.toml`` file.

    Returns:
        The validated definition, with ``base_dir`` set to the file's folder.

    Raises:
        ConfigError: the file is missing, not TOML, or does not match the schema; the message names the field.
    """
    if not path.is_file():
        raise ConfigError("pipeline definition not found", file=path, hint="create it or check the twin name")
    raw = read_toml(path, "pipeline definition")
    raw["base_dir"] = str(path.parent)
    try:
        cfg = PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"invalid value at {where}: {first['msg']}",
            file=path,
            hint=f"{exc.error_count()} problem(s) in total; see the pipeline schema in twin3d/pipeline/config.py",
        ) from exc
    if cfg.twin.name != path.stem:
        raise ConfigError(
            f"twin name {cfg.twin.name!r} differs from the file name {path.stem!r}",
            file=path,
            hint="name the file <twin>.toml",
        )
    return cfg
