"""Make MapLibre's SDF glyph ranges (``{fontstack}/{start}-{end}.pbf``) from a TrueType font, so the basemap's labels
need no glyph server: the viewer serves them from ``vendor/fonts/``.

The output follows node-fontnik (what MapLibre's own glyph servers run): glyphs set at 24 px, a 3 px border, a signed
distance of 8 px spread over the byte with the outline at 191 (``255 - 0.25 * 256``), metrics in whole pixels and
``top`` counted from the ascender. Distances are exact: from every pixel centre to the nearest segment of the glyph's
outline (its curves flattened), inside or outside by the even-odd rule, computed in numpy for all pixels at once.

Reproduce the committed files (Debian's ``fonts-noto-core``; fontTools and numpy come with the project's venv)::

    apt-get install -y fonts-noto-core
    .venv/bin/python viewer/scripts/make_glyphs.py

The output is deterministic: the same font file gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

import numpy as np
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "vendor" / "fonts"
NOTO = Path("/usr/share/fonts/truetype/noto")
FONTS = {"Noto Sans Regular": NOTO / "NotoSans-Regular.ttf", "Noto Sans Bold": NOTO / "NotoSans-Bold.ttf"}
LICENCE = Path("/usr/share/doc/fonts-noto-core/copyright")
# German and English text: Basic Latin + Latin-1 (ä ö ü ß), Latin Extended-A (names from neighbouring countries),
# General Punctuation (dashes, German quotes, ellipsis, the euro sign). A character outside these ranges is left out
# of its label (MapLibre reports the missing range; the basemap's probe lists it).
RANGES = (0, 256, 8192)

SIZE = 24  # px: MapLibre scales glyphs from this size
BUFFER = 3  # px of distance field around each glyph
RADIUS = 8  # px of distance spread over the 8 bits
CUTOFF = 0.25  # share of the byte's range kept for the inside
CURVE_STEPS = 8  # segments per quadratic or cubic curve: under 0.05 px from the curve at 24 px


class _Flattener(BasePen):
    """Collects a glyph's contours as closed rings of points (font units), curves cut into straight segments."""

    def __init__(self, glyphset: object) -> None:
        super().__init__(glyphset)
        self.rings: list[list[tuple[float, float]]] = []

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.rings.append([pt])

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.rings[-1].append(pt)

    def _curveToOne(self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]) -> None:
        p0 = np.array(self._getCurrentPoint())
        t = np.linspace(0, 1, CURVE_STEPS + 1)[1:, None]
        a, b, c = np.array(p1), np.array(p2), np.array(p3)
        pts = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * a + 3 * (1 - t) * t**2 * b + t**3 * c
        self.rings[-1].extend(map(tuple, pts))

    def _qCurveToOne(self, p1: tuple[float, float], p2: tuple[float, float]) -> None:
        p0 = np.array(self._getCurrentPoint())
        t = np.linspace(0, 1, CURVE_STEPS + 1)[1:, None]
        pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * np.array(p1) + t**2 * np.array(p2)
        self.rings[-1].extend(map(tuple, pts))

    def _closePath(self) -> None:
        ring = self.rings[-1]
        if ring[0] != ring[-1]:
            ring.append(ring[0])

    _endPath = _closePath


def signed_distance(rings: list[np.ndarray], width: int, height: int) -> np.ndarray:
    """The glyph's distance field: (height, width) bytes, rows from the top, 191 on the outline, larger inside.

    Args:
        rings: closed rings in pixels, already shifted so the bitmap's lower left corner is (0, 0).
        width: bitmap width in pixels, border included.
        height: bitmap height in pixels, border included.
    """
    seg_a = np.concatenate([r[:-1] for r in rings])
    seg_b = np.concatenate([r[1:] for r in rings])
    ys, xs = np.mgrid[0:height, 0:width]
    px = xs.reshape(-1, 1) + 0.5
    py = ys.reshape(-1, 1) + 0.5
    ax, ay, bx, by = seg_a[:, 0], seg_a[:, 1], seg_b[:, 0], seg_b[:, 1]
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0, 1)
    t = np.where(length2 > 0, t, 0)
    dist = np.sqrt(((ax + t * dx - px) ** 2 + (ay + t * dy - py) ** 2).min(axis=1))
    # Even-odd rule: a ray to the right from the pixel centre crosses the outline an odd number of times inside.
    straddles = (ay > py) != (by > py)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_cross = (bx - ax) * (py - ay) / (by - ay) + ax
    inside = (straddles & (px < x_cross)).sum(axis=1) % 2 == 1
    d = np.where(inside, -dist, dist) * (256 / RADIUS) + CUTOFF * 256
    n = np.clip(np.trunc(d), 0, 255).astype(np.uint8)  # C's (int) truncation, as fontnik
    field = (255 - n).reshape(height, width)
    return field[::-1]  # font space counts y up, bitmaps count rows down


