// The phone layout (bottom_sheet.js: the sheet's handle, the touch hint) and the fixes of issue 19 that came with
// it: distinct names for the moderation buttons, choices that must be made (topic, report reason), the sign-in help.

export default {
  de: {
    sheet_peek: "Seitenleiste: eingeklappt. Tippen zum Aufziehen",
    sheet_half: "Seitenleiste: halb offen. Tippen zum Vergrößern",
    sheet_full: "Seitenleiste: ganz offen. Tippen zum Einklappen",
    sheetHandleHint: "Ziehen, tippen oder Pfeiltasten: Höhe der Seitenleiste ändern",
    mapHintTouch: "Ein Finger: verschieben · Zwei Finger: zoomen (spreizen), drehen, neigen (gemeinsam hoch oder runter ziehen)",
    mapHintTouchShort: "Wischen: verschieben · Zwei Finger: zoomen, drehen, neigen",
    mapHintClose: "Hinweis schließen",
    modHidePlace: "Ort verbergen",
    modShowPlace: "Ort zeigen",
    modHideComment: "Kommentar verbergen",
    modShowComment: "Kommentar zeigen",
    pleaseChoose: "Bitte wählen",
    needTopic: "Bitte wählen Sie ein Thema.",
    attributionLabel: "Quellen und Lizenzen der Karte",
    needReportReason: "Bitte wählen Sie einen Grund für die Meldung.",
    tokenHelp:
      "Bürgerinnen und Bürger brauchen kein Token. Rat und Verwaltung bekommen ihres von der Verwaltung des Zwillings (Befehl „twin3d users add NAME --role council“ oder „--role admin“).",
  },
  en: {
    sheet_peek: "Sidebar: collapsed. Tap to pull it up",
    sheet_half: "Sidebar: half open. Tap to enlarge",
    sheet_full: "Sidebar: fully open. Tap to collapse",
    sheetHandleHint: "Drag, tap or arrow keys: change the sidebar's height",
    mapHintTouch: "One finger: pan · Two fingers: zoom (pinch), rotate, tilt (drag up or down together)",
    mapHintTouchShort: "Swipe: pan · Two fingers: zoom, rotate, tilt",
    mapHintClose: "Close the hint",
    modHidePlace: "Hide place",
    modShowPlace: "Show place",
    modHideComment: "Hide comment",
    modShowComment: "Show comment",
    pleaseChoose: "Please choose",
    needTopic: "Please choose a topic.",
    attributionLabel: "Sources and licences of the map",
    needReportReason: "Please choose a reason for the report.",
    tokenHelp:
      "Citizens need no token. The council and the administration get theirs from the twin's administration (command “twin3d users add NAME --role council” or “--role admin”).",
  },
};
