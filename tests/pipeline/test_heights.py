from __future__ import annotations

import numpy as np
import pyarrow as pa

from twin3d.pipeline.config import HeightRules
from twin3d.pipeline.heights import infer_heights, parse_metres

RULES = HeightRules(storey_height=3.0, default=7.5, by_type={"garage": 3.0, "apartments": 12.0})


def test_height_tags_with_units_and_decimal_commas_are_read() -> None:
    parsed = parse_metres(pa.array(["12", "12.5 m", "12,5", " 9m ", "abc", None, "", "40'"]))
    assert parsed[:4].tolist() == [12.0, 12.5, 12.5, 9.0]
    assert np.isnan(parsed[4:]).all()


def test_tag_then_levels_then_type_default_then_global_default() -> None:
    heights = infer_heights(
        5,
        RULES,
        height_tag=pa.array(["15", None, "unknown", None, "1000"]),
        levels_tag=pa.array(["2", "4", None, None, None]),
        building_type=pa.array(["yes", "yes", "garage", "church", "apartments"]),
    )
    assert heights.height.tolist() == [15.0, 12.0, 3.0, 7.5, 12.0]
    assert heights.source.tolist() == ["tag", "levels", "default", "default", "default"]
    assert heights.levels[1] == 4.0
    # "unknown" and the implausible 1000 m fall through to the next rule and are counted.
    assert heights.unusable_tags == 2


def test_implausible_storeys_are_counted_and_skipped() -> None:
    heights = infer_heights(2, RULES, levels_tag=pa.array(["0", "2;3"]), building_type=pa.array(["yes", "yes"]))
    assert heights.source.tolist() == ["default", "default"]
    assert heights.unusable_levels == 2
