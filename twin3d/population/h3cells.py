"""H3 cell arithmetic on uint64 ids that numpy can vectorise: resolution and ancestors, from the bit layout."""

from __future__ import annotations

import numpy as np

RES_SHIFT = 52  # the 4-bit resolution field of an H3 index


def resolution_of(cells: np.ndarray) -> np.ndarray:
    """The resolution of each H3 cell id."""
    result: np.ndarray = ((cells >> np.uint64(RES_SHIFT)) & np.uint64(0xF)).astype(np.uint8)
    return result


def parent(cells: np.ndarray, resolution: int) -> np.ndarray:
    """Ancestors at ``resolution`` of cells at that resolution or finer (digits below it are all 7)."""
    unused_digits = np.uint64((1 << (3 * (15 - resolution))) - 1)
    res_field = np.uint64(0xF << RES_SHIFT)
    result: np.ndarray = (
        (np.asarray(cells, np.uint64) & ~res_field) | np.uint64(resolution << RES_SHIFT) | unused_digits
    )
    return result
