"""The words of the scenario report (:mod:`twin3d.simulation.report_html`), German first and English.

The German terms follow the viewer's (``viewer/js/i18n.js``) so that a report reads like the panel it came from.
English indicator sentences are not repeated here: they come from
:data:`twin3d.simulation.accessibility.INDICATORS`, the documentation the API itself gives; only their German
translations live here, and a test checks that every indicator the report shows has one.
"""

# ruff: noqa: RUF001  (typographic dashes and minus signs are meant: these are the words people read)

from __future__ import annotations

import math
from typing import Any

LANGS = ("de", "en")

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "locale": "de-DE",
        "doc_title": "Szenariobericht: {name} – {twin}",
        "kicker": "Szenariobericht · {twin}",
        "version": "Version {version}",
        "scenario_id": "Szenario-Kennung",
        "created": "gespeichert am",
        "generated": "Bericht erstellt am",
        "measures": "Maßnahmen",
        "no_description": "Ohne Beschreibung.",
        "overview": "Überblick",
        "households_added": "Neue Haushalte",
        "persons_added": "Neue Einwohner",
        "households_removed": "Weggefallene Haushalte",
        "facilities": "Einrichtungen im Szenario",
        "sealed_m2": "Neu versiegelte Fläche",
        "residents_per_sealed_ha": "Neue Einwohner je Hektar neu versiegelter Fläche",
        "dwellings_added": "Neue Wohnungen",
        "no_new_sealing": "Neue Wohnungen ohne neue Versiegelung",
        "map": "Veränderung je H3-Zelle",
        "map_intro": (
            "Jede Fläche ist eine H3-Zelle, die das Datenschutz-Tor in Basis und Szenario veröffentlicht hat. "
            "Blasse, größere Zellen sind kleine Reste, zu einer gröberen Zelle zusammengefasst. Schwarz umrandet: "
            "die Maßnahmen, nummeriert wie in der Liste oben."
        ),
        "interactive": "Interaktive Karte",
        "interactive_hint": "Ziehen: verschieben · Mausrad oder +/−: zoomen · Pfeiltasten bei fokussierter Karte",
        "metric": "Kennzahl",
        "static_maps": "Karten je Kennzahl",
        "cell": "H3-Zelle",
        "metric_persons": "Personen je Zelle",
        "metric_walk": "Ø Weg zur Einrichtung: {facility}",
        "legend": "Legende",
        "walk_classes": "viel kürzer|kürzer|kaum verändert|länger|viel länger",
        "persons_classes": "viel mehr|mehr|kaum verändert|weniger|viel weniger",
        "no_comparison": "kein Vergleich (Zelle nur im Szenario veröffentlicht)",
        "coarse": "blass: gröbere Zelle (zusammengefasster Rest)",
        "measure_outline": "Maßnahme",
        "no_change_anywhere": "Keine Zelle ändert sich bei den Wegen; gezeigt sind die Personen je Zelle.",
        "kpis": "Erreichbarkeit je Persona",
        "kpi_intro": (
            "Für jede Persona und jeden ihrer Bedarfe, für die bisherige Bewohnerschaft: Basis (heute), Szenario und "
            "Veränderung unter den neuen Einrichtungen. Grün heißt besser (kürzere Wege, mehr im Radius, mehr Plätze), "
            "Rot schlechter; Änderungen innerhalb der Toleranz gelten als unverändert."
        ),
        "all_persons": "Alle Personen",
        "need": "Bedarf",
        "indicator": "Kennzahl",
        "baseline": "Basis (heute)",
        "scenario": "Szenario",
        "change": "Veränderung",
        "need_limit": "{facility} ≤ {distance} m",
        "hazard": "Im Gefahrenbereich",
        "green": "Grünfläche je Einwohner",
        "m2_per_resident": "m² je Einwohner",
        "households": "Haushalte",
        "persons": "Personen",
        "persona": "Persona",
        "outlook": "Bedarfsvorausschau (Personen)",
        "outlook_when": "Zeitpunkt",
        "outlook_now": "heute",
        "outlook_year": "in {n} J.",
        "outlook_kita_0_5": "0–5 J. (Kita)",
        "outlook_primary_6_9": "6–9 J. (Grundschule)",
        "outlook_care_80_plus": "80+ J. (Pflege)",
        "outlook_persons": "Personen insgesamt",
        "outlook_history": (
            "Raten für {rates}, angepasst an die Statistik von {town}: Geburten ×{fertility} ({fertility_years}), "
            "Sterbefälle ×{mortality} ({mortality_years}); Wanderung nach Alter aus den Jahren {migration_years}: "
            "Mittel von {window} Jahren, je Jahr ×{damping} gedämpft, {replacement} % von Geburten und Sterbefällen "
            "durch Wanderung ausgeglichen."
        ),
        "outlook_prior": (
            "Raten für {rates}, ohne eigene Statistik der Stadt; Wanderung angenommen mit {rate} % der Einwohner je "
            "Jahr."
        ),
        "outlook_flows": "Im ersten Jahr: {births} Geburten, {deaths} Sterbefälle, Wanderungssaldo {migration}.",
        "docs": "Kennzahlen erklärt",
        "doc_static_maps": (
            "Je Zelle: Veränderung der Personen, und des mittleren Fußwegs der Haushalte einer veröffentlichten "
            "Zelle zur nächsten Einrichtung der Art (in m)."
        ),
        "doc_hazard": "Haushalte und Personen, deren Wohnung im gezeichneten Gefahrenbereich liegt.",
        "doc_green": (
            "Öffentliche Grünfläche (Parks, öffentliche Gärten, Spielplätze) je Einwohner in höchstens {reach} m "
            "Fußweg: jede Fläche geteilt durch alle, die sie erreichen, je Wohnung summiert (Fußweg zu einem Punkt "
            "ihres Rands, wie jeder Weg im Zwilling); bisherige Bewohner vorher und nachher, Zugezogene nachher."
        ),
        "residents": "bisherige Bewohner",
        "group": "Gruppe",
        "doc_sealed_m2": (
            "Neu versiegelt: die Grundflächen neuer Quartiere (Grundflächenzahl mal Fläche) und 10 % der Fläche für "
            "Wege und Zufahrten, abzüglich der dort schon bebauten Fläche; Aufstockungen versiegeln nichts."
        ),
        "doc_outlook": (
            "Personen der Altersgruppen Jahr für Jahr nach der Kohorten-Komponenten-Methode: Geburten, Sterbefälle "
            "und Wanderung nach Alter. Die Raten für Deutschland werden an die Geburten und Sterbefälle der Stadt "
            "angepasst und die Wanderung aus ihrer Statistik geschätzt, wo die Stadt sie veröffentlicht; sonst "
            "gelten die Raten für Deutschland und eine angenommene Wanderung (unter der Tabelle steht, was galt)."
        ),
        "method": "Entfernungen",
        "method_network": "Fußwege über das Wegenetz.",
        "method_other": "Luftlinie mal Umwegfaktor.",
        "privacy": "Datenschutz",
        "privacy_removal_whole_units": (
            "Abriss (Maßnahme {measure}): wirkt auf ganze Einheiten; {units} Einheit(en) entfernt, {kept} nur "
            "teilweise betroffene bleiben unverändert."
        ),
        "privacy_hazard_whole_units": (
            "Gefahrenbereich (Maßnahme {measure}): zählt ganze Einheiten; {units} Einheit(en) betroffen, {kept} nur "
            "teilweise berührte nicht gezählt."
        ),
        "privacy_hazard_area_too_small": (
            "Gefahrenbereich (Maßnahme {measure}): zu wenige Bewohnende für eine Zahl; der Bereich wird nicht "
            "ausgewertet."
        ),
        "privacy_flood_whole_units": (
            "Hochwasser (Maßnahme {measure}): zählt ganze Einheiten; {units} Einheit(en) im Wasser, {kept} nur "
            "teilweise berührte nicht gezählt."
        ),
        "privacy_flood_area_too_small": (
            "Hochwasser (Maßnahme {measure}): zu wenige Bewohnende im Wasser für eine Zahl; nicht ausgewertet."
        ),
        "privacy_text": (
            "Die Bevölkerung ist synthetisch: aus amtlichen Statistiken erzeugt, keine echten Personen. Alle "
            "Zahlen dieses Berichts haben das Datenschutz-Tor durchlaufen: Sie sind Summen veröffentlichter Einheiten "
            "von mindestens {min_persons} Personen und {min_households} Haushalten, Gruppen unter {min_group} "
            "Haushalten fehlen, und jede Einheit trägt ein leichtes, festes Rauschen. Flächenmaßnahmen (Abriss, "
            "Gefahrenbereich) wirken auf ganze Einheiten; zu kleine Flächen erhalten keine Zahl. Kleine Unterschiede "
            "sind daher nicht aussagekräftig."
        ),
        "no_data": "keine Angabe",
        "footer": "Erstellt am {when} mit twin3d {version}. Die Datei lädt nichts nach: Daten, Gestaltung {what}.",
        "footer_deck": "und die Kartenbibliothek deck.gl{version} sind eingebettet",
        "footer_svg": "und Karten sind eingebettet",
        "licences": "Lizenzen der eingebetteten Kartenbibliothek",
        "area_ha": "{ha} ha",
        "dwellings": "{n} Wohnungen in {storeys} Geschossen",
        "storeys_coverage": "{storeys} Geschosse auf {coverage} % der Fläche",
        "storeys_on": "{storeys} Geschoss(e) auf {n} Gebäude(n)",
        "occupancy": "{share} % belegt",
        "mix_new_build": "Neubau (typische Erstbezieher)",
        "mix_like": "Haushalte wie in {district}",
        "places": "{n} Plätze",
        "buildings": "{n} Gebäude",
        "years": "{n} Jahre",
    },
    "en": {
        "locale": "en-GB",
        "doc_title": "Scenario report: {name} – {twin}",
        "kicker": "Scenario report · {twin}",
        "version": "version {version}",
        "scenario_id": "Scenario id",
        "created": "stored on",
        "generated": "Report made on",
        "measures": "Measures",
        "no_description": "No description.",
        "overview": "Overview",
        "households_added": "New households",
        "persons_added": "New residents",
        "households_removed": "Households gone",
        "facilities": "Facilities in the scenario",
        "sealed_m2": "Newly sealed area",
        "residents_per_sealed_ha": "New residents per hectare of newly sealed area",
        "dwellings_added": "New dwellings",
        "no_new_sealing": "New homes without new sealing",
        "map": "Change per H3 cell",
        "map_intro": (
            "Each area is an H3 cell the privacy gate published in both the baseline and the scenario. Pale, larger "
            "cells are small remainders merged into a coarser cell. Outlined in black: the measures, numbered as in "
            "the list above."
        ),
        "interactive": "Interactive map",
        "interactive_hint": "Drag: pan · Wheel or +/−: zoom · Arrow keys when the map has focus",
        "metric": "Indicator",
        "static_maps": "Maps per indicator",
        "cell": "H3 cell",
        "metric_persons": "Persons per cell",
        "metric_walk": "Mean walk to: {facility}",
        "legend": "Legend",
        "walk_classes": "much shorter|shorter|hardly changed|longer|much longer",
        "persons_classes": "many more|more|hardly changed|fewer|many fewer",
        "no_comparison": "no comparison (cell published only in the scenario)",
        "coarse": "pale: coarser cell (merged remainder)",
        "measure_outline": "Measure",
        "no_change_anywhere": "No cell's walks change; shown are the persons per cell.",
        "kpis": "Access per persona",
        "kpi_intro": (
            "For every persona and each of its needs, for the existing residents: baseline (today), scenario and the "
            "change under the new facilities. Green means better (shorter walks, more within reach, more places), "
            "red worse; changes within the tolerance count as unchanged."
        ),
        "all_persons": "Everyone",
        "need": "Need",
        "indicator": "Indicator",
        "baseline": "Baseline (today)",
        "scenario": "Scenario",
        "change": "Change",
        "need_limit": "{facility} ≤ {distance} m",
        "hazard": "In the hazard area",
        "green": "Green space per resident",
        "m2_per_resident": "m² per resident",
        "households": "Households",
        "persons": "Persons",
        "persona": "Persona",
        "outlook": "Demand outlook (persons)",
        "outlook_when": "When",
        "outlook_now": "today",
        "outlook_year": "in {n} y",
        "outlook_kita_0_5": "age 0–5 (childcare)",
        "outlook_primary_6_9": "age 6–9 (primary school)",
        "outlook_care_80_plus": "80+ (care)",
        "outlook_persons": "all persons",
        "outlook_history": (
            "Rates for {rates}, fitted to the statistics of {town}: births ×{fertility} ({fertility_years}), deaths "
            "×{mortality} ({mortality_years}); migration by age from the years {migration_years}: mean of {window} "
            "years, damped ×{damping} a year, {replacement} % of births and deaths offset by moves."
        ),
        "outlook_prior": (
            "Rates for {rates}, the town has no statistics of its own here; net migration assumed at {rate} % of the "
            "residents a year."
        ),
        "outlook_flows": "In the first year: {births} births, {deaths} deaths, net migration {migration}.",
        "docs": "The indicators",
        "doc_static_maps": (
            "Per cell: the change of persons, and of the mean walk of a published cell's households to the nearest "
            "facility of the type (in m)."
        ),
        "doc_hazard": "Households and persons whose home lies in the drawn hazard area.",
        "doc_green": (
            "Public green (parks, public gardens, playgrounds) per resident within {reach} m of walking: each area "
            "shared by everyone who reaches it, summed per home (the walk to a point of its outline, like every walk "
            "of the twin); existing residents before and after, newcomers after."
        ),
        "residents": "existing residents",
        "group": "group",
        "doc_sealed_m2": (
            "Newly sealed: the footprints of new quarters (site coverage times area) and 10 % of the area for paths "
            "and access, less the land built over there already; added storeys seal nothing."
        ),
        "doc_outlook": (
            "Persons of the age groups year by year by the cohort-component method: births, deaths and migration by "
            "age. The rates for Germany are fitted to the town's births and deaths and its migration is estimated "
            "from its statistics where the town publishes them; otherwise the rates for Germany and an assumed "
            "migration apply (the line below the table says which)."
        ),
        "method": "Distances",
        "method_network": "walking over the path network.",
        "method_other": "straight line times a detour factor.",
        "privacy": "Privacy",
        "privacy_removal_whole_units": (
            "Demolition (measure {measure}): acts on whole units; {units} unit(s) removed, {kept} only partly covered "
            "left as they are."
        ),
        "privacy_hazard_whole_units": (
            "Hazard area (measure {measure}): counts whole units; {units} unit(s) affected, {kept} only partly "
            "touched not counted."
        ),
        "privacy_hazard_area_too_small": (
            "Hazard area (measure {measure}): too few residents for a figure; the area is not evaluated."
        ),
        "privacy_flood_whole_units": (
            "Flood (measure {measure}): counts whole units; {units} unit(s) in the water, {kept} only partly touched "
            "not counted."
        ),
        "privacy_flood_area_too_small": (
            "Flood (measure {measure}): too few residents in the water for a figure; not evaluated."
        ),
        "privacy_text": (
            "The population is synthetic: generated from official statistics, no real persons. Every figure in this "
            "report has passed the privacy gate: figures are sums of published units of at least {min_persons} "
            "persons and {min_households} households, groups under {min_group} households are left out, and every "
            "unit carries slight, fixed noise. Area measures (demolition, hazard areas) act on whole units; areas too "
            "small get no figure. Small differences are therefore not meaningful."
        ),
        "no_data": "not given",
        "footer": "Made on {when} with twin3d {version}. The file loads nothing: data, design {what}.",
        "footer_deck": "and the map library deck.gl{version} are embedded",
        "footer_svg": "and maps are embedded",
        "licences": "Licences of the embedded map library",
        "area_ha": "{ha} ha",
        "dwellings": "{n} dwellings on {storeys} storeys",
        "storeys_coverage": "{storeys} storeys on {coverage} % of the area",
        "storeys_on": "{storeys} storey(s) on {n} building(s)",
        "occupancy": "{share} % occupied",
        "mix_new_build": "new build (typical first occupants)",
        "mix_like": "households like in {district}",
        "places": "{n} places",
        "buildings": "{n} buildings",
        "years": "{n} years",
    },
}

