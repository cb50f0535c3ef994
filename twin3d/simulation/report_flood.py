"""The report's flood section: which terrain, which water level, how many buildings stand in the water and how
deep, who is exposed (through the privacy gate) and which facilities and paths the water cuts off; de and en.

It reads only the ``flood`` part of a scenario's result (:func:`twin3d.simulation.flood.flood_results`), so the page
says what the viewer and the API say.
"""

from __future__ import annotations

import html
from typing import Any

from twin3d.simulation.report_maps import swatch
from twin3d.simulation.report_texts import facility_label, format_number

FLOOD_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Hochwasser",
        "level_measure": "Wasserstand {level} m ü. NHN",
        "area": "in der gezeichneten Fläche",
        "wall_measure": "Krone {crest} m ü. NHN",
        "terrain_dem": (
            "Gelände: Geländemodell {source}, Raster {resolution} m (Quelle {source_resolution} m), "
            "{low} bis {high} m ü. NHN."
        ),
        "terrain_ground": (
            "Gelände: Dieser Zwilling hat kein Geländemodell; er steht auf einer einheitlichen Geländehöhe von "
            "{ground} m ü. NHN. Jedes erreichte Gebäude steht daher gleich tief im Wasser, oder keines."
        ),
        "level": (
            "Maßnahme {measure}: Wasserstand {level} m ü. NHN: {area} ha überflutet, bis {max} m tief "
            "(im Mittel {mean} m), vom Fluss her über zusammenhängende Zellen."
        ),
        "level_dry": "Maßnahme {measure}: Wasserstand {level} m ü. NHN: das Wasser erreicht hier keine tiefere Zelle.",
        "wall_holds": "Schutzmauer (Maßnahme {measure}, Krone {crest} m) hält: {protected} ha und {buildings} "
        "Gebäude bleiben trocken.",
        "wall_over": "Schutzmauer (Maßnahme {measure}, Krone {crest} m) wird überströmt.",
        "buildings": "{flooded} von {total} Gebäuden stehen im Wasser, bis {max} m tief.",
        "depth_rule": "Tiefe eines Gebäudes: die tiefste Rasterzelle, deren Mitte im Grundriss liegt.",
        "band": "Wassertiefe",
        "band_range": "{low} bis unter {high} m",
        "band_open": "ab {low} m",
        "count": "Gebäude",
        "exposed": "Bewohnende im Wasser",
        "exposed_total": "{persons} Personen in {households} Haushalten (ganze veröffentlichte Einheiten).",
        "exposed_none": "Keine Wohnung liegt im Wasser.",
        "exposed_withheld": "Zu wenige Bewohnende im Wasser für eine Zahl (Datenschutz); nicht ausgewertet.",
        "persona": "Persona",
        "households": "Haushalte",
        "persons": "Personen",
        "cut_off": "Abgeschnittene Einrichtungen",
        "cut_off_none": "Keine Einrichtung steht im Wasser oder ist abgeschnitten.",
        "facility": "Einrichtung",
        "kind": "Art",
        "reason": "Grund",
        "depth": "Tiefe (m)",
        "flooded": "im Wasser",
        "access_flooded": "Zugang überflutet",
        "paths": (
            "{n} Wegabschnitte ({km} km) stehen unter Wasser und sind aus dem Wegenetz genommen; die Erreichbarkeit "
            "oben ist ohne sie berechnet. Brücken über das gewöhnliche Flussbett bleiben offen, solange ihre Zugänge "
            "trocken sind."
        ),
        "paths_none": "Kein Wegabschnitt steht unter Wasser.",
    },
    "en": {
        "title": "Flood",
        "level_measure": "water level {level} m above NHN",
        "area": "within the drawn area",
        "wall_measure": "crest {crest} m above NHN",
        "terrain_dem": (
            "Terrain: elevation model {source}, {resolution} m grid (source {source_resolution} m), "
            "{low} to {high} m above NHN."
        ),
        "terrain_ground": (
            "Terrain: this twin has no elevation model; it stands on one twin-wide ground of {ground} m above NHN. "
            "Every building the water reaches therefore stands equally deep in it, or none does."
        ),
        "level": (
            "Measure {measure}: water level {level} m above NHN: {area} ha flooded, up to {max} m deep "
            "(mean {mean} m), from the river over connected cells."
        ),
        "level_dry": "Measure {measure}: water level {level} m above NHN: the water reaches no lower cell here.",
        "wall_holds": "Protective wall (measure {measure}, crest {crest} m) holds: {protected} ha and {buildings} "
        "buildings stay dry.",
        "wall_over": "Protective wall (measure {measure}, crest {crest} m) is overtopped.",
        "buildings": "{flooded} of {total} buildings stand in the water, up to {max} m deep.",
        "depth_rule": "A building's depth: the deepest grid cell whose centre lies in its footprint.",
        "band": "Water depth",
        "band_range": "{low} to under {high} m",
        "band_open": "{low} m and more",
        "count": "Buildings",
        "exposed": "Residents in the water",
        "exposed_total": "{persons} persons in {households} households (whole published units).",
        "exposed_none": "No home lies in the water.",
        "exposed_withheld": "Too few residents in the water for a figure (privacy); not evaluated.",
        "persona": "Persona",
        "households": "Households",
        "persons": "Persons",
        "cut_off": "Facilities cut off",
        "cut_off_none": "No facility stands in the water or is cut off.",
        "facility": "Facility",
        "kind": "Type",
        "reason": "Reason",
        "depth": "Depth (m)",
        "flooded": "in the water",
        "access_flooded": "access flooded",
        "paths": (
            "{n} path segments ({km} km) are under water and taken out of the walking network; the accessibility "
            "above is computed without them. Bridges over the river's usual bed stay open while their approaches "
            "are dry."
        ),
        "paths_none": "No path segment is under water.",
    },
}


