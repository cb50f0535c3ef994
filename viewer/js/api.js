// Every request goes to the server this page came from (relative URLs only).

// The bearer token of a council or administration user, kept for this browser tab only and sent with every
// request, so what the server returns matches the user's role. Without one the viewer is public.
const TOKEN_KEY = "twin3dToken";

export function authToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || null;
  } catch {
    return null; // storage blocked (privacy mode): public
  }
}

export function setAuthToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage blocked: the token is not kept
  }
  // Panels that depend on the role (the moderation view) listen for this.
  globalThis.dispatchEvent?.(new CustomEvent("twin3d-auth", { detail: { signedIn: Boolean(token) } }));
}

export function authHeaders(token = authToken()) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

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
  const response = await fetch(url, { headers: { Accept: "application/json", ...authHeaders() } });
  if (!response.ok) throw await failure(response);
  return response.json();
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// Newline-delimited JSON, one object per line (the population cells).
async function getNdjson(url) {
  const response = await fetch(url, { headers: { Accept: "application/x-ndjson", ...authHeaders() } });
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
  scenarioReportUrl: (twin, id) => `${twinUrl(twin)}/scenarios/${encodeURIComponent(id)}/report.html`,
  saveScenario: (twin, spec) => postJson(`${twinUrl(twin)}/scenarios`, spec),
  scenarios: (twin) => getJson(`${twinUrl(twin)}/scenarios`),
  scenario: (twin, id) => getJson(`${twinUrl(twin)}/scenarios/${encodeURIComponent(id)}`),
  scenarioResults: (twin, id) => getJson(`${twinUrl(twin)}/scenarios/${encodeURIComponent(id)}/results`),
  catalogue: (twin) => getJson(`${twinUrl(twin)}/layers`),
  // The catalogue as a given token would see it: checks a token before it is kept.
  catalogueWith: async (twin, token) => {
    const response = await fetch(`${twinUrl(twin)}/layers`, { headers: { Accept: "application/json", ...authHeaders(token) } });
    if (!response.ok) throw await failure(response);
    return response.json();
  },
  scenarioCells: (twin, id) => getJson(`${twinUrl(twin)}/scenarios/${encodeURIComponent(id)}/results.geojson`),
};
