"""Building heights from attributes: a height tag, else storeys x storey height, else a default per type.

All rules work on whole Arrow columns; tags such as ``"12"``, ``"12.5 m"`` or ``"12,5"`` are read, anything
else falls through to the next rule (and is counted, so the build report can say how many tags were unusable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from twin3d.pipeline.config import HeightRules

HEIGHT_SOURCES = ("measured", "tag", "levels", "default")
_NUMBER_WITH_UNIT = r"^\s*(?P<num>\d+(?:[.,]\d+)?)\s*(?:m|meter|metres|meters)?\s*$"


@dataclass(frozen=True)
class Heights:
    """Inferred heights.

    Attributes:
        height: metres above ground, per building.
        source: one of :data:`HEIGHT_SOURCES` per building.
        levels: storeys where known (NaN otherwise).
        unusable_tags: height tags present but unreadable or implausible.
        unusable_levels: storey tags present but unreadable or implausible.
    """

    height: np.ndarray
    source: np.ndarray
    levels: np.ndarray
    unusable_tags: int
    unusable_levels: int


def parse_metres(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Numbers with an optional metre unit and a decimal point or comma; NaN where unreadable or empty."""
    text = pc.cast(values, pa.string())
    parts = pc.extract_regex(pc.utf8_lower(text), _NUMBER_WITH_UNIT)
    number = pc.struct_field(parts, "num")
    number = pc.replace_substring(number, ",", ".")
    return np.asarray(pc.cast(number, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _present(values: pa.Array | pa.ChunkedArray | None, n: int) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=bool)
    text = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    return np.asarray(pc.fill_null(pc.not_equal(text, ""), False).to_numpy(zero_copy_only=False), dtype=bool)


def infer_heights(
    n: int,
    rules: HeightRules,
    *,
    height_tag: pa.Array | pa.ChunkedArray | None = None,
    levels_tag: pa.Array | pa.ChunkedArray | None = None,
    building_type: pa.Array | pa.ChunkedArray | None = None,
) -> Heights:
    """Apply the height rules to ``n`` buildings.

    Args:
        n: number of buildings.
        rules: storey height, defaults per type, plausible range.
        height_tag: the height column (e.g. OSM ``height``), if the source has one.
        levels_tag: the storeys column (e.g. OSM ``building:levels``), if the source has one.
        building_type: the type column (e.g. OSM ``building``) that selects the default.
    """
    height = np.full(n, np.nan)
    source = np.full(n, "default", dtype=object)
    levels = np.full(n, np.nan)
    unusable_tags = unusable_levels = 0

    if height_tag is not None:
        tag = parse_metres(height_tag)
        ok = (tag >= rules.min_height) & (tag <= rules.max_height)
        unusable_tags = int((_present(height_tag, n) & ~ok).sum())
        height[ok] = tag[ok]
        source[ok] = "tag"
    if levels_tag is not None:
        lv = parse_metres(levels_tag)
        ok_lv = (lv >= 1) & (lv <= 150)
        unusable_levels = int((_present(levels_tag, n) & ~ok_lv).sum())
        levels[ok_lv] = lv[ok_lv]
        use = ok_lv & np.isnan(height)
        height[use] = lv[use] * rules.storey_height
        source[use] = "levels"

    rest = np.isnan(height)
    if rest.any():
        default = np.full(n, rules.default)
        if building_type is not None and rules.by_type:
            keys = pa.array(list(rules.by_type.keys()), pa.string())
            vals = np.array(list(rules.by_type.values()), dtype=np.float64)
            pos = pc.index_in(pc.cast(building_type, pa.string()), value_set=keys)
            pos_np = np.asarray(pc.fill_null(pos, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
            known = pos_np >= 0
            default[known] = vals[pos_np[known]]
        height[rest] = default[rest]
    return Heights(height, source, levels, unusable_tags, unusable_levels)