def render_glyph(font: TTFont, code: int) -> dict[str, int | bytes] | None:
    """One glyph's record (id, bitmap, width, height, left, top, advance), or None if the font lacks it."""
    name = font.getBestCmap().get(code)
    if name is None:
        return None
    scale = SIZE / font["head"].unitsPerEm
    glyphset = font.getGlyphSet()
    ascender = round(font["hhea"].ascent * scale)
    advance = int(glyphset[name].width * scale)  # whole pixels, truncated as FreeType's 26.6 / 64
    pen = _Flattener(glyphset)
    glyphset[name].draw(pen)
    rings = [np.asarray(r, dtype=np.float64) * scale for r in pen.rings if len(r) > 2]
    record: dict[str, int | bytes] = {"id": code, "width": 0, "height": 0, "left": 0, "top": -ascender}
    record["advance"] = advance
    if not rings:
        return record  # a space: advance only
    points = np.concatenate(rings)
    xmin, ymin = np.round(points.min(axis=0))
    xmax, ymax = np.round(points.max(axis=0))
    width, height = int(xmax - xmin), int(ymax - ymin)
    if width == 0 or height == 0:
        return record
    shifted = [r - [xmin - BUFFER, ymin - BUFFER] for r in rings]
    field = signed_distance(shifted, width + 2 * BUFFER, height + 2 * BUFFER)
    record.update(
        bitmap=field.tobytes(), width=width, height=height, left=int(xmin), top=int(ymax) - ascender, advance=advance
    )
    return record


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _uint(number: int, value: int) -> bytes:
    return _field(number, 0) + _varint(value)


def _sint(number: int, value: int) -> bytes:
    return _field(number, 0) + _varint((value << 1) ^ (value >> 31))  # zigzag, as protobuf's sint32


def _bytes(number: int, data: bytes) -> bytes:
    return _field(number, 2) + _varint(len(data)) + data


def encode_range(fontstack: str, start: int, glyphs: list[dict[str, int | bytes]]) -> bytes:
    """The ``glyphs`` protobuf message of one range: one fontstack with its name, range and glyphs."""
    body = _bytes(1, fontstack.encode()) + _bytes(2, f"{start}-{start + 255}".encode())
    for g in glyphs:
        msg = _uint(1, int(g["id"]))
        if isinstance(g.get("bitmap"), bytes):
            msg += _bytes(2, g["bitmap"])  # type: ignore[arg-type]
        msg += _uint(3, int(g["width"])) + _uint(4, int(g["height"]))
        msg += _sint(5, int(g["left"])) + _sint(6, int(g["top"])) + _uint(7, int(g["advance"]))
        body += _bytes(3, msg)
    return _bytes(1, body)


def licence_text(font: TTFont) -> str:
    """The font's copyright notice and the SIL Open Font License 1.1 as Debian ships it with the font."""
    text = LICENCE.read_text(encoding="utf-8")
    ofl = re.search(r"^License: OFL-1\.1\n((?: .*\n?)+)", text, flags=re.MULTILINE)
    if ofl is None:
        raise SystemExit(f"no OFL-1.1 text in {LICENCE}")
    body = "\n".join("" if line.strip() == "." else line[1:] for line in ofl.group(1).splitlines())
    return f"{font['name'].getDebugName(0)}\n\nSIL Open Font License, Version 1.1\n\n{body}\n"


README = """# Glyphs of the basemap's labels

SDF glyph ranges ({ranges}) in MapLibre's glyph format, made from Noto Sans (SIL Open Font License 1.1: OFL.txt in
each folder) by `viewer/scripts/{script}`, which also wrote this file:

    apt-get install -y fonts-noto-core
    .venv/bin/python viewer/scripts/{script}

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the fontstack folders (vendor/fonts)")
    args = parser.parse_args()
    lines = []
    for fontstack, path in FONTS.items():
        if not path.is_file():
            raise SystemExit(f"{path} is missing: apt-get install -y fonts-noto-core")
        font = TTFont(path)
        folder = args.out / fontstack
        folder.mkdir(parents=True, exist_ok=True)
        sizes = []
        for start in RANGES:
            glyphs = [g for code in range(start, start + 256) if (g := render_glyph(font, code)) is not None]
            data = encode_range(fontstack, start, glyphs)
            (folder / f"{start}-{start + 255}.pbf").write_bytes(data)
            sizes.append(len(data))
        (folder / "OFL.txt").write_text(licence_text(font), encoding="utf-8")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        version = font["name"].getDebugName(5).split(";")[0]
        lines.append(f"- `{fontstack}/`: {path.name} ({version}, sha256 {digest[:16]}...), {sum(sizes)} bytes")
        print(lines[-1])
    readme = README.format(script=Path(__file__).name, ranges=", ".join(f"{s}-{s + 255}" for s in RANGES))
    (args.out / "README.md").write_text(readme + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
