// The texts of basemap.js in German and English.

export default {
  de: { layerBasemap: "Grundkarte" },
  en: { layerBasemap: "Basemap" },
};
