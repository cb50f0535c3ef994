"""Partitions on disk: buildings bucketed by partition as they are read, tiled one partition at a time.

A Land does not fit in one process. Readers (one task per file or chunk of input) cut what they read into
partitions and write each piece into the partition's folder; the tiler then loads one partition per task, in the
worker that tiles it. The driver passes only partition names, so neither it nor any worker holds more than a few
partitions' buildings, and with shared storage the workers may run on other machines.

Spill files are written and read by the same build (pickle, never user input) and removed with its staging
folder. A partition's pieces are joined in the order of their chunk names, so the result does not depend on which
worker wrote which piece first.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twin3d.io.surfaces import concat
from twin3d.tiling.geometry import BuildingGeometry, ExtrudedBuildings, SurfaceBuildings
from twin3d.tiling.tileset import BuildingProperties, Partition, partition_groups

SUFFIX = ".part"


def write_pieces(folder: Path, chunk: str, pieces: Mapping[str, object]) -> None:
    """Write one chunk's piece of each partition (``{partition id: piece}``) into the partitions' folders.

    Args:
        folder: the spill folder (one sub-folder per partition).
        chunk: the chunk's name, unique in the build and sortable (``000042``): the order pieces are joined in.
    """
    for pid, piece in pieces.items():
        target = folder / pid
        target.mkdir(parents=True, exist_ok=True)
        tmp = target / f".{chunk}{SUFFIX}.tmp"
        with tmp.open("wb") as fh:
            pickle.dump(piece, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.rename(target / f"{chunk}{SUFFIX}")  # a reader never sees half a piece


def read_pieces(folder: Path, pid: str) -> list[Any]:
    """A partition's pieces in chunk order."""
    pieces = []
    for path in sorted((folder / pid).glob(f"*{SUFFIX}")):
        with path.open("rb") as fh:
            pieces.append(pickle.load(fh))  # written by this build, never user input (module docstring)
    return pieces


def spill(
    folder: Path, chunk: str, geometry: BuildingGeometry, properties: BuildingProperties, partition_of: np.ndarray
) -> dict[str, int]:
    """Write the buildings of one chunk of input into their partitions' folders; returns buildings per partition."""
    pids, groups = partition_groups(partition_of)
    write_pieces(
        folder,
        chunk,
        {pid: Partition(pid, geometry.take(m), properties.take(m)) for pid, m in zip(pids, groups, strict=True)},
    )
    return {pid: len(m) for pid, m in zip(pids, groups, strict=True)}


def spilled_partitions(folder: Path) -> list[str]:
    """The partitions in a spill folder, sorted."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def _joined(pieces: list[Partition]) -> Partition:
    if len(pieces) == 1:
        return pieces[0]
    pid = pieces[0].pid
    geometries = [p.geometry for p in pieces]
    geometry: BuildingGeometry
    if all(isinstance(g, ExtrudedBuildings) for g in geometries):
        extruded = [g for g in geometries if isinstance(g, ExtrudedBuildings)]
        geometry = ExtrudedBuildings(
            np.concatenate([g.footprint for g in extruded]),
            np.concatenate([g.base for g in extruded]),
            np.concatenate([g.top for g in extruded]),
            extruded[0].crs,
        )
    elif all(isinstance(g, SurfaceBuildings) for g in geometries):
        surfaces = [g for g in geometries if isinstance(g, SurfaceBuildings)]
        geometry = SurfaceBuildings(
            concat([g.buildings for g in surfaces]),
            surfaces[0].z_offset,
            surfaces[0].crs,
            np.concatenate([g.footprints() for g in surfaces]),
        )
    else:
        raise ValueError(f"partition {pid}: pieces of different building kinds cannot be joined")
    first = pieces[0].properties
    properties = BuildingProperties(
        np.concatenate([p.properties.ids for p in pieces]),
        {
            name: (kind, np.concatenate([p.properties.columns[name][1] for p in pieces]))
            for name, (kind, _) in first.columns.items()
        },
    )
    return Partition(pid, geometry, properties)


@dataclass(frozen=True)
class SpilledPartition:
    """A partition's name and spill folder: what a tiling task is sent; the worker loads the buildings."""

    pid: str
    folder: Path

    def load(self) -> Partition:
        return _joined(read_pieces(self.folder, self.pid))
