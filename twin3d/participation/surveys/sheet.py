"""Sheets of invitation codes to print: a PDF of cut-out slips (fpdf2) or a CSV for a mail merge.

Each slip carries the survey's title, where to answer (the public URL, if set) and one code, in German and English.
The sheet is made once, when the codes are made, and never again: the store keeps only the codes' hashes.

Example:
    >>> pdf = codes_pdf("Mobilität in Lauf", ["K7QM29XH4T"], url="https://twin.example.org")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

from twin3d.csvsafe import write_csv
from twin3d.participation.surveys.keys import printed

COLUMNS, ROWS = 2, 6  # slips per A4 page
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


def _font(pdf: FPDF) -> str:
    """DejaVu Sans where installed (every character of a title prints); else the built-in Helvetica (Latin-1)."""
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu"
    return "Helvetica"


def _latin1(text: str, font: str) -> str:
    if font != "Helvetica":
        return text
    return text.replace("“", '"').replace("”", '"').replace("„", '"').encode("latin-1", "replace").decode("latin-1")


def codes_pdf(title: str, codes: Sequence[str], *, url: str | None, title_en: str | None = None) -> bytes:
    """An A4 PDF of slips, ``COLUMNS`` x ``ROWS`` per page, one code each, with cut lines.

    Args:
        title: the survey's German title.
        codes: the codes (normalised form; printed as ``XXXXX-XXXXX``).
        url: where to answer (the viewer), or None.
        title_en: the English title, if it differs.
    """
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(auto=False)
    pdf.set_creator("twin3d")
    font = _font(pdf)
    width, height = 210 / COLUMNS, 297 / ROWS
    where = url or ""
    lines_de = "Ihr persönlicher Einladungscode. Er gilt für eine Antwort."
    lines_en = "Your personal invitation code. It is valid for one answer."
    for i, code in enumerate(codes):
        slot = i % (COLUMNS * ROWS)
        if slot == 0:
            pdf.add_page()
            pdf.set_draw_color(180, 180, 180)
            pdf.set_dash_pattern(dash=1.5, gap=1.5)
            for c in range(1, COLUMNS):
                pdf.line(c * width, 0, c * width, 297)
            for r in range(1, ROWS):
                pdf.line(0, r * height, 210, r * height)
            pdf.set_dash_pattern()
        x, y = (slot % COLUMNS) * width + 8, (slot // COLUMNS) * height + 8
        inner = width - 16
        pdf.set_xy(x, y)
        pdf.set_font(font, "B", 10)
        pdf.multi_cell(inner, 5, _latin1(title, font), new_x="LEFT", new_y="NEXT")
        if title_en and title_en != title:
            pdf.set_font(font, "", 8)
            pdf.multi_cell(inner, 4, _latin1(title_en, font), new_x="LEFT", new_y="NEXT")
        pdf.set_font(font, "", 8)
        pdf.multi_cell(inner, 4, _latin1(f"{lines_de}\n{lines_en}", font), new_x="LEFT", new_y="NEXT")
        pdf.set_font("Courier", "B", 16)
        pdf.cell(inner, 10, printed(code), align="C", new_x="LEFT", new_y="NEXT")
        if where:
            pdf.set_font(font, "", 8)
            pdf.multi_cell(inner, 4, _latin1(where, font), new_x="LEFT", new_y="NEXT")
    return bytes(pdf.output())


def codes_csv(codes: Sequence[str], *, batch: int, url: str | None) -> str:
    """The codes as CSV: one row per code (printed form), with the batch and where to answer."""
    return write_csv(["code", "batch", "url"], [(printed(c), batch, url or "") for c in codes])
