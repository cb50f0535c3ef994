// The texts of scenario_library.js in German and English.

export default {
  de: {
    libraryTitle: "Gespeicherte Szenarien",
    libraryEmpty: "Noch keine gespeicherten Szenarien.",
    libraryOpen: "Öffnen",
    libraryOpenOf: "Szenario {name} öffnen",
    libraryVersion: "Version {n}",
    visibilityLabel: "Szenario freigeben für",
    vis_public: "alle",
    vis_council: "Rat",
    vis_admin: "Verwaltung",
    againstLabel: "Verglichen mit",
    againstBaseline: "heute (Basis)",
    againstNote: "Verglichen mit dem Szenario „{name}“: Basis heißt hier dieses Szenario.",
  },
  en: {
    libraryTitle: "Saved scenarios",
    libraryEmpty: "No saved scenarios yet.",
    libraryOpen: "Open",
    libraryOpenOf: "Open scenario {name}",
    libraryVersion: "version {n}",
    visibilityLabel: "Share the scenario with",
    vis_public: "everyone",
    vis_council: "council",
    vis_admin: "administration",
    againstLabel: "Compared with",
    againstBaseline: "today (baseline)",
    againstNote: "Compared with the scenario “{name}”: baseline means that scenario here.",
  },
};
