"""Writing a commented pipeline definition for ``twin3d init``, and the defaults it writes down.

TOML libraries write values, not the comments that make a definition readable, so this small writer emits the
text line by line: a comment above each setting saying what it was inferred from, ``TODO`` lines where a value is
a default the user should check. The height tables are typical heights per building type; the twin's own tags,
storeys or measured heights come first wherever a file has them.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping
from typing import Any

# Typical heights (m) per ALKIS building function (AdV code list AX_Gebaeudefunktion), for buildings without storeys
# or a height: two storeys under a pitched roof for a house, one storey for sheds and garages.
ALKIS_HEIGHTS: dict[str, float] = {
    "1000": 8.0, "1010": 8.0, "1020": 10.0, "1021": 10.0, "1022": 10.0, "1023": 10.0, "1024": 12.0, "1025": 9.0,
    "1100": 10.0, "1110": 10.0, "1120": 11.0, "1121": 11.0, "1122": 11.0, "1123": 11.0, "1130": 10.0, "1131": 9.0,
    "1210": 8.0, "1220": 8.0, "1221": 8.0, "1222": 8.0, "1223": 8.0,
    "1310": 4.0, "1311": 6.0, "1312": 4.0, "1313": 3.0,
    "2000": 6.0, "2010": 10.0, "2020": 12.0, "2050": 10.0, "2100": 8.0, "2120": 5.0, "2143": 7.0,
    "2460": 3.0, "2461": 10.0, "2463": 3.0, "2464": 5.0, "2500": 4.0, "2523": 3.0,
    "2700": 7.0, "2720": 7.0, "2721": 8.0, "2723": 3.0, "2724": 6.0, "2726": 8.0, "2740": 3.0,
    "3000": 10.0, "3010": 10.0, "3020": 10.0, "3021": 10.0, "3022": 10.0, "3040": 12.0, "3041": 18.0, "3211": 8.0,
}  # fmt: skip
ALKIS_DEFAULT_HEIGHT = 7.0
# The residential functions of the AdV code list (Wohngebäude 1000 to Forsthaus 1223): where households live.
ALKIS_RESIDENTIAL = (
    "1000", "1010", "1020", "1021", "1022", "1023", "1024", "1025", "1100", "1110", "1120", "1121", "1122", "1123",
    "1130", "1131", "1210", "1220", "1221", "1222", "1223",
)  # fmt: skip
# Typical heights (m) per OSM building value (the Lauf twin's table); "yes" (no type) takes the default.
OSM_HEIGHTS: dict[str, float] = {
    "garage": 3.0, "garages": 3.0, "carport": 2.5, "shed": 2.5, "hut": 3.0, "roof": 4.0, "greenhouse": 3.0,
    "construction": 6.0, "house": 8.0, "detached": 8.0, "semidetached_house": 8.0, "terrace": 9.0,
    "residential": 9.0, "apartments": 12.0, "farm": 8.0, "farm_auxiliary": 6.0, "barn": 7.0, "commercial": 10.0,
    "retail": 6.0, "industrial": 9.0, "warehouse": 8.0, "office": 12.0, "school": 11.0, "church": 18.0,
    "public": 10.0, "hospital": 15.0, "kindergarten": 6.0,
}  # fmt: skip
OSM_DEFAULT_HEIGHT = 7.5
# Eurostat census grid columns (GRD_ID layout) and the names the population synthesis reads.
EUROSTAT_GRID: dict[str, tuple[str, str]] = {
    "T": ("population", "persons"), "M": ("male", "persons"), "F": ("female", "persons"),
    "Y_LT15": ("age_under_15", "persons"), "Y_1564": ("age_15_64", "persons"), "Y_GE65": ("age_65_plus", "persons"),
    "LAND_SURFACE": ("land_share", "share"),
}  # fmt: skip
ZENSUS_GRID: dict[str, tuple[str, str]] = {"Einwohner": ("population", "persons")}
# District statistics columns (any case) and the canonical variables the population synthesis reads.
DISTRICT_VARIABLES: tuple[tuple[str, str, str], ...] = (
    (r"(anzahl_)?einwohner(zahl|_insgesamt|_gesamt)?|bev(oe|ö)lkerung(_insgesamt)?|population|ew", "population",
     "persons"),
    (r"(anzahl_)?haushalte|households", "households", "households"),
    (r"(anzahl_)?(m(ae|ä)nnlich|maenner|männer)|male", "male", "persons"),
    (r"(anzahl_)?(weiblich|frauen)|female", "female", "persons"),
    (r"bev(oe|ö)lkerungsdichte|einwohnerdichte|dichte|density", "density", "persons/km²"),
)  # fmt: skip
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
WIDTH = 118


def toml_value(value: Any) -> str:
    """A value in TOML syntax: strings as basic strings, lists and mappings inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's basic-string escapes
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def toml_key(key: str) -> str:
    """A key, quoted where it is not a bare key (``"building:levels"``) or could be taken for a number (``"1000"``)."""
    return key if _BARE_KEY.match(key) and not key.isdigit() else json.dumps(key, ensure_ascii=False)


class TomlText:
    """A pipeline definition written line by line, with comments above the settings."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str, *, todo: bool = False) -> None:
        """A comment (wrapped); ``todo`` marks what the user should check."""
        prefix = "# TODO: " if todo else "# "
        for paragraph in text.split("\n"):
            wrapped = textwrap.wrap(paragraph, WIDTH - len(prefix), break_on_hyphens=False) or [""]
            self.lines += [f"{prefix if i == 0 else '#' + ' ' * (len(prefix) - 1)}{w}" for i, w in enumerate(wrapped)]

    def blank(self) -> None:
        """An empty line, never two in a row."""
        if self.lines and self.lines[-1]:
            self.lines.append("")

    def table(self, header: str) -> None:
        """``[header]`` or ``[[header]]`` (pass the brackets)."""
        self.blank()
        self.lines.append(header)

    def set(self, key: str, value: Any, why: str | None = None, *, todo: str | None = None) -> None:
        """``key = value``, with the reason and the TODO (if any) as comments above it."""
        if why:
            self.comment(why)
        if todo:
            self.comment(todo, todo=True)
        line = f"{toml_key(key)} = {toml_value(value)}"
        if len(line) > WIDTH and isinstance(value, list | tuple) and value:
            self.lines.append(f"{toml_key(key)} = [")
            self.lines += [f"    {toml_value(v)}," for v in value]
            self.lines.append("]")
        else:
            self.lines.append(line)

    def commented_out(self, other: TomlText) -> None:
        """Another block, every line commented out (a choice the user can switch on)."""
        self.lines += [f"# {line}" if line else "#" for line in other.lines]

    def text(self) -> str:
        """The whole file."""
        return "\n".join(self.lines).rstrip("\n") + "\n"
