// The texts of scenario_results.js in German and English.

export default {
  de: {
    dataEdge: "Rand der Daten: Diese Anteile der Einwohner wohnen näher am Rand der Einrichtungsdaten als an der nächsten Einrichtung; eine Einrichtung jenseits des Rands könnte näher sein, ihre Wege sind womöglich überschätzt: {types}.",
    greenNote: "Öffentliche Grünflächen ({n}) innerhalb von {reach} m Fußweg, geteilt durch alle, die sie erreichen; unverändert heißt höchstens {tolerance} m² Unterschied.",
    greenGap: "Diesem Zwilling fehlen Daten zu öffentlichen Grünflächen: Grünfläche je Einwohner ist nicht bewertbar, auch nicht für neu gezeichnete Flächen (kein Vergleich mit 0 m²).",
    outlookHistory: "Kohorten-Komponenten-Methode, angepasst an die Statistik von {town}: Geburten, Sterbefälle und Wanderung nach Alter ({years}).",
    outlookPrior: "Kohorten-Komponenten-Methode mit Raten für {rates}, ohne eigene Statistik der Stadt; Wanderung angenommen mit {rate} % der Einwohner je Jahr.",
    outlookFlows: "Im ersten Jahr: {births} Geburten, {deaths} Sterbefälle, Wanderungssaldo {migration}.",
    colGroup: "Gruppe",
    groupResidents: "bisherige Bewohner",
    groupNewcomers: "Zugezogene",
  },
  en: {
    dataEdge: "Edge of the data: these shares of the residents live nearer to the edge of the facility data than to their nearest facility; one beyond the edge could be nearer, so their walks may be overstated: {types}.",
    greenNote: "Public green areas ({n}) within {reach} m of walking, shared by everyone who reaches them; unchanged means at most {tolerance} m² apart.",
    greenGap: "This twin has no data on public green space: green space per resident cannot be judged, not even for newly drawn areas (no comparison with 0 m²).",
    outlookHistory: "Cohort-component method fitted to the statistics of {town}: births, deaths and migration by age ({years}).",
    outlookPrior: "Cohort-component method with rates for {rates}, the town has no statistics of its own here; net migration assumed at {rate} % of the residents a year.",
    outlookFlows: "In the first year: {births} births, {deaths} deaths, net migration {migration}.",
    colGroup: "Group",
    groupResidents: "existing residents",
    groupNewcomers: "newcomers",
  },
};
