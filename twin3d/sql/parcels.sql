-- The parcels' figures from what stands on them, run in the build once buildings, parcels and land use are loaded.
-- Statements are separated by ";" on a line of its own; the parameter storey_height is the pipeline's storey height.

-- Which buildings stand on which parcels: the footprint area on each. Digitising slivers (under 0.5 m² and under
-- half the building) are not a building on the parcel.
INSERT INTO building_parcels
SELECT building_id, parcel_id, area_m2, area_m2 / greatest(footprint, 1e-9) AS share
FROM (
    SELECT b.building_id, p.parcel_id, ST_Area(ST_Intersection(b.geom, p.geom)) AS area_m2, ST_Area(b.geom) AS footprint
    FROM buildings AS b JOIN parcels AS p ON ST_Intersects(b.geom, p.geom)
)
WHERE area_m2 >= 0.5 OR area_m2 >= 0.5 * footprint
;
-- Built-up area and floor area per parcel. Storeys: the building's own count, else its height over the storey
-- height (at least one), which is marked as estimated.
UPDATE parcels AS p
SET buildings = f.n, built_m2 = f.built, floor_area_m2 = f.floor, storeys_estimated = f.estimated
FROM (
    SELECT r.parcel_id, count(*) AS n, sum(r.area_m2) AS built,
           sum(r.area_m2 * coalesce(b.levels, greatest(1, round(b.height / $storey_height)))) AS floor,
           bool_or(b.levels IS NULL) AS estimated
    FROM building_parcels AS r JOIN buildings AS b USING (building_id)
    GROUP BY r.parcel_id
) AS f
WHERE p.parcel_id = f.parcel_id
;
-- GRZ and GFZ over the parcel's geometric area (the area the building footprints were cut with).
UPDATE parcels SET grz = built_m2 / area_m2, gfz = floor_area_m2 / area_m2 WHERE area_m2 > 0
;
-- The land use covering most of each parcel.
UPDATE parcels AS p SET land_use = f.main.c, land_use_name = f.main.n
FROM (
    SELECT parcel_id, arg_max({'c': land_use_class, 'n': name}, a) AS main
    FROM (
        SELECT p.parcel_id, l.land_use_class, l.name, ST_Area(ST_Intersection(p.geom, l.geom)) AS a
        FROM parcels AS p JOIN land_use AS l ON ST_Intersects(p.geom, l.geom)
    )
    WHERE a > 0
    GROUP BY parcel_id
) AS f
WHERE p.parcel_id = f.parcel_id
;