FACILITIES: dict[str, dict[str, str]] = {
    "de": {
        "kita": "Kita",
        "school": "Schule",
        "care_home": "Pflegeheim",
        "stop": "Haltestelle",
        "park": "Park",
        "green": "Grünfläche",
        "playground": "Spielplatz",
        "doctor": "Arztpraxis",
        "pharmacy": "Apotheke",
        "supermarket": "Supermarkt",
        "sports": "Sportstätte",
        "culture": "Kulturangebot",
    },
    "en": {
        "kita": "childcare (Kita)",
        "school": "school",
        "care_home": "care home",
        "stop": "public transport stop",
        "park": "park",
        "green": "green space",
        "playground": "playground",
        "doctor": "doctor",
        "pharmacy": "pharmacy",
        "supermarket": "supermarket",
        "sports": "sports facility",
        "culture": "culture",
    },
}

MEASURES: dict[str, dict[str, str]] = {
    "de": {
        "new_housing": "Wohnquartier",
        "add_facility": "Neue Einrichtung",
        "remove_facility": "Schließung",
        "remove_buildings": "Abriss",
        "add_storeys": "Aufstockung",
        "green_space": "Grünfläche",
        "hazard": "Gefahrenbereich",
        "flood": "Hochwasser",
        "flood_wall": "Schutzmauer",
        "projection": "Vorausschau",
        "planned_building": "Geplantes Gebäude",
        "add_road": "Neue Straße",
        "close_road": "Straßensperrung",
        "landmark": "Hochpunkt",
        "noise_map": "Lärmkarte",
    },
    "en": {
        "new_housing": "Housing quarter",
        "add_facility": "New facility",
        "remove_facility": "Closure",
        "remove_buildings": "Demolition",
        "add_storeys": "Added storeys",
        "green_space": "Green space",
        "hazard": "Hazard area",
        "flood": "Flood",
        "flood_wall": "Protective wall",
        "planned_building": "Planned building",
        "add_road": "New road",
        "close_road": "Road closure",
        "landmark": "High point",
        "noise_map": "Noise map",
        "projection": "Projection",
    },
}

