"""The CityGML reader's fast path and whole-file parse give what the general reader gives, result or error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS

from twin3d.errors import Twin3dError
from twin3d.io import citygml
from twin3d.io.citygml import read_citygml_buildings
from twin3d.io.surfaces import Buildings3D, SkipLog

DATA = Path(__file__).resolve().parent.parent / "data" / "citygml"
NRW1 = DATA / "nrw_lod2_3_buildings_citygml1.gml"
UTM32 = CRS.from_epsg(25832)
ARRAYS = ("vertices", "ring_offsets", "polygon_rings", "polygon_kind", "building_polygons")
FIRST_POSLIST = '<gml:posList srsDimension="3">'


def in_polygon(old: str, new: str, nth: int = 0) -> Callable[[str], str]:
    """Replace the first ``old`` after the ``nth`` gml:Polygon start tag (polygons, not terrain intersection lines)."""

    def replace(text: str) -> str:
        at = -1
        for _ in range(nth + 1):
            at = text.index("<gml:Polygon", at + 1)
        at = text.index(old, at)
        return text[:at] + new + text[at + len(old) :]

    return replace


def _first_ring(text: str) -> tuple[int, int]:
    start = text.index(FIRST_POSLIST, text.index("<gml:Polygon")) + len(FIRST_POSLIST)
    return start, text.index("</gml:posList>", start)


def _interior(text: str) -> str:
    """A hole in the first polygon: a small triangle, after its exterior."""
    start, _ = _first_ring(text)
    x, y, z = (float(v) for v in text[start:].split()[:3])
    ring = f"{x} {y} {z + 0.1} {x} {y} {z + 0.3} {x} {y + 0.01} {z + 0.2} {x} {y} {z + 0.1}"
    end = text.index("</gml:exterior>", start) + len("</gml:exterior>")
    hole = f"<gml:interior><gml:LinearRing>{FIRST_POSLIST}{ring}</gml:posList></gml:LinearRing></gml:interior>"
    return text[:end] + hole + text[end:]


def _closing_in_other_digits(text: str) -> str:
    start, end = _first_ring(text)
    tokens = text[start:end].split()
    tokens[-3:] = [f"{float(t):.6f}" for t in tokens[-3:]]
    return text[:start] + " ".join(tokens) + text[end:]


def _lod1_solid(text: str) -> str:
    """An LoD1 solid beside the LoD2 surfaces: LoD2 is read, the solid left out (by the general reader)."""
    start, end = _first_ring(text)
    solid = (
        "<bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface><gml:surfaceMember><gml:Polygon>"
        f"<gml:exterior><gml:LinearRing>{FIRST_POSLIST}{text[start:end]}</gml:posList></gml:LinearRing>"
        "</gml:exterior></gml:Polygon></gml:surfaceMember></gml:CompositeSurface></gml:exterior></gml:Solid>"
        "</bldg:lod1Solid>"
    )
    at = text.index("<bldg:lod2Solid>")
    return text[:at] + solid + text[at:]


# Each variant of the real NRW extract takes the fast path, or leaves it for the general reader at some building.
VARIANTS: dict[str, Callable[[str], str]] = {
    "as published": lambda t: t,
    "srsName on a multi-surface": lambda t: t.replace("<gml:MultiSurface", '<gml:MultiSurface srsName="EPSG:25832"', 3),
    "unknown srsName on a polygon": in_polygon("<gml:Polygon", '<gml:Polygon srsName="EPSG:99999"', 4),
    "empty srsName on a polygon": in_polygon("<gml:Polygon", '<gml:Polygon srsName=""'),
    "posList without srsDimension": in_polygon(FIRST_POSLIST, "<gml:posList>", 2),
    "srsDimension 2 inherited": lambda t: in_polygon(FIRST_POSLIST, "<gml:posList>")(
        in_polygon("<gml:Polygon", '<gml:Polygon srsDimension="2"')(t)
    ),
    "comment in a posList": in_polygon(FIRST_POSLIST, FIRST_POSLIST + "<!-- note -->"),
    "comment before a ring": in_polygon("<gml:exterior>", "<gml:exterior><!-- note -->"),
    "closing corner in other digits": _closing_in_other_digits,
    "a hole": _interior,
    "two exteriors": in_polygon("</gml:exterior>", "</gml:exterior><gml:exterior/>"),
    "a number that is not one": in_polygon(FIRST_POSLIST, FIRST_POSLIST + "x ", 3),
    "infinity": in_polygon(FIRST_POSLIST, FIRST_POSLIST + "inf 0 0 ", 1),
    "a measured height that is not one": lambda t: t.replace(">6.605<", ">six<", 1),
    "a ring of two corners": in_polygon(FIRST_POSLIST, FIRST_POSLIST + "1 2 3 4 5 6 1 2 3</gml:posList><gml:posList>"),
    "an LoD1 solid too": _lod1_solid,
}


def read(path: Path, *, fast: bool, whole: bool, chunk_size: int, skip: bool) -> tuple[list[Buildings3D], SkipLog]:
    skipped = SkipLog()
    with pytest.MonkeyPatch.context() as patch:
        if not fast:
            patch.setattr(citygml, "walk", lambda building, plan: None)
        if not whole:
            patch.setattr(citygml, "_WHOLE_FILE_BYTES", 0)
        chunks = list(
            citygml.iter_citygml_buildings(path, UTM32, chunk_size=chunk_size, skip_invalid=skip, skipped=skipped)
        )
    return chunks, skipped


def outcome(path: Path, **how: bool | int) -> object:
    """What reading gives: every chunk's arrays and rows, the skip log; or the error's type and message."""
    try:
        chunks, skipped = read(path, **how)  # type: ignore[arg-type]
    except Twin3dError as exc:
        return (type(exc).__name__, str(exc))
    return (
        [[getattr(c, name).tobytes() for name in ARRAYS] + [c.attributes.to_pylist(), c.source_crs] for c in chunks],
        skipped.entries,
        skipped.textured,
    )


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("skip", [False, True], ids=["raise", "skip"])
def test_fast_path_and_whole_file_read_what_the_general_reader_reads(
    tmp_path: Path, variant: Callable[[str], str], skip: bool
) -> None:
    path = tmp_path / "tile.gml"
    path.write_text(variant(NRW1.read_text(encoding="utf-8")), encoding="utf-8")
    general = outcome(path, fast=False, whole=False, chunk_size=2, skip=skip)
    for whole in (True, False):
        for chunk_size in (1, 2, 5000):
            fast = outcome(path, fast=True, whole=whole, chunk_size=chunk_size, skip=skip)
            if chunk_size == 2:
                assert fast == general, (whole, chunk_size)
            elif isinstance(general, tuple) and isinstance(general[0], list):  # read: the same buildings in any chunks
                assert isinstance(fast, tuple)
                assert fast[1:] == general[1:]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.gml")))
def test_fixtures_read_alike_on_every_path(name: str) -> None:
    path = DATA / name
    general = outcome(path, fast=False, whole=False, chunk_size=3, skip=False)
    assert outcome(path, fast=True, whole=True, chunk_size=3, skip=False) == general
    assert outcome(path, fast=True, whole=False, chunk_size=3, skip=False) == general


def test_the_fast_path_reads_the_nrw_tiles_without_the_general_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """The published NRW encoding is the common one: no building falls back (else the speed-up is lost)."""
    calls: list[str] = []
    read_building = citygml.read_building

    def counted(element: object, building_id: str, *args: object) -> object:
        calls.append(building_id)
        return read_building(element, building_id, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(citygml, "read_building", counted)
    buildings = read_citygml_buildings(NRW1, UTM32)
    assert len(buildings) == 3
    assert calls == []
    assert np.isfinite(buildings.vertices).all()
