-- The twin store: one DuckDB file per twin. Geometries in the twin's projected CRS (geom) and, for serving,
-- in WGS 84 lon/lat (geom_wgs84). Written only by twin3d.store.writer, inside one transaction per build.

CREATE TABLE twin_meta (
    key   VARCHAR PRIMARY KEY,
    value JSON NOT NULL
);

CREATE TABLE sources (
    name        VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,
    files       VARCHAR[] NOT NULL,
    sha256      VARCHAR[] NOT NULL,
    attribution VARCHAR,
    records_in  BIGINT NOT NULL,
    records_out BIGINT NOT NULL,
    repaired    BIGINT NOT NULL,
    dropped     BIGINT NOT NULL
);

-- Every record a build left out, with the reason; the build summary counts these.
CREATE TABLE dropped_records (
    source VARCHAR NOT NULL,
    file   VARCHAR NOT NULL,
    record VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);

CREATE TABLE districts (
    district_id VARCHAR PRIMARY KEY,      -- '<level>:<code>'
    level       VARCHAR NOT NULL,
    code        VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    parent_id   VARCHAR,
    area_m2     DOUBLE NOT NULL,
    geom        GEOMETRY NOT NULL,
    geom_wgs84  GEOMETRY NOT NULL,
    UNIQUE (level, code)
);

CREATE TABLE district_stats (
    district_id VARCHAR NOT NULL,
    year        INTEGER NOT NULL,
    variable    VARCHAR NOT NULL,
    value       DOUBLE,
    unit        VARCHAR,
    source      VARCHAR NOT NULL,
    PRIMARY KEY (district_id, year, variable)
);

CREATE TABLE grid_cells (
    cell_id      VARCHAR PRIMARY KEY,     -- INSPIRE id, e.g. CRS3035RES1000mN3440000E4456000
    resolution_m DOUBLE NOT NULL,
    name         VARCHAR,                 -- where it is, for people (twin3d.store.area_names): Lauf – Nordost
    name_en      VARCHAR,
    geom         GEOMETRY NOT NULL,
    geom_wgs84   GEOMETRY NOT NULL
);

CREATE TABLE grid_stats (
    cell_id  VARCHAR NOT NULL,
    year     INTEGER NOT NULL,
    variable VARCHAR NOT NULL,
    value    DOUBLE,                      -- NULL: confidential or not available
    unit     VARCHAR,
    source   VARCHAR NOT NULL,
    PRIMARY KEY (cell_id, year, variable)
);

CREATE TABLE buildings (
    building_id   VARCHAR PRIMARY KEY,
    source        VARCHAR NOT NULL,       -- source label: osm, cityjson, footprints
    building_type VARCHAR NOT NULL,
    name          VARCHAR,
    height        DOUBLE NOT NULL,        -- metres above the ground it stands on
    height_source VARCHAR NOT NULL,       -- measured | tag | levels | default
    levels        DOUBLE,
    ground_height DOUBLE NOT NULL,        -- metres above sea level (DHHN2016)
    footprint_m2  DOUBLE NOT NULL,
    tile          VARCHAR NOT NULL,       -- content file (relative to the tileset) that holds the building
    attributes    JSON,
    geom          GEOMETRY NOT NULL,
    geom_wgs84    GEOMETRY NOT NULL
);

-- Cadastre parcels (ALKIS Flurstücke). The figures after area_m2 are derived in the build from the buildings and the
-- land use on each parcel (twin3d/sql/parcels.sql): GRZ = built-up area / parcel area, GFZ = floor area / parcel area.
CREATE TABLE parcels (
    parcel_id        VARCHAR PRIMARY KEY, -- the object id (ALKIS gml_id)
    cadastral_id     VARCHAR,             -- Flurstückskennzeichen, e.g. 072566001000060002__
    gemarkung        VARCHAR,             -- Gemarkungsnummer
    gemarkung_name   VARCHAR,             -- the Gemarkung's name (the pipeline's gemarkung_name), e.g. Monzel
    flur             VARCHAR,             -- Flurnummer
    number           VARCHAR,             -- Flurstücksnummer: Zähler or Zähler/Nenner
    label            VARCHAR NOT NULL,    -- in German: Gemarkung Monzel (2566), Flur 1, Flurstück 6/2 (the viewer
                                          -- builds its own, in the page's language, from the columns above)
    official_area_m2 DOUBLE,              -- amtliche Fläche
    area_m2          DOUBLE NOT NULL,     -- of the geometry
    land_use         VARCHAR,             -- the land-use class covering most of the parcel (land_use.land_use_class)
    land_use_name    VARCHAR,
    buildings        INTEGER NOT NULL DEFAULT 0,   -- buildings standing (partly) on the parcel
    built_m2         DOUBLE NOT NULL DEFAULT 0,    -- footprint area on the parcel
    floor_area_m2    DOUBLE NOT NULL DEFAULT 0,    -- footprint area on the parcel x storeys
    storeys_estimated BOOLEAN NOT NULL DEFAULT FALSE, -- some storeys came from a height (no storey count known)
    grz              DOUBLE,              -- Grundflächenzahl (built-up share)
    gfz              DOUBLE,              -- Geschossflächenzahl (floor area ratio)
    source           VARCHAR NOT NULL,
    geom             GEOMETRY NOT NULL,
    geom_wgs84       GEOMETRY NOT NULL
);

