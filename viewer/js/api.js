// Every request goes to the server this page came from (relative URLs only).

// The bearer token of a council or administration user, kept for this browser tab only and sent with every
// request, so what the server returns matches the user's role. Without one the viewer is public.
const TOKEN_KEY = "twin3dToken";
let whoamiCache = null; // {token, promise} of whoami()

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
  whoamiCache = null;
  // Panels that depend on the role (the moderation view) listen for this.
  globalThis.dispatchEvent?.(new CustomEvent("twin3d-auth", { detail: { signedIn: Boolean(token) } }));
}

// Who the signed-in token is ({role, user, twins}), asked once per token and shared by the panels; an unknown
// or revoked token answers as the public.

export function whoami() {
  const token = authToken();
  if (!token) return Promise.resolve({ role: "public", user: null, twins: null });
  if (whoamiCache?.token !== token) {
    const promise = getJson("/api/me").catch((error) => {
      if (whoamiCache?.promise === promise) whoamiCache = null;
      if (error.status === 401) return { role: "public", user: null, twins: null };
      throw error;
    });
    whoamiCache = { token, promise };
  }
  return whoamiCache.promise;
}

// Whether the signed-in token is an administrator's in `twin`.
export async function isAdminIn(twin) {
  const me = await whoami();
  return me.role === "admin" && (me.twins === null || me.twins === undefined || me.twins.includes(twin));
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

// A form with a file (multipart); the browser sets the boundary. Errors carry the server's JSON `body`.
async function sendForm(method, url, form) {
  const response = await fetch(url, { method, headers: { Accept: "application/json", ...authHeaders() }, body: form });
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

// POST a form with a file, reporting progress as onProgress(sent, total) (fetch cannot); resolves to the JSON
// answer, rejects like failure() with the server's JSON `body` ({error, hint, record}).
function upload(url, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.responseType = "text";
    if (onProgress) xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded, event.lengthComputable ? event.total : 0));
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const error = new Error(body?.error ?? `${xhr.status} ${xhr.statusText}`);
      Object.assign(error, { status: xhr.status, body });
      reject(error);
    });
    xhr.addEventListener("error", () => reject(new Error(`${url}: network error`)));
    xhr.send(form);
  });
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
  // One building by its id (ids may hold "/", e.g. OSM's "way/123": each part is encoded, the slashes stay).
  building: (twin, id) => getJson(`${twinUrl(twin)}/buildings/${id.split("/").map(encodeURIComponent).join("/")}`),
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
  scenarioResults: (twin, id, against = null) =>
    getJson(`${twinUrl(twin)}/scenarios/${encodeURIComponent(id)}/results${against ? `?against=${against}` : ""}`),
  catalogue: (twin) => getJson(`${twinUrl(twin)}/layers`),
  // The catalogue as a given token would see it: checks a token before it is kept.
  catalogueWith: async (twin, token) => {
    const response = await fetch(`${twinUrl(twin)}/layers`, { headers: { Accept: "application/json", ...authHeaders(token) } });
    if (!response.ok) throw await failure(response);
    return response.json();
  },
  uploadLayer: (twin, form, onProgress) => upload(`${twinUrl(twin)}/layers`, form, onProgress),
  deleteLayer: (twin, id) => sendForm("DELETE", `${twinUrl(twin)}/layers/${encodeURIComponent(id)}`),
  scenarioCells: (twin, id, against = null) =>
    getJson(`${twinUrl(twin)}/scenarios/${encodeURIComponent(id)}/results.geojson${against ? `?against=${against}` : ""}`),
};
