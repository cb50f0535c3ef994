"""The report's 3D planning sections: sun at the façades, road noise and sightlines, per persona; and the planning
measures in words; de and en.

It reads only the ``sun``, ``noise`` and ``views`` parts of a scenario's result
(:func:`twin3d.simulation.planning.planning_results`), so the page says what the viewer and the API say: a group the
privacy gate withholds is said to be withheld, never shown as zero.
"""

from __future__ import annotations

import html
from typing import Any

from twin3d.simulation.report_flood import persona_table, table
from twin3d.simulation.report_texts import format_number

PLANNING_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "height": "{height} m hoch",
        "storeys": "{storeys} Geschosse",
        "model": "3D-Modell (Maßstab {scale}, gedreht um {rotation}°)",
        "use_residential": "Wohnen",
        "use_mixed": "gemischt (Erdgeschoss ohne Wohnungen)",
        "use_non_residential": "ohne Wohnungen",
        "road": "{road_class}",
        "vehicles": "{n} Kfz/Tag",
        "roads_closed": "{n} Straßenabschnitte",
        "roads_in_area": "alle Straßen in der Fläche",
        "structure_tower": "Turm",
        "structure_wind_turbine": "Windrad",
        "structure_other": "Bauwerk",
        "layer": "aus der Ebene {layer}",
        "sun_title": "Sonne an den Fassaden",
        "sun_intro": (
            "Direkte Sonne an den Fassaden der Wohngebäude am {day} (Idee der DIN EN 17037: mindestens {threshold} "
            "Stunden, Sonne ab {elevation}° Höhe, alle {step} Minuten). Die Haushalte eines Gebäudes zählen zu dem "
            "Anteil seiner Fassadenpunkte, der unter der Schwelle liegt. Neu berechnet: {n} Gebäude im möglichen "
            "Schattenwurf der Änderungen."
        ),
        "losing": "Fallen unter die Schwelle",
        "gaining": "Kommen über die Schwelle",
        "below_before": "Unter der Schwelle vorher",
        "below_after": "Unter der Schwelle nachher",
        "newcomers_below": "Zugezogene unter der Schwelle",
        "withheld": "Zu wenige Haushalte für eine Zahl (Datenschutz).",
        "total": "{households} Haushalte, {persons} Personen.",
        "noise_title": "Straßenlärm (L_DEN)",
        "noise_model": (
            "Screening-Modell nach RLS-19, vereinfacht (Emission je Straßenklasse mit angenommenem Verkehr, "
            "Abstand, Boden, Luft und Abschirmung durch Gebäude; ohne Reflexionen): Pegel an der lautesten Fassade. "
            "Neu berechnet: {n} Gebäude in Hörweite der geänderten Straßen."
        ),
        "noise_layer": "Pegel aus der Lärmkarte {layer} an den Wohnorten.",
        "band": "Pegelklasse",
        "before": "vorher",
        "after": "nachher",
        "louder": "Lauter (höhere Klasse)",
        "quieter": "Leiser (niedrigere Klasse)",
        "newcomers": "Zugezogene je Pegelklasse",
        "views_title": "Sichtbarkeit",
        "views_intro": (
            "{structure} {name}, {height} m hoch: Haushalte, deren Gebäude ihn aus einem oberen Fenster sieht "
            "(Sichtlinie über Gebäude und Gelände, mit Erdkrümmung, bis {distance} km)."
        ),
        "persona": "Persona",
        "households": "Haushalte",
        "persons": "Personen",
    },
    "en": {
        "height": "{height} m high",
        "storeys": "{storeys} storeys",
        "model": "3D model (scale {scale}, turned by {rotation}°)",
        "use_residential": "homes",
        "use_mixed": "mixed (no homes on the ground floor)",
        "use_non_residential": "no homes",
        "road": "{road_class}",
        "vehicles": "{n} vehicles/day",
        "roads_closed": "{n} road sections",
        "roads_in_area": "every road in the area",
        "structure_tower": "Tower",
        "structure_wind_turbine": "Wind turbine",
        "structure_other": "Structure",
        "layer": "from the layer {layer}",
        "sun_title": "Sun at the façades",
        "sun_intro": (
            "Direct sun at the façades of residential buildings on {day} (the DIN EN 17037 idea: at least {threshold} "
            "hours, sun above {elevation}°, every {step} minutes). A building's households count in the share of its "
            "façade points below the threshold. Recomputed: {n} buildings within the shadows the changes can cast."
        ),
        "losing": "Fall below the threshold",
        "gaining": "Rise above the threshold",
        "below_before": "Below the threshold before",
        "below_after": "Below the threshold after",
        "newcomers_below": "Newcomers below the threshold",
        "withheld": "Too few households for a figure (privacy).",
        "total": "{households} households, {persons} persons.",
        "noise_title": "Road noise (L_DEN)",
        "noise_model": (
            "Screening model after RLS-19, simplified (emission per road class with assumed traffic, distance, "
            "ground, air and screening by buildings; no reflections): level at the loudest façade. Recomputed: {n} "
            "buildings within earshot of the changed roads."
        ),
        "noise_layer": "Levels from the noise map {layer} at the homes.",
        "band": "Level band",
        "before": "before",
        "after": "after",
        "louder": "Louder (a higher band)",
        "quieter": "Quieter (a lower band)",
        "newcomers": "Newcomers per level band",
        "views_title": "Visibility",
        "views_intro": (
            "{structure} {name}, {height} m high: households whose building sees it from an upper window (line of "
            "sight over buildings and terrain, with the earth's curvature, up to {distance} km)."
        ),
        "persona": "Persona",
        "households": "Households",
        "persons": "Persons",
    },
}