def flood_measure_words(m: dict[str, Any], lang: str) -> list[str]:
    """What a flood or wall measure states, in words (plain text)."""
    fx = FLOOD_TEXTS[lang]
    if m["kind"] == "flood":
        words = [fx["level_measure"].format(level=format_number(m["level_m"], 2, lang))]
        return [*words, fx["area"]] if m.get("area") else words
    return [fx["wall_measure"].format(crest=format_number(m["crest_m"], 2, lang))]


def table(caption: str, heads: list[str], rows: list[list[str]], attrs: str, text: int = 1) -> str:
    """Rows of escaped cells; the first ``text`` columns are words, the others numbers (as the report's tables)."""
    num = [" class=num" if i >= text else "" for i in range(len(heads))]
    head = "".join(f'<th scope="col"{n}>{h}</th>' for n, h in zip(num, heads, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{n}>{v}</td>" for n, v in zip(num, row, strict=True)) + "</tr>" for row in rows
    )
    top = f'<caption class="sr-only">{caption}</caption><thead><tr>{head}</tr></thead>'
    return f"<table{attrs}>{top}<tbody>{body}</tbody></table>"


def persona_table(
    caption: str,
    heads: tuple[str, str, str],
    counts: list[dict[str, Any]],
    names: dict[str, tuple[str, str]],
    lang: str,
    *,
    table_id: str,
) -> str:
    """Households and persons per persona (rows of the gate's persona counts), each persona named with its colour;
    ``caption`` and ``heads`` are plain text."""
    e = html.escape
    rows = []
    for r in counts:
        name, color = names.get(r["persona"], (r["persona"], "#999999"))
        rows.append(
            [f"{swatch(color)}{e(name)}", format_number(r["households"], 0, lang), format_number(r["persons"], 0, lang)]
        )
    return table(e(caption), [e(h) for h in heads], rows, f' id="{table_id}"')


def _terrain(flood: dict[str, Any], lang: str) -> str:
    fx, t = FLOOD_TEXTS[lang], flood["terrain"]
    if t["kind"] == "dem":
        return fx["terrain_dem"].format(
            source=t["source"],
            resolution=format_number(t["resolution_m"], 1, lang),
            source_resolution=format_number(t["source_resolution_m"], 1, lang),
            low=format_number(t["min_m"], 2, lang),
            high=format_number(t["max_m"], 2, lang),
        )
    return fx["terrain_ground"].format(ground=format_number(t["ground_m"], 2, lang))


def _levels(flood: dict[str, Any], lang: str) -> list[str]:
    fx, lines = FLOOD_TEXTS[lang], []
    for lv in flood["levels"]:
        values = {"measure": lv["measure"] + 1, "level": format_number(lv["level_m"], 2, lang)}
        if lv["source"] is None:
            lines.append(fx["level_dry"].format(**values))
            continue
        lines.append(
            fx["level"].format(
                **values,
                area=format_number(lv["area_m2"] / 10_000, 1, lang),
                max=format_number(lv["max_depth_m"], 2, lang),
                mean=format_number(lv["mean_depth_m"], 2, lang),
            )
        )
    protected = {lv["measure"]: lv for lv in flood["levels"]}
    for w in flood["walls"]:
        crest = format_number(w["crest_m"], 2, lang)
        if w["holds"]:
            held = [protected[i] for i in w["holds"]]
            lines.append(
                fx["wall_holds"].format(
                    measure=w["measure"] + 1,
                    crest=crest,
                    protected=format_number(sum(lv.get("protected_m2", 0) for lv in held) / 10_000, 1, lang),
                    buildings=format_number(max(lv.get("buildings_protected", 0) for lv in held), 0, lang),
                )
            )
        else:
            lines.append(fx["wall_over"].format(measure=w["measure"] + 1, crest=crest))
    return lines


def _buildings(flood: dict[str, Any], lang: str) -> str:
    fx, e, b = FLOOD_TEXTS[lang], html.escape, flood["buildings"]
    line = fx["buildings"].format(
        flooded=format_number(b["flooded"], 0, lang),
        total=format_number(b["total"], 0, lang),
        max=format_number(b["max_depth_m"], 2, lang),
    )
    rows = [
        [
            e(
                fx["band_open"].format(low=format_number(band["from_m"], 1, lang))
                if band["to_m"] is None
                else fx["band_range"].format(
                    low=format_number(band["from_m"], 1, lang), high=format_number(band["to_m"], 1, lang)
                )
            ),
            format_number(band["buildings"], 0, lang),
        ]
        for band in b["by_depth"]
    ]
    depths = table(e(fx["band"]), [e(fx["band"]), e(fx["count"])], rows, ' id="flood-buildings"')
    return f'<p>{e(line)} <span class="muted">{e(fx["depth_rule"])}</span></p>{depths}'


def _exposed(flood: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    fx, e, x = FLOOD_TEXTS[lang], html.escape, flood["exposed"]
    head = f"<h3>{e(fx['exposed'])}</h3>"
    if x["withheld"]:
        return f"{head}<p>{e(fx['exposed_withheld'])}</p>"
    if not x["persons"]:
        return f"{head}<p>{e(fx['exposed_none'])}</p>"
    total = fx["exposed_total"].format(
        persons=format_number(x["persons"], 0, lang), households=format_number(x["households"], 0, lang)
    )
    heads = (fx["persona"], fx["households"], fx["persons"])
    return f"{head}<p>{e(total)}</p>" + persona_table(
        fx["exposed"], heads, x["personas"], names, lang, table_id="flood-exposed"
    )


def _cut_off(flood: dict[str, Any], lang: str) -> str:
    fx, e = FLOOD_TEXTS[lang], html.escape
    head = f"<h3>{e(fx['cut_off'])}</h3>"
    if not flood["facilities_cut_off"]:
        return f"{head}<p>{e(fx['cut_off_none'])}</p>"
    rows = [
        [
            e(f["name"] or f["facility_id"]),
            e(facility_label(f["facility"], lang)),
            e(fx[f["reason"]]),
            format_number(f["depth_m"], 2, lang),
        ]
        for f in flood["facilities_cut_off"]
    ]
    heads = [e(fx["facility"]), e(fx["kind"]), e(fx["reason"]), e(fx["depth"])]
    return head + table(e(fx["cut_off"]), heads, rows, ' id="flood-facilities"', text=3)


def flood_section(result: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    """The flood section of the report ("" for a scenario without a flood)."""
    flood = result.get("flood")
    if not flood:
        return ""
    fx, e = FLOOD_TEXTS[lang], html.escape
    paths = flood["paths"]
    path_line = (
        fx["paths"].format(
            n=format_number(paths["segments_removed"], 0, lang), km=format_number(paths["length_removed_km"], 2, lang)
        )
        if paths["segments_removed"]
        else fx["paths_none"]
    )
    lines = "".join(f"<li>{e(line)}</li>" for line in _levels(flood, lang))
    return "".join(
        [
            f'<h2 id="flood">{e(fx["title"])}</h2>',
            f'<p class="terrain">{e(_terrain(flood, lang))}</p>',
            f"<ul>{lines}</ul>",
            _buildings(flood, lang),
            _exposed(flood, names, lang),
            _cut_off(flood, lang),
            f"<p>{e(path_line)}</p>",
        ]
    )