HAZARDS: dict[str, dict[str, str]] = {
    "de": {"flood": "Hochwasser", "heavy_rain": "Starkregen", "heat": "Hitze", "other": "Sonstige"},
    "en": {"flood": "Flood", "heavy_rain": "Heavy rain", "heat": "Heat", "other": "Other"},
}

# Per KPI row: label and unit, per language. The change of a share is in percentage points.
KPI_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "de": {
        "persons": ("Personen", ""),
        "mean_distance_m": ("Ø Weg", "m"),
        "median_distance_m": ("Median-Weg", "m"),
        "coverage_share": ("Im Radius", "%"),
        "supply_per_demand": ("Plätze je 100 Personen", ""),
    },
    "en": {
        "persons": ("Persons", ""),
        "mean_distance_m": ("Mean walk", "m"),
        "median_distance_m": ("Median walk", "m"),
        "coverage_share": ("Within reach", "%"),
        "supply_per_demand": ("Places per 100 persons", ""),
    },
}
POINTS = {"de": "Pp.", "en": "pp"}

INDICATOR_DOCS_DE: dict[str, str] = {
    "persons": "Personen in den Haushalten der Gruppe.",
    "max_distance_m": "Die maximale Wegstrecke der Persona zu dieser Einrichtungsart (pipelines/personas.toml).",
    "mean_distance_m": "Mittlerer Fußweg je Person von der Wohnung zur nächsten Einrichtung der Art.",
    "median_distance_m": "Median des Fußwegs je Person von der Wohnung zur nächsten Einrichtung der Art.",
    "coverage_share": (
        "Anteil der Personen, deren Persona die Einrichtungsart braucht und deren Wohnung höchstens die maximale "
        "Wegstrecke der Persona von einer solchen Einrichtung entfernt liegt."
    ),
    "supply_per_demand": (
        "Plätze je Person der Bedarfsgruppe nach der Zwei-Stufen-Einzugsgebietsmethode (2SFCA, Luo & Wang 2003): "
        "die Kapazität jeder Einrichtung geteilt durch die Nachfrage in ihrem Einzugsgebiet, summiert über die "
        "Einrichtungen, in deren Einzugsgebiet die Wohnung liegt, gemittelt über die Nachfrage der Gruppe."
    ),
}


