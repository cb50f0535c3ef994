"""Reading the store's microdata (``households``, ``persons``): only the gate does this.

Example:
    >>> units = published_units(con, ["family", "senior"], key=secret)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
from pyproj import CRS

from twin3d.errors import ConfigError
from twin3d.io.crs import transform_points
from twin3d.population.privacy.atoms import DEFAULT_RULES, PrivacyRules
from twin3d.population.privacy.units import Microdata, PublishedUnits, publish_units

WGS84 = CRS.from_epsg(4326)
STOREY_HEIGHT_M = 3.0
LATTICE_WEIGHT_M2 = 10_000.0
"""The public weight of a lattice home point: the area it stands for (the placement's 100 m lattice)."""

# A building's public capacity as placement weighs it: footprint x storeys (mapped levels, else height / 3 m).
_HOUSEHOLDS = """
    SELECT h.h3_10, h.persona, h.size, h.lon, h.lat, coalesce(h.building_id, '') AS building,
           CASE WHEN b.building_id IS NULL THEN ?
                ELSE b.footprint_m2 * CASE WHEN b.levels > 0 THEN b.levels
                                           ELSE greatest(1, floor(b.height / ?)) END END AS weight
    FROM households h LEFT JOIN buildings b USING (building_id)
    WHERE h.replicate = ? ORDER BY h.household_id
"""
_PERSONS = """
    SELECT p.household_id, p.age, p.sex = 'm' AS male FROM persons p
    WHERE p.replicate = ? ORDER BY p.household_id, p.person_id
"""


def read_microdata(con: duckdb.DuckDBPyConnection, group_names: Sequence[str], *, replicate: int = 0) -> Microdata:
    """One replicate of a built twin's households and persons, in the twin's CRS.

    Raises:
        ConfigError: the store has no twin metadata, or households of personas outside ``group_names``.
    """
    row = con.execute("SELECT value->>'crs' FROM twin_meta WHERE key = 'twin'").fetchone()
    if row is None:
        raise ConfigError("the store has no twin metadata", hint="build the twin first: twin3d build <twin>")
    t = con.execute(_HOUSEHOLDS, [LATTICE_WEIGHT_M2, STOREY_HEIGHT_M, replicate]).to_arrow_table()
    ids = con.execute(
        "SELECT household_id FROM households WHERE replicate = ? ORDER BY household_id", [replicate]
    ).fetchnumpy()["household_id"]
    persons = con.execute(_PERSONS, [replicate]).to_arrow_table()
    personas = t["persona"].to_numpy(zero_copy_only=False).astype(str)
    lookup = {p: i for i, p in enumerate(group_names)}
    distinct, inverse = np.unique(personas, return_inverse=True)
    unknown = sorted(set(distinct) - set(lookup))
    if unknown:
        raise ConfigError(f"households of unknown personas {', '.join(unknown)}", hint="rebuild the twin")
    x, y = transform_points(
        t["lon"].to_numpy(zero_copy_only=False), t["lat"].to_numpy(zero_copy_only=False), WGS84, CRS(row[0])
    )
    household_of = np.searchsorted(np.asarray(ids), persons["household_id"].to_numpy(zero_copy_only=False))
    return Microdata(
        h3_10=t["h3_10"].to_numpy(zero_copy_only=False).astype(np.uint64),
        persona=np.array([lookup[p] for p in distinct], np.int64)[inverse.reshape(-1)],
        size=t["size"].to_numpy(zero_copy_only=False).astype(np.int64),
        x=np.asarray(x),
        y=np.asarray(y),
        building=t["building"].to_numpy(zero_copy_only=False).astype(object),
        weight=t["weight"].to_numpy(zero_copy_only=False).astype(np.float64),
        person_household=household_of.astype(np.int64),
        person_age=persons["age"].to_numpy(zero_copy_only=False).astype(np.int64),
        person_male=persons["male"].to_numpy(zero_copy_only=False).astype(bool),
    )


def published_units(
    con: duckdb.DuckDBPyConnection,
    group_names: Sequence[str],
    *,
    key: bytes,
    rules: PrivacyRules = DEFAULT_RULES,
) -> PublishedUnits:
    """The published units of a built twin (replicate 0): what the simulation may see of its population.

    Raises:
        ConfigError: as :func:`read_microdata`, or an empty key.
    """
    return publish_units(read_microdata(con, group_names), group_names, key=key, rules=rules)
