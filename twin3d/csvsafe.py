"""CSV that spreadsheet programs open as data, never as formulas, whichever separator they split on.

Every CSV the server writes goes through :func:`write_csv`. A cell that a spreadsheet reads as a formula starts with
``= + - @`` (or their fullwidth forms), a tab or a carriage return. Checking the first character is not enough: a
file written with ``,`` is often opened with ``;`` (German Excel, LibreOffice's guess), and then ``a;=HYPERLINK(...)``
becomes two cells, the second a formula; with quoting off, a quote or a line break inside a cell starts a new cell
or row as well. So a trigger is neutralised with a leading apostrophe (which Excel and LibreOffice hide and read as
"text") at the start of a cell and after every ``,`` ``;`` tab, quote or line break inside it, blanks in between
included. Numbers are left alone: a negative number stays a number.

Example:
    >>> safe_cell('a;=HYPERLINK("http://x/","klick")')
    'a;\\'=HYPERLINK("http://x/","klick")'
    >>> safe_cell(-3.5), safe_cell("-3.5"), safe_cell("-3 Bäume")
    (-3.5, '-3.5', "'-3 Bäume")
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

TRIGGERS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
"""Characters that make a spreadsheet cell a formula (ASCII and fullwidth)."""
SEPARATORS = ',;\t"\n\r'
"""Characters after which a spreadsheet may start a new cell or row."""
_BLANKS = " \t\r\n\f\v\u00a0\u3000"
# Every position at the start or after a separator from which blanks lead to a trigger (zero-width, so that a tab or a
# line break that is itself neutralised still guards what follows it).
_GUARD = re.compile(f"(?:^|(?<=[{re.escape(SEPARATORS)}]))(?=[{re.escape(_BLANKS)}]*[{re.escape(TRIGGERS)}])")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """A cell value that no spreadsheet runs: numbers and None as they are, text with triggers neutralised."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    if _NUMBER.fullmatch(text):
        return text
    return _GUARD.sub("'", text)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> str:
    """CSV text (header row, ``,`` separated, quoted where needed, ``\\n`` line ends) with every cell made safe.

    Args:
        header: the column names (made safe too).
        rows: sequences in the header's order, or mappings by column name (missing keys are empty).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        values = [row.get(name) for name in header] if isinstance(row, Mapping) else row
        writer.writerow([safe_cell(v) for v in values])
    return out.getvalue()