-- Actual land use (ALKIS tatsächliche Nutzung): polygons that tile the area.
CREATE TABLE land_use (
    land_use_id    VARCHAR PRIMARY KEY,
    land_use_class VARCHAR NOT NULL,      -- ALKIS object type in lower case (ax_wohnbauflaeche) or the source's class
    name           VARCHAR NOT NULL,      -- the class as a person reads it: Wohnbaufläche
    name_en        VARCHAR,
    land_use_group VARCHAR,               -- Siedlung | Verkehr | Vegetation | Gewässer
    function       VARCHAR,               -- ALKIS funktion code, where given
    label          VARCHAR,               -- the object's own name, where given
    area_m2        DOUBLE NOT NULL,
    source         VARCHAR NOT NULL,
    geom           GEOMETRY NOT NULL,
    geom_wgs84     GEOMETRY NOT NULL
);

-- Which buildings stand on which parcels, with the footprint area on each (a building may straddle a boundary).
CREATE TABLE building_parcels (
    building_id VARCHAR NOT NULL,
    parcel_id   VARCHAR NOT NULL,
    area_m2     DOUBLE NOT NULL,          -- footprint area on this parcel
    share       DOUBLE NOT NULL,          -- of the building's footprint
    PRIMARY KEY (building_id, parcel_id)
);

-- Names of coded values, for people: ALKIS building functions (1000 -> Wohngebäude), with the code list they come from.
CREATE TABLE type_names (
    domain  VARCHAR NOT NULL,             -- building_type
    code    VARCHAR NOT NULL,
    name    VARCHAR NOT NULL,
    name_en VARCHAR,
    source  VARCHAR NOT NULL,             -- the code list
    PRIMARY KEY (domain, code)
);

CREATE TABLE facilities (
    facility_id VARCHAR PRIMARY KEY,
    category    VARCHAR NOT NULL,         -- e.g. amenity=school
    name        VARCHAR,
    attributes  JSON,
    source      VARCHAR NOT NULL,
    geom        GEOMETRY NOT NULL,
    geom_wgs84  GEOMETRY NOT NULL
);

-- Public green areas (parks, public gardens, playgrounds) for green space per resident within walking distance.
CREATE TABLE greens (
    green_id   VARCHAR PRIMARY KEY,
    category   VARCHAR NOT NULL,          -- e.g. leisure=park
    name       VARCHAR,
    area_m2    DOUBLE NOT NULL,
    source     VARCHAR NOT NULL,
    geom       GEOMETRY NOT NULL,
    geom_wgs84 GEOMETRY NOT NULL
);

CREATE TABLE paths (
    path_id    VARCHAR PRIMARY KEY,
    path_class VARCHAR,                   -- e.g. highway=footway
    name       VARCHAR,
    length_m   DOUBLE NOT NULL,
    source     VARCHAR NOT NULL,
    geom       GEOMETRY NOT NULL,
    geom_wgs84 GEOMETRY NOT NULL
);

-- Roads for motor traffic (OSM highway motorway..service and their links): the noise model's sources
-- (twin3d.simulation.noise). Speeds where maxspeed gives a number; the build report counts why others give none.
CREATE TABLE roads (
    road_id      VARCHAR PRIMARY KEY,     -- way/123 for OSM
    road_class   VARCHAR NOT NULL,        -- OSM highway value: motorway, primary, residential, motorway_link ...
    name         VARCHAR,
    maxspeed     VARCHAR,                 -- the raw value: 50, 30 mph, DE:urban, none, signals
    maxspeed_kmh DOUBLE,                  -- parsed; NULL where there is no number (twin3d.io.osm_roads)
    lanes        INTEGER,
    oneway       BOOLEAN,
    layer        INTEGER,
    tunnel       BOOLEAN NOT NULL,        -- in a tunnel: emits no noise to the surface
    bridge       BOOLEAN NOT NULL,
    length_m     DOUBLE NOT NULL,
    source       VARCHAR NOT NULL,
    geom         GEOMETRY NOT NULL,
    geom_wgs84   GEOMETRY NOT NULL
);

-- Street axes with their names (a municipal street register): for search and the basemap.
CREATE TABLE streets (
    street_id    VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    street_key   VARCHAR,                 -- the official street key (Straßenschlüssel), where the source has one
    street_class VARCHAR,
    length_m     DOUBLE,
    source       VARCHAR,
    geom         GEOMETRY,
    geom_wgs84   GEOMETRY
);

