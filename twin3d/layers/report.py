"""What loading one layer did, for the CLI's one-line summary and the catalogue entry's ``stats``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from twin3d.layers.model import LoadStats


@dataclass
class LoadReport:
    """Counts of one load: records in and out, geometries repaired, records dropped per reason.

    Attributes:
        twin: the twin.
        layer_id: the layer's id.
        kind: vector, raster, terrain, tiles3d or pointcloud.
        source: the file name loaded.
        notes: things worth knowing that are not errors (assumed CRS, renamed fields).
    """

    twin: str
    layer_id: str
    kind: str = ""
    source: str = ""
    records_in: int = 0
    records_out: int = 0
    repaired: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def drop(self, reason: str, count: int) -> None:
        """Count ``count`` records left out for ``reason`` (nothing happens for 0)."""
        if count:
            self.dropped[reason] += int(count)

    @property
    def dropped_total(self) -> int:
        """All records left out."""
        return sum(self.dropped.values())

    def stats(self) -> LoadStats:
        """The counts as stored in the catalogue entry."""
        return LoadStats(
            records_in=self.records_in,
            records_out=self.records_out,
            repaired=self.repaired,
            dropped=dict(self.dropped),
            seconds=round(self.seconds, 3),
        )

    def one_line(self) -> str:
        """``twin/layer (kind, source): N in -> M out; repaired R; dropped D (reason n, ...); S s``."""
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in self.dropped.most_common())
        dropped = f"dropped {self.dropped_total:,}" + (f" ({reasons})" if reasons else "")
        return (
            f"{self.twin}/{self.layer_id} ({self.kind}, {self.source}): {self.records_in:,} in -> "
            f"{self.records_out:,} out; repaired {self.repaired:,}; {dropped}; {self.seconds:.1f} s"
        )
