// Every request goes to the server this page came from (relative URLs only).

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body.error) message = body.error;
    } catch {
      // not JSON: keep the status line
    }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

export const api = {
  twins: () => getJson("/api/twins"),
  layer: (url) => getJson(url),
  buildingAt: (twin, lon, lat) =>
    getJson(`/api/twins/${encodeURIComponent(twin)}/buildings/at?lon=${lon.toFixed(8)}&lat=${lat.toFixed(8)}`),
};
