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
    """Counts for one source: records in, out, repaired and dropped."""

    name: str
    kind: str
    files: list[Path]
    records_in: int = 0
    records_out: int = 0
    repaired: int = 0
    dropped: int = 0


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