-- What the search box finds (twin3d.store.search, written at the end of a build from the public tables only):
-- one row per street (its segments merged), address, district, parcel, named facility, green or building.
CREATE TABLE search_index (
    kind     VARCHAR NOT NULL,            -- street | address | district | parcel | facility | green | place
    name     VARCHAR NOT NULL,            -- what a person reads
    detail   VARCHAR NOT NULL,            -- where or what it is: the district, the town, the category
    category VARCHAR,                     -- the source category of facilities and greens (labelled when served)
    key      VARCHAR NOT NULL,            -- normalised search text: tokens separated by single spaces
    lon      DOUBLE NOT NULL,             -- where to fly (on the object)
    lat      DOUBLE NOT NULL,
    west     DOUBLE NOT NULL,             -- the box to fit (a point gets a small one)
    south    DOUBLE NOT NULL,
    east     DOUBLE NOT NULL,
    north    DOUBLE NOT NULL,
    rank     SMALLINT NOT NULL,           -- lower first: streets and places above addresses and parcels
    ref      VARCHAR                      -- the object's id in its table
);

-- The terrain the twin was built on (twin3d.pipeline.terrain): its DEM over the twin's extent in the twin's CRS, for
-- the scenarios' flood model. At most one row; heights are float32 little-endian, row by row from the top-left
-- cell, NaN where the DEM has no data. A twin without a DEM has no row (it stands on its twin-wide ground).
CREATE TABLE terrain (
    source         VARCHAR NOT NULL,      -- the DEM file's name
    crs            VARCHAR NOT NULL,      -- the twin's CRS, which the grid is in
    origin_x       DOUBLE NOT NULL,       -- centre of the top-left cell
    origin_y       DOUBLE NOT NULL,
    pixel_x        DOUBLE NOT NULL,       -- cell width and height, metres
    pixel_y        DOUBLE NOT NULL,
    n_rows         INTEGER NOT NULL,
    n_cols         INTEGER NOT NULL,
    source_pixel_m DOUBLE NOT NULL,       -- the DEM's own cell size (larger cells: coarsened to fit)
    min_m          DOUBLE,                -- lowest and highest cell, metres above NHN
    max_m          DOUBLE,
    heights        BLOB NOT NULL
);

-- The synthetic population (twin3d.population). Households and persons are the store's microdata: no public
-- endpoint reads them; the public API reads population_public, which only twin3d.population.privacy writes.
CREATE TABLE households (
    replicate      SMALLINT NOT NULL,     -- 0 is the published one; more on request
    household_id   BIGINT NOT NULL,
    household_type VARCHAR NOT NULL,      -- single | couple | couple_children | single_parent | shared
    size           UTINYINT NOT NULL,
    adults         UTINYINT NOT NULL,
    children       UTINYINT NOT NULL,     -- persons under 18
    persona        VARCHAR NOT NULL,
    district_id    VARCHAR,               -- the district whose statistics it was fitted to
    cell_id        VARCHAR,               -- the census grid cell it was fitted to
    building_id    VARCHAR,               -- NULL where the town has no residential buildings
    lon            DOUBLE NOT NULL,
    lat            DOUBLE NOT NULL,
    h3_10          UBIGINT NOT NULL,
    PRIMARY KEY (replicate, household_id)
);

CREATE TABLE persons (
    replicate    SMALLINT NOT NULL,
    person_id    BIGINT NOT NULL,
    household_id BIGINT NOT NULL,
    age          UTINYINT NOT NULL,
    sex          VARCHAR NOT NULL,        -- m | f
    role         VARCHAR NOT NULL,        -- adult | child
    PRIMARY KEY (replicate, person_id)
);

CREATE TABLE personas (
    persona_id     VARCHAR PRIMARY KEY,
    position       INTEGER NOT NULL,
    name           VARCHAR NOT NULL,
    name_en        VARCHAR NOT NULL,
    description    VARCHAR NOT NULL,
    description_en VARCHAR NOT NULL,
    color          VARCHAR NOT NULL,      -- #rrggbb
    rule           JSON NOT NULL,
    needs          JSON NOT NULL
);

-- Privacy-safe aggregates: the only population table public endpoints read (written by privacy.publish).
CREATE TABLE population_public (
    scenario        VARCHAR NOT NULL,     -- 'baseline' or a scenario's content hash
    resolution      UTINYINT NOT NULL,    -- the H3 resolution asked for
    h3              UBIGINT NOT NULL,     -- the published cell: at that resolution, or a coarser one it was merged into
    cell_resolution UTINYINT NOT NULL,
    persona         VARCHAR NOT NULL,     -- a persona id, or '*' for everyone
    persons         BIGINT NOT NULL,
    households      BIGINT NOT NULL,
    lon             DOUBLE NOT NULL,      -- centre of the published cell, for bounding-box queries
    lat             DOUBLE NOT NULL
);
