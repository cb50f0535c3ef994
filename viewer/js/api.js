// Every request goes to the server this page came from (relative URLs only).

// A failed response as an Error with `status` and, when the server sent JSON, its `body`.
async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  let body = null;
  try {
    body = await response.json();
    if (body.error) message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  const error = new Error(message);
  error.status = response.status;
  error.body = body;
  return error;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw await failure(response);
  return response.json();
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// Newline-delimited JSON, one object per line (the population cells).
async function getNdjson(url) {
  const response = await fetch(url, { headers: { Accept: "application/x-ndjson" } });
  if (!response.ok) {
    const error = new Error(`${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  const text = await response.text();
  return text.split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line));
}

const twinUrl = (twin) => `/api/twins/${encodeURIComponent(twin)}`;

export const api = {
  twins: () => getJson("/api/twins"),
  layer: (url) => getJson(url),
  buildingAt: (twin, lon, lat) =>
    getJson(`/api/twins/${encodeURIComponent(twin)}/buildings/at?lon=${lon.toFixed(8)}&lat=${lat.toFixed(8)}`),
  personas: (twin) => getJson(`${twinUrl(twin)}/personas`),
  populationSummary: (twin) => getJson(`${twinUrl(twin)}/population/summary`),
  populationCells: (twin, persona, resolution) =>
    getNdjson(
      `${twinUrl(twin)}/population/h3?resolution=${resolution}&persona=${encodeURIComponent(persona)}&geometry=true`,
    ),
  populationReportUrl: (twin) => `${twinUrl(twin)}/population/report.html`,
  saveScenario: (twin, spec) => postJson(`${twinUrl(twin)}/scenarios`, spec),
  scenarios: (twin) => getJson(`${twinUrl(twin)}/scenarios`),
  scenario: (twin, id) => getJson(`${twinUrl(twin)}/scenarios/${encodeURIComponent(id)}`),
  scenarioResults: (twin, id) => getJson(`${twinUrl(twin)}/scenarios/${encodeURIComponent(id)}/results`),
};