def _building_words(m: dict[str, Any], lang: str) -> list[str]:
    px = PLANNING_TEXTS[lang]
    words = [str(m["name"])] if m.get("name") else []
    if m.get("model"):
        placed = m["model"]
        scale = format_number(placed.get("scale", 1.0), 2, lang)
        words.append(px["model"].format(scale=scale, rotation=format_number(placed.get("rotation_deg", 0.0), 0, lang)))
    elif m.get("height_m") is not None:
        words.append(px["height"].format(height=format_number(m["height_m"], 1, lang)))
    else:
        words.append(px["storeys"].format(storeys=m["storeys"]))
    return [*words, px[f"use_{m.get('use', 'residential')}"]]


def planning_measure_words(m: dict[str, Any], lang: str) -> list[str]:
    """What a planning measure states, in words (plain text; the caller escapes it)."""
    px, kind = PLANNING_TEXTS[lang], m["kind"]
    words: list[str] = []
    if kind == "planned_building":
        words = _building_words(m, lang)
    elif kind == "add_road":
        words = [px["road"].format(road_class=m["road_class"])]
        if m.get("vehicles_per_day") is not None:
            words.append(px["vehicles"].format(n=format_number(m["vehicles_per_day"], 0, lang)))
    elif kind == "close_road":
        n = len(m.get("road_ids") or [])
        words = [px["roads_closed"].format(n=format_number(n, 0, lang)) if n else px["roads_in_area"]]
    elif kind == "landmark":
        words = [px[f"structure_{m['structure']}"], px["height"].format(height=format_number(m["height_m"], 0, lang))]
    elif kind in ("noise_map", "hazard") and m.get("layer"):
        words = [px["layer"].format(layer=m["layer"])]
    return words


def _group(title: str, group: dict[str, Any] | None, names: dict[str, tuple[str, str]], lang: str, key: str) -> str:
    px, e = PLANNING_TEXTS[lang], html.escape
    head = f"<h3>{e(title)}</h3>"
    if group is None or group.get("withheld"):
        return f"{head}<p>{e(px['withheld'])}</p>"
    total = px["total"].format(
        households=format_number(group["households"], 0, lang), persons=format_number(group["persons"], 0, lang)
    )
    heads = (px["persona"], px["households"], px["persons"])
    personas = (
        persona_table(title, heads, group["by_persona"], names, lang, table_id=key) if group["by_persona"] else ""
    )
    return f"{head}<p>{e(total)}</p>" + personas


