// The texts of names.js in German and English.

export default {
  de: {
    src_osm: "OpenStreetMap",
    src_alkis: "ALKIS (Liegenschaftskataster)",
    src_cityjson: "3D-Stadtmodell (CityJSON)",
    src_citygml: "3D-Stadtmodell (CityGML)",
    src_footprints: "Gebäudegrundrisse",
  },
  en: {
    src_osm: "OpenStreetMap",
    src_alkis: "ALKIS (official cadastre)",
    src_cityjson: "3D city model (CityJSON)",
    src_citygml: "3D city model (CityGML)",
    src_footprints: "Building footprints",
  },
};