def facility_label(ftype: str, lang: str) -> str:
    """A facility type's name in the language; the id where it has none."""
    return FACILITIES[lang].get(ftype, ftype)


def format_number(value: float | None, digits: int = 0, lang: str = "de") -> str:
    """``value`` with thousands separators in the language's style; the 'no data' word for None or NaN."""
    if value is None or not math.isfinite(value):
        return TEXTS[lang]["no_data"]
    text = f"{value:,.{digits}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "de" else text


def format_change(value: float | None, digits: int = 0, lang: str = "de") -> str:
    """A change with its sign: ``+3,0``, ``\u221222`` (a real minus sign), ``±0`` where it rounds to nothing."""
    if value is None or not math.isfinite(value):
        return TEXTS[lang]["no_data"]
    rounded = round(value, digits)
    if rounded == 0:
        return "±0"
    return ("+" if rounded > 0 else "\u2212") + format_number(abs(rounded), digits, lang)


VERDICT_TEXTS: dict[str, dict[str, Any]] = {
    "de": {
        "title": "Wer verliert am meisten – und warum",
        "gaps": (
            "Diesem Zwilling fehlen Einrichtungsdaten für: {types}. Erreichbarkeit dorthin ist heute nicht bewertbar "
            "(keine Angabe statt 0 %); was das Szenario hinzufügt, wird gezeigt."
        ),
        "edge": (
            "Rand der Daten: Diese Anteile der Einwohner wohnen näher am Rand der Einrichtungsdaten als an der "
            "nächsten Einrichtung; eine Einrichtung jenseits des Rands könnte näher sein, ihre Wege sind womöglich "
            "überschätzt: {types}."
        ),
        "gains": "Wer gewinnt",
        "no_losses": "Keine Gruppe der bisherigen Bewohnerschaft verliert über die Toleranz hinaus.",
        "line": "{who}, {facility}: {indicator} {before} → {after} ({change})",
        "because": "wegen: {why}",
        "unchanged": "{n} von {of} Vergleichen der bisherigen Bewohnerschaft sind unverändert.",
        "tolerance": "Unverändert heißt: höchstens {m} m Weg, {pp} Prozentpunkte Abdeckung, {places} Plätze je 100.",
        "newcomers": "Neu Zugezogene (nur Szenario)",
        "persona": "Persona",
        "indicators": {
            "mean_distance_m": "Ø Weg (m)",
            "median_distance_m": "Median-Weg (m)",
            "coverage_share": "im Radius (%)",
            "supply_per_demand": "Plätze je 100 Personen",
            "green_m2": "m² Grün je Einwohner",
        },
        "causes": {
            "facility_closed": "Einrichtung geschlossen",
            "facility_added": "neue Einrichtung",
            "green_added": "neue Grünfläche",
            "newcomers": "Zuzug in neue Wohnungen",
            "homes_removed": "Wohnungen entfallen",
            "flood": "Hochwasser (Einrichtungen und Wege unter Wasser)",
        },
    },
    "en": {
        "title": "Who loses most – and why",
        "gaps": (
            "This twin has no facility data for: {types}. Access to them cannot be judged today (not given rather "
            "than 0 %); what the scenario adds is shown."
        ),
        "edge": (
            "Edge of the data: these shares of the residents live nearer to the edge of the facility data than to "
            "their nearest facility; one beyond the edge could be nearer, so their walks may be overstated: {types}."
        ),
        "gains": "Who gains",
        "no_losses": "No group of the existing residents loses beyond the tolerance.",
        "line": "{who}, {facility}: {indicator} {before} → {after} ({change})",
        "because": "because of: {why}",
        "unchanged": "{n} of {of} comparisons of the existing residents are unchanged.",
        "tolerance": (
            "Unchanged means: at most {m} m of walk, {pp} percentage points of coverage, {places} places per 100."
        ),
        "newcomers": "Newcomers (scenario only)",
        "persona": "Persona",
        "indicators": {
            "mean_distance_m": "mean walk (m)",
            "median_distance_m": "median walk (m)",
            "coverage_share": "within reach (%)",
            "supply_per_demand": "places per 100 persons",
            "green_m2": "m² of green per resident",
        },
        "causes": {
            "facility_closed": "a facility closed",
            "facility_added": "a new facility",
            "green_added": "a new green space",
            "newcomers": "newcomers in new homes",
            "homes_removed": "homes removed",
            "flood": "flood (facilities and paths under water)",
        },
    },
}
"""Texts of the verdicts (:mod:`twin3d.simulation.report_verdicts`)."""


