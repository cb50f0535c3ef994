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
