"""The build report: what each source gave, what was repaired, and every record left out with its reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Drop:
    """One record a build left out."""

    source: str
    file: str
    record: str
    reason: str


@dataclass
class SourceSummary:
    """Counts for one source: records in, out, repaired and dropped, and surfaces whose appearance was dropped."""

    name: str
    kind: str
    files: list[Path]
    records_in: int = 0
    records_out: int = 0
    repaired: int = 0
    dropped: int = 0
    textured_surfaces: int = 0  # surfaces that had a texture or material (CityGML/CityJSON); drawn untextured


@dataclass
class BuildReport:
    """Everything a build did, for the CLI summary and the store's ``sources``/``dropped_records`` tables."""

    twin: str
    sources: list[SourceSummary] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    height_sources: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    tiles: int = 0
    tile_bytes: int = 0
    seconds: float = 0.0

    def drop_many(self, source: SourceSummary, file: Path, records: np.ndarray, reason: str) -> None:
        """Record that ``records`` (ids or row numbers) of ``file`` were left out for ``reason``."""
        self.drops.extend(Drop(source.name, str(file), str(r), reason) for r in records)
        source.dropped += len(records)

    def textures_dropped(self, source: SourceSummary, textured: dict[str, int]) -> None:
        """Count, per file, the surfaces whose texture or material was left out, with a note naming the file.

        Args:
            source: the source the files belong to.
            textured: surfaces with a texture or material per file, as the 3D readers report them.
        """
        for file, surfaces in textured.items():
            source.textured_surfaces += surfaces
            self.notes.append(
                f"textures: {surfaces:,} surfaces of {Path(file).name} had textures or materials; "
                "twin3d draws untextured LoD2 (dropped)"
            )

    def drop_reasons(self) -> Counter[str]:
        """How many records were dropped for each reason."""
        return Counter(d.reason for d in self.drops)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (stored in the twin's metadata)."""
        return {
            "twin": self.twin,
            "sources": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "files": [str(f) for f in s.files],
                    "records_in": s.records_in,
                    "records_out": s.records_out,
                    "repaired": s.repaired,
                    "dropped": s.dropped,
                    "textured_surfaces": s.textured_surfaces,
                }
                for s in self.sources
            ],
            "dropped_by_reason": dict(self.drop_reasons()),
            "height_sources": self.height_sources,
            "counts": self.counts,
            "notes": self.notes,
            "warnings": self.warnings,
            "tiles": self.tiles,
            "tile_bytes": self.tile_bytes,
            "seconds": round(self.seconds, 3),
        }
