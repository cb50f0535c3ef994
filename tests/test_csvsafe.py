"""CSV cells cannot become formulas, whether a spreadsheet splits the file on ``,`` or ``;``, with quoting or not."""

from __future__ import annotations

import csv
import io

from twin3d.csvsafe import TRIGGERS, safe_cell, write_csv

NASTY = [
    'a;=HYPERLINK("http://x/","klick")',
    "=1+1",
    "+49 911 1234",
    "-minus",
    "@SUMME(A1)",
    "\t=1",
    "\r=1",
    "Komma, =1+1",
    "Komma,=1+1",
    'Zitat "=1+1"',
    "Zeile\n=1+1",
    "a;\t@b",
    "a; -b",
    "a;\u00a0=b",
    "\uff1d1+1",
    "a;\uff0b1",
    "x\uff20y;\uff20z",
    "-3 Bäume",
]


def spreadsheet_fields(text: str) -> list[str]:
    """Every field a spreadsheet may see: split on ``,``, ``;`` or tab, with quotes honoured and with quoting off."""
    fields: list[str] = []
    for delimiter in (",", ";", "\t"):
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
            fields.extend(field for row in reader for field in row)
    return fields


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def formula_cells(text: str) -> list[str]:
    """Fields that start with a formula trigger (after blanks and quotes), plain numbers aside."""
    return [
        f
        for f in spreadsheet_fields(text)
        if f.lstrip(' "\u00a0\u3000').startswith(tuple(TRIGGERS)) and not is_number(f.strip())
    ]


def test_no_field_starts_a_formula_with_either_separator() -> None:
    text = write_csv(["id", "title", "score"], [[i, value, -i] for i, value in enumerate(NASTY)])
    assert formula_cells(text) == []
    # the unguarded file would have had them
    raw = io.StringIO()
    csv.writer(raw, lineterminator="\n").writerows([[value] for value in NASTY])
    assert len(formula_cells(raw.getvalue())) >= len(NASTY) - 1


def test_text_is_kept_and_numbers_stay_numbers() -> None:
    text = write_csv(["id", "title", "score", "share"], [{"id": 1, "title": NASTY[0], "score": -3, "share": -0.25}])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row == {"id": "1", "title": 'a;\'=HYPERLINK("http://x/","klick")', "score": "-3", "share": "-0.25"}
    assert (safe_cell(-7), safe_cell("-7"), safe_cell("-7.5e3"), safe_cell(None)) == (-7, "-7", "-7.5e3", None)
    assert safe_cell("Stadtpark, schöne Bänke") == "Stadtpark, schöne Bänke"
    assert safe_cell("3 - 2") == "3 - 2"  # a minus inside a cell, after no separator, is text