def outlook_method_text(outlook: dict[str, Any], lang: str) -> str:
    """What the outlook projected with (the result's ``method`` and first year's ``flows``), as one paragraph of plain
    text; empty for a result without them."""
    tx, method, flows = TEXTS[lang], outlook.get("method") or {}, outlook.get("flows") or {}
    parts = []

    def number(value: float, digits: int) -> str:
        return format_number(value, digits, lang)

    def span(years: list[int]) -> str:
        return "-".join(map(str, years))

    if method.get("migration") == "history":
        parts.append(
            tx["outlook_history"].format(
                rates=method["rates"],
                town=method["calibrated_on"],
                fertility=number(method["fertility_scale"], 2),
                fertility_years=span(method["fertility_years"]),
                mortality=number(method["mortality_scale"], 2),
                mortality_years=span(method["mortality_years"]),
                migration_years=span(method["migration_years"]),
                window=method["migration_window"],
                damping=number(method["migration_damping"], 2),
                replacement=number(100 * method["migration_replacement"], 0),
            )
        )
    elif method.get("migration") == "prior":
        parts.append(tx["outlook_prior"].format(rates=method["rates"], rate=number(100 * method["migration_rate"], 1)))
    if flows.get("births"):
        parts.append(
            tx["outlook_flows"].format(
                births=number(flows["births"][0], 0),
                deaths=number(flows["deaths"][0], 0),
                migration=number(flows["net_migration"][0], 0),
            )
        )
    return " ".join(parts)
