"""Box-shaped buildings on flat ground 300 m above sea level: the small scenes of the sun and viewshed tests."""

from __future__ import annotations

import numpy as np
import shapely

from twin3d.simulation.surface import Obstacles
from twin3d.simulation.terrain import Terrain

GROUND = 300.0


def flat(size: float) -> Terrain:
    """Level terrain at :data:`GROUND` over a square of ``size`` metres."""
    return Terrain(np.full((3, 3), GROUND), (0.0, 0.0), (size, size), None, size, GROUND)


def prisms(boxes: list[tuple[float, float, float, float, float]]) -> Obstacles:
    """Obstacles from (x0, y0, x1, y1, height) on flat ground, named b0, b1, ..."""
    a = np.array(boxes, float)
    return Obstacles(
        np.array([f"b{i}" for i in range(len(a))], dtype=object),
        shapely.box(a[:, 0], a[:, 1], a[:, 2], a[:, 3]),
        np.full(len(a), GROUND),
        a[:, 4],
    )