def _short(group: dict[str, Any] | None, lang: str) -> str:
    if group is None:
        return "-"
    if group.get("withheld"):
        return "*"
    return f"{format_number(group['households'], 0, lang)} / {format_number(group['persons'], 0, lang)}"


def _sun(sun: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    px, e = PLANNING_TEXTS[lang], html.escape
    intro = px["sun_intro"].format(
        day=sun["day"],
        threshold=format_number(sun["threshold_h"], 1, lang),
        elevation=format_number(sun["min_elevation_deg"], 0, lang),
        step=format_number(sun["step_minutes"], 0, lang),
        n=format_number(sun["buildings_checked"], 0, lang),
    )
    parts = [f'<h2 id="sun">{e(px["sun_title"])}</h2><p>{e(intro)}</p>']
    for key in ("losing", "gaining", "below_before", "below_after", "newcomers_below"):
        if key in sun and (key != "newcomers_below" or sun[key] is not None):
            parts.append(_group(px[key], sun[key], names, lang, f"sun-{key}"))
    return "".join(parts)


def _noise(noise: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    px, e = PLANNING_TEXTS[lang], html.escape
    bands = noise["bands"]

    def label(band: int) -> str:
        later = [b for b in bands if b > band]
        return f"≥ {band} dB" if not later else f"{band} - {later[0] - 1} dB"

    intro = (
        px["noise_layer"].format(layer=noise.get("layer_title") or noise.get("layer"))
        if noise["source"] == "layer"
        else px["noise_model"].format(n=format_number(noise.get("buildings_checked", 0), 0, lang))
    )
    rows = [[e(label(r["band"])), _short(r.get("before"), lang), _short(r["after"], lang)] for r in noise["residents"]]
    parts = [f'<h2 id="noise">{e(px["noise_title"])}</h2><p>{e(intro)}</p>']
    if rows:
        heads = [e(px["band"]), e(px["before"]), e(px["after"])]
        parts.append(table(e(px["noise_title"]), heads, rows, ' id="noise-bands"'))
    for key in ("louder", "quieter"):
        if noise.get(key) is not None:
            parts.append(_group(px[key], noise[key], names, lang, f"noise-{key}"))
    if noise.get("newcomers"):
        rows = [[e(label(r["band"])), _short(r["group"], lang)] for r in noise["newcomers"]]
        parts.append(f"<h3>{e(px['newcomers'])}</h3>")
        parts.append(table(e(px["newcomers"]), [e(px["band"]), e(px["households"])], rows, ' id="noise-newcomers"'))
    return "".join(parts)


def _views(views: list[dict[str, Any]], names: dict[str, tuple[str, str]], lang: str) -> str:
    px, e = PLANNING_TEXTS[lang], html.escape
    parts = [f'<h2 id="views">{e(px["views_title"])}</h2>']
    for v in views:
        structure = px[f"structure_{v['structure']}"]
        intro = px["views_intro"].format(
            structure=structure,
            name=f"„{v['name']}“" if v.get("name") else "",
            height=format_number(v["height_m"], 0, lang),
            distance=format_number(v["max_distance_m"] / 1000, 1, lang),
        )
        parts.append(f"<p>{e(intro)}</p>")
        parts.append(_group(structure, v["see"], names, lang, f"views-{v['measure']}"))
    return "".join(parts)


def planning_section(result: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    """The sun, noise and visibility sections of the report ("" where the scenario has none)."""
    parts = []
    if result.get("sun"):
        parts.append(_sun(result["sun"], names, lang))
    if result.get("noise"):
        parts.append(_noise(result["noise"], names, lang))
    if result.get("views"):
        parts.append(_views(result["views"], names, lang))
    return "".join(parts)
