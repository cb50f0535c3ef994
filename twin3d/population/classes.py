"""The vocabulary of the synthetic population: age classes, household types and member kinds.

Its own module because the priors (what the statistics say of each class) and the prototypes (the households built
of the classes) both need it, and neither may import the other.
"""

from __future__ import annotations

# Age classes (inclusive years). Finer than any statistic so that every published band is a union of classes:
# 15-17 and 18-24 split minors from adults, 25-29 marks "singles under 30", 80-99 "very old".
AGE_CLASSES: tuple[tuple[int, int], ...] = (
    (0, 2),
    (3, 5),
    (6, 14),
    (15, 17),
    (18, 24),
    (25, 29),
    (30, 34),
    (35, 44),
    (45, 54),
    (55, 64),
    (65, 74),
    (75, 79),
    (80, 99),
)
AGE_CLASS_NAMES = tuple(f"{lo}-{hi}" for lo, hi in AGE_CLASSES)
CHILD_CLASSES = (0, 1, 2, 3)
ADULT_CLASSES = tuple(range(4, len(AGE_CLASSES)))
HOUSEHOLD_TYPES = ("single", "couple", "couple_children", "single_parent", "shared")
MALE, FEMALE, CHILD = 0, 1, 2
