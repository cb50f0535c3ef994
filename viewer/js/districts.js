// The twin's districts as the panels need them, from the districts layers the viewer has loaded.

// The districts a new quarter's households may be like (the "mix" of a housing measure), per districts layer.
export function districtChoices(twin, layersData) {
  return (twin?.layers ?? [])
    .filter((l) => l.kind === "districts" && layersData[l.id])
    .map((l) => ({
      title: l.title,
      districts: layersData[l.id].features.map((f) => ({
        value: `like:${f.properties.district_id}`,
        name: f.properties.name ?? f.properties.code,
      })),
    }));
}

// Every loaded district's outline and name (a place's district is named after the outline it lies in).
export function districtShapes(layersData) {
  return Object.entries(layersData)
    .filter(([id]) => id.startsWith("districts:"))
    .flatMap(([, data]) => data.features.map((f) => ({ geometry: f.geometry, name: f.properties.name ?? f.properties.code })));
}
