"""Which format a file is in (suffix, checked against its first bytes), and safe unpacking of zip archives.

Zip rules: no entry may have an absolute path, a drive letter or a ``..`` component, be a symbolic link or be
encrypted; the archive may hold at most ``max_zip_entries`` entries and unpack to at most ``max_unzipped_mb``;
an entry larger than 1 MiB may not be compressed more than ``max_zip_ratio`` : 1 (a zip bomb). Sizes are counted
while unpacking too, since the sizes in the directory can lie.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from twin3d.errors import InputError
from twin3d.layers.model import SourceFormat
from twin3d.settings import LayerSettings

MIB = 1 << 20
SUPPORTED = "GeoJSON, GeoPackage, zipped Shapefile, FlatGeobuf, CSV, GeoTIFF, CityJSON, CityGML, XPlanGML, LAS/LAZ"
# A Bebauungsplan in XPlanGML (4.x, 5.x, 6.x) is a .gml/.xml told from CityGML by its namespace on the root element.
_XPLAN_NAMESPACE = re.compile(rb"http://www\.xplanung\.de/xplangml/\d+/\d+")

_SUFFIXES: dict[str, SourceFormat] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shapefile",
    ".fgb": "fgb",
    ".csv": "csv",
    ".tsv": "csv",
    ".tif": "geotiff",
    ".tiff": "geotiff",
    ".gml": "citygml",
    ".xml": "citygml",
    ".jsonl": "cityjson",
    ".las": "las",
    ".laz": "laz",
}
_MAGIC: dict[SourceFormat, tuple[bytes, ...]] = {
    "gpkg": (b"SQLite format 3\x00",),
    "shapefile": (b"\x00\x00\x27\x0a",),
    "fgb": (b"fgb\x03",),
    "geotiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    "las": (b"LASF",),
    "laz": (b"LASF",),
}
_NAMES: dict[str, str] = {
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "shapefile": "Shapefile",
    "fgb": "FlatGeobuf",
    "csv": "CSV",
    "geotiff": "GeoTIFF",
    "cityjson": "CityJSON",
    "citygml": "CityGML",
    "las": "LAS",
    "laz": "LAZ",
    "xplangml": "XPlanGML",
}


def human_size(n: float) -> str:
    """Bytes as MiB, or KiB below a tenth of a MiB."""
    return f"{n / MIB:,.1f} MiB" if n >= MIB / 10 else f"{n / 1024:,.1f} KiB"


def _head(path: Path, size: int = 1 << 16) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def _text_start(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


def is_zip(path: Path) -> bool:
    """A zip archive by suffix or by its first bytes."""
    return path.suffix.lower() == ".zip" or _head(path, 4) in (b"PK\x03\x04", b"PK\x05\x06")


def detect_format(path: Path) -> SourceFormat:
    """The format of ``path``: from its suffix, confirmed by its first bytes.

    Raises:
        InputError: the suffix is unknown, or the content is not what the suffix says (e.g. a renamed file).
    """
    name = path.name.lower()
    head = _head(path)
    start = _text_start(head)
    fmt: SourceFormat | None = _SUFFIXES.get(path.suffix.lower())
    if name.endswith((".city.json", ".cityjson")) or (fmt == "geojson" and b'"CityJSON"' in head):
        fmt = "cityjson"
    if fmt is None:
        raise InputError(
            f"unknown file type {path.suffix or '(no suffix)'!r}",
            file=path,
            hint=f"supported: {SUPPORTED}; a Shapefile is loaded as a .zip with its .shp, .shx, .dbf and .prj",
        )
    magic = _MAGIC.get(fmt)
    looks_right = (
        head.startswith(magic)
        if magic
        else start.startswith((b"{", b"["))
        if fmt in ("geojson", "cityjson")
        else start.startswith(b"<")
        if fmt == "citygml"
        else b"\x00" not in head[:4096]
    )
    if not looks_right:
        raise InputError(
            f"the file is not {_NAMES[fmt]}: it starts with {head[:16]!r}",
            file=path,
            hint="the file may be damaged or renamed; export it again in the format its name says",
        )
    if fmt == "citygml" and b"CityModel" not in head and _XPLAN_NAMESPACE.search(head):
        return "xplangml"
    if fmt == "citygml" and b"CityModel" not in head:
        raise InputError(
            "the XML file is neither CityGML (no CityModel element) nor XPlanGML (no xplangml namespace)",
            file=path,
            hint=f"supported: {SUPPORTED}",
        )
    return fmt


def _unsafe(name: str) -> str | None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in parts:
        return "a '..' component that points outside the archive"
    return None


def _check_entries(path: Path, infos: list[zipfile.ZipInfo], limits: LayerSettings) -> None:
    if len(infos) > limits.max_zip_entries:
        raise InputError(
            f"the zip has {len(infos):,} entries, more than the limit of {limits.max_zip_entries:,}",
            file=path,
            hint="zip only the files of one dataset (or raise TWIN3D_LAYER_MAX_ZIP_ENTRIES)",
        )
    total = 0
    for info in infos:
        why = _unsafe(info.filename)
        if why is None and stat.S_ISLNK(info.external_attr >> 16):
            why = "a symbolic link"
        if why is None and info.flag_bits & 0x1:
            why = "encryption"
        if why is not None:
            raise InputError(
                f"unsafe zip entry {info.filename!r}: it has {why}",
                file=path,
                record=info.filename,
                hint="zip the dataset's files themselves, without links, passwords or folders above them",
            )
        if info.file_size > MIB and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
            raise InputError(
                f"zip entry {info.filename!r} unpacks to {human_size(info.file_size)} from "
                f"{human_size(info.compress_size)} (more than {limits.max_zip_ratio:g}:1): refused as a zip bomb",
                file=path,
                record=info.filename,
                hint="load the unpacked file instead, if it is real data",
            )
        total += info.file_size
    if total > limits.max_unzipped_mb * MIB:
        raise InputError(
            f"the zip unpacks to {human_size(total)}, more than the limit of "
            f"{human_size(limits.max_unzipped_mb * MIB)}",
            file=path,
            hint="split the data, or raise TWIN3D_LAYER_MAX_UNZIPPED_MB",
        )


def _copy_capped(source: IO[bytes], target: Path, cap: int, path: Path, name: str) -> int:
    written = 0
    with target.open("wb") as out:
        for block in iter(lambda: source.read(MIB), b""):
            written += len(block)
            if written > cap:
                raise InputError(
                    f"zip entry {name!r} unpacks to more bytes than its directory says",
                    file=path,
                    record=name,
                    hint="the archive is damaged or crafted; zip the files again",
                )
            out.write(block)
    return written


def extract_zip(path: Path, dest: Path, limits: LayerSettings) -> list[Path]:
    """Check every entry of a zip and unpack the archive into ``dest`` (an empty staging folder).

    Returns:
        The unpacked files.

    Raises:
        InputError: the archive is damaged or truncated, or breaks one of the rules in the module docstring.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_entries(path, infos, limits)
            files: list[Path] = []
            budget = int(limits.max_unzipped_mb * MIB)
            root = dest.resolve()
            for info in infos:
                target = (dest / info.filename.replace("\\", "/")).resolve()
                if not target.is_relative_to(root):
                    raise InputError(f"unsafe zip entry {info.filename!r}", file=path, record=info.filename)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as source:
                    budget -= _copy_capped(source, target, min(info.file_size, budget), path, info.filename)
                files.append(target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise InputError(
            f"not a readable zip archive: {exc}",
            file=path,
            hint="the archive may be truncated or damaged; zip the files again",
        ) from exc
    return files


_DATA_SUFFIXES = {s for s in _SUFFIXES if s not in (".xml",)} | {".cityjson"}


def pick_member(path: Path, files: list[Path], wanted: str | None) -> Path:
    """The one data file in an unpacked zip (``wanted`` chooses among several, by file name or stem).

    Raises:
        InputError: no data file, or several and none chosen.
    """
    data = [
        f
        for f in files
        if f.suffix.lower() in _DATA_SUFFIXES and "__MACOSX" not in f.parts and not f.name.startswith(".")
    ]
    if wanted is not None:
        data = [f for f in data if wanted in (f.name, f.stem)]
    if len(data) == 1:
        return data[0]
    names = ", ".join(sorted(f.name for f in data)) or "none"
    raise InputError(
        f"the zip holds {len(data)} data file(s)" + (f" named {wanted!r}" if wanted else "") + f": {names}",
        file=path,
        hint="choose one with --source-layer NAME" if data else f"zip one dataset ({SUPPORTED})",
    )
