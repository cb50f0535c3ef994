-- Spatial indexes, created after the bulk load (building an R-tree once is faster than maintaining it).
CREATE INDEX buildings_geom_idx ON buildings USING RTREE (geom);
CREATE INDEX buildings_geom_wgs84_idx ON buildings USING RTREE (geom_wgs84);
CREATE INDEX districts_geom_idx ON districts USING RTREE (geom);
CREATE INDEX facilities_geom_idx ON facilities USING RTREE (geom);
CREATE INDEX parcels_geom_idx ON parcels USING RTREE (geom);
CREATE INDEX land_use_geom_idx ON land_use USING RTREE (geom);
