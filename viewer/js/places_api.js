// Requests of the citizens' places (pins, votes, comments, reports), the moderation and the representation lens.
// Relative URLs only. A council or administration bearer token (api.js) goes with every request; writing as a
// citizen needs the anonymous participant token, which is kept per twin in localStorage (it names no person).

import { authHeaders } from "./api.js";

const PARTICIPANT_KEY = "twin3dParticipant:";
const base = (twin) => `/api/twins/${encodeURIComponent(twin)}`;

// A failed response as an Error with `status`, the server's `body`, and `fields` ({field: message}) for a 422.
async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON
  }
  const fields = {};
  let message = body?.error ?? `${response.status} ${response.statusText}`;
  if (Array.isArray(body?.detail)) {
    for (const item of body.detail) {
      const loc = (item.loc ?? []).filter((p) => p !== "body");
      const field = loc.length ? String(loc[0]) : "body";
      fields[field] = fields[field] ? `${fields[field]} · ${item.msg}` : item.msg;
    }
    message = body.detail.map((d) => d.msg).join(" · ");
  } else if (body?.record) {
    fields[String(body.record).split(".")[0]] = body.error;
  }
  const error = new Error(message);
  Object.assign(error, { status: response.status, body, fields, hint: body?.hint ?? null });
  return error;
}

async function request(method, url, { body, participant } = {}) {
  const headers = { Accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (participant) headers["X-Participant-Token"] = participant;
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

function storedParticipant(twin) {
  try {
    return localStorage.getItem(PARTICIPANT_KEY + twin);
  } catch {
    return null;
  }
}

function keepParticipant(twin, token) {
  try {
    if (token) localStorage.setItem(PARTICIPANT_KEY + twin, token);
    else localStorage.removeItem(PARTICIPANT_KEY + twin);
  } catch {
    // storage blocked: the token lives as long as the page
  }
}

const memory = new Map(); // twin -> token, where storage is blocked

async function participant(twin, fresh = false) {
  let token = fresh ? null : (storedParticipant(twin) ?? memory.get(twin) ?? null);
  if (!token) {
    token = (await request("POST", `${base(twin)}/participants`)).token;
    keepParticipant(twin, token);
    memory.set(twin, token);
  }
  return token;
}

// A citizen's write: with the participant token; a token the server no longer knows is replaced once.
async function write(twin, url, body) {
  try {
    return await request("POST", url, { body, participant: await participant(twin) });
  } catch (error) {
    if (error.status !== 401 || error.body?.record !== "X-Participant-Token") throw error;
    return request("POST", url, { body, participant: await participant(twin, true) });
  }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const placesApi = {
  config: (twin) => request("GET", `${base(twin)}/places/config`),
  // {bbox: [w, s, e, n], zoom, kind, category, sort, limit, offset, status: [...]}
  list: (twin, { bbox, ...rest } = {}) =>
    request("GET", `${base(twin)}/places${query({ bbox: bbox?.map((v) => v.toFixed(6)).join(","), ...rest })}`),
  place: (twin, id) => request("GET", `${base(twin)}/places/${id}`),
  submit: (twin, place) => write(twin, `${base(twin)}/places`, place),
  vote: (twin, id, value) => write(twin, `${base(twin)}/places/${id}/votes`, { value }),
  comments: (twin, id) => request("GET", `${base(twin)}/places/${id}/comments`),
  comment: (twin, id, text, parentId = null) =>
    write(twin, `${base(twin)}/places/${id}/comments`, parentId ? { text, parent_id: parentId } : { text }),
  report: (twin, id, reason, text, commentId = null) =>
    write(twin, `${base(twin)}/places/${id}/reports`, commentId ? { reason, text, comment_id: commentId } : { reason, text }),
  lens: (twin) => request("GET", `${base(twin)}/lens`),
  building: (twin, id) => request("GET", `${base(twin)}/buildings/${id.split("/").map(encodeURIComponent).join("/")}`),
  // the administration
  queue: (twin) => request("GET", `${base(twin)}/moderation/queue`),
  moderate: (twin, id, decision, commentId = null) =>
    request("POST", `${base(twin)}/places/${id}${commentId ? `/comments/${commentId}` : ""}/moderation`, { body: decision }),
  remarks: (twin, id) => request("GET", `${base(twin)}/places/${id}/remarks`),
  addRemark: (twin, id, text) => request("POST", `${base(twin)}/places/${id}/remarks`, { body: { text } }),
};
