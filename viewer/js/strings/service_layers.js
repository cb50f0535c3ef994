// The texts of service_layers.js in German and English.

export default {
  de: {
    kindService: "Kartendienst",
    serviceFrom: "Quelle: {kind} {host}, Ebene „{layer}“",
    serviceLegendOf: "Legende des Kartendienstes für {title}",
    serviceKind_wms: "WMS",
    serviceKind_wmts: "WMTS",
    serviceKind_wfs: "WFS",
    serviceKind_oapif: "OGC API Features",
  },
  en: {
    kindService: "Map service",
    serviceFrom: "Source: {kind} {host}, layer “{layer}”",
    serviceLegendOf: "Legend of the map service for {title}",
    serviceKind_wms: "WMS",
    serviceKind_wmts: "WMTS",
    serviceKind_wfs: "WFS",
    serviceKind_oapif: "OGC API Features",
  },
};
