"""Partitions on disk: buildings bucketed by partition as they are read, tiled one partition at a time.

A Land does not fit in one process. Readers (one task per file or chunk of input) cut what they read into
partitions and write the pieces into one file per chunk, with an index of where each partition's piece lies; the
tiler then loads one partition per task, in the worker that tiles it. The driver passes only partition names and
where their pieces are, so neither it nor any worker holds more than a few partitions' buildings, and with shared
storage the workers may run on other machines.

One file per chunk, not per piece: creating files is what costs on a shared or busy file system (on this
project's ext4 a 1 M-building build spent more CPU allocating inodes for its 6,000 spill files and folders than
on writing them), and a Land has tens of thousands of partitions.

Spill files are written and read by the same build (pickle, never user input) and removed with its staging
folder. A partition's pieces are joined in the order of their chunk names, so the result does not depend on which
worker wrote which piece first.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twin3d.io.surfaces import concat
from twin3d.tiling.geometry import BuildingGeometry, ExtrudedBuildings, SurfaceBuildings
from twin3d.tiling.tileset import BuildingProperties, Partition, partition_groups

SUFFIX = ".part"
INDEX_SUFFIX = ".index"


@dataclass(frozen=True)
class Piece:
    """Where one chunk's piece of a partition lies: the chunk's file, the byte offset and length in it."""

    chunk: str
    offset: int
    length: int


def write_pieces(folder: Path, chunk: str, pieces: Mapping[str, object]) -> None:
    """Write one chunk's piece of each partition (``{partition id: piece}``) and their index.

    Args:
        folder: the spill folder (``<chunk>.part`` and ``<chunk>.index`` in it).
        chunk: the chunk's name, unique in the build and sortable (``000042``): the order pieces are joined in.
    """
    folder.mkdir(parents=True, exist_ok=True)
    index: dict[str, tuple[int, int]] = {}
    tmp = folder / f".{chunk}{SUFFIX}.tmp"
    with tmp.open("wb") as fh:
        for pid, piece in pieces.items():
            start = fh.tell()
            pickle.dump(piece, fh, protocol=pickle.HIGHEST_PROTOCOL)
            index[pid] = (start, fh.tell() - start)
    tmp.rename(folder / f"{chunk}{SUFFIX}")
    # The index last: a chunk is in the spill only once its pieces are all on disk.
    tmp = folder / f".{chunk}{INDEX_SUFFIX}.tmp"
    tmp.write_bytes(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.rename(folder / f"{chunk}{INDEX_SUFFIX}")


def spilled_pieces(folder: Path) -> dict[str, tuple[Piece, ...]]:
    """Every partition in a spill folder (sorted) with its pieces in chunk order."""
    found: dict[str, list[Piece]] = {}
    for path in sorted(folder.glob(f"*{INDEX_SUFFIX}")):
        chunk = path.name.removesuffix(INDEX_SUFFIX)
        index = pickle.loads(path.read_bytes())  # written by this build, never user input (module docstring)
        for pid, (offset, length) in index.items():
            found.setdefault(pid, []).append(Piece(chunk, offset, length))
    return {pid: tuple(found[pid]) for pid in sorted(found)}


def read_pieces(folder: Path, pieces: Sequence[Piece]) -> list[Any]:
    """A partition's pieces, in the order given."""
    out = []
    for piece in pieces:
        with (folder / f"{piece.chunk}{SUFFIX}").open("rb") as fh:
            fh.seek(piece.offset)
            out.append(pickle.loads(fh.read(piece.length)))  # written by this build (module docstring)
    return out


def spill(
    folder: Path, chunk: str, geometry: BuildingGeometry, properties: BuildingProperties, partition_of: np.ndarray
) -> dict[str, int]:
    """Write the buildings of one chunk of input, cut into partitions, to the spill; returns buildings per partition."""
    pids, groups = partition_groups(partition_of)
    write_pieces(
        folder,
        chunk,
        {pid: Partition(pid, geometry.take(m), properties.take(m)) for pid, m in zip(pids, groups, strict=True)},
    )
    return {pid: len(m) for pid, m in zip(pids, groups, strict=True)}


def spilled_partitions(folder: Path) -> list[SpilledPartition]:
    """The partitions in a spill folder, sorted, each with where its pieces lie."""
    return [SpilledPartition(pid, folder, pieces) for pid, pieces in spilled_pieces(folder).items()]


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
    """A partition's name and where its pieces lie: what a tiling task is sent; the worker loads the buildings."""

    pid: str
    folder: Path
    pieces: tuple[Piece, ...]

    def load(self) -> Partition:
        return _joined(read_pieces(self.folder, self.pieces))
