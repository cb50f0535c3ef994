// Requests of the citizens' places (pins, votes, comments, reports), the moderation and the representation lens.
// Relative URLs only. A council or administration bearer token (api.js) goes with every request; writing as a
// citizen needs the anonymous participant token, which is kept per twin in localStorage (it names no person).
// A workshop code, entered once, gets a token of the workshop's quota instead (and the workshop's name is kept).

import { authHeaders } from "./api.js";
import { currentLang } from "./i18n.js";

const PARTICIPANT_KEY = "twin3dParticipant:";
const WORKSHOP_KEY = "twin3dWorkshop:";
const base = (twin) => `/api/twins/${encodeURIComponent(twin)}`;

// A failed response as an Error with `status`, the server's `body`, `reason` (a refusal's stable key) and `fields`
// ({field: message}) for a 422. Refusals a citizen can meet come with `message: {de, en}`: the page's language wins.
async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON
  }
  const fields = {};
  const localized = body?.message?.[currentLang()] ?? body?.message?.de;
  let message = localized ?? body?.error ?? `${response.status} ${response.statusText}`;
  if (Array.isArray(body?.detail)) {
    for (const item of body.detail) {
      const loc = (item.loc ?? []).filter((p) => p !== "body");
      const field = loc.length ? String(loc[0]) : "body";
      fields[field] = fields[field] ? `${fields[field]} · ${item.msg}` : item.msg;
    }
    message = body.detail.map((d) => d.msg).join(" · ");
  } else if (body?.record) {
    fields[String(body.record).split(".")[0]] = message;
  }
  const error = new Error(message);
  Object.assign(error, { status: response.status, body, fields, hint: body?.hint ?? null, reason: body?.reason ?? null });
  return error;
}

export async function request(method, url, { body, participant } = {}) {
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

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function keep(key, value) {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    // storage blocked: the value lives as long as the page
  }
}

const memory = new Map(); // key -> value, where storage is blocked

function remember(key, value) {
  keep(key, value);
  if (value) memory.set(key, value);
  else memory.delete(key);
}

function recall(key) {
  return stored(key) ?? memory.get(key) ?? null;
}

const asking = new Map(); // twin -> the pending request for a new token (asked once, however many wait for it)

// The participant token of this browser for `twin`: kept, or a new one (which the server may refuse with a 429).
async function participant(twin, fresh = false) {
  const token = fresh ? null : recall(PARTICIPANT_KEY + twin);
  if (token) return token;
  if (!asking.has(twin)) {
    const ask = request("POST", `${base(twin)}/participants`)
      .then((answer) => {
        remember(PARTICIPANT_KEY + twin, answer.token);
        remember(WORKSHOP_KEY + twin, null);
        return answer.token;
      })
      .finally(() => asking.delete(twin));
    asking.set(twin, ask);
  }
  return asking.get(twin);
}

// Join a workshop with its code: a new token of the workshop's quota replaces this browser's token.
async function joinWorkshop(twin, code) {
  const joined = await request("POST", `${base(twin)}/participants`, { body: { workshop_code: code } });
  remember(PARTICIPANT_KEY + twin, joined.token);
  remember(WORKSHOP_KEY + twin, JSON.stringify(joined.workshop));
  return joined.workshop;
}

function workshop(twin) {
  try {
    return JSON.parse(recall(WORKSHOP_KEY + twin) ?? "null");
  } catch {
    return null;
  }
}

// A citizen's write: with the participant token; a token the server no longer knows is replaced once.
export async function write(twin, url, body) {
  try {
    return await request("POST", url, { body, participant: await participant(twin) });
  } catch (error) {
    if (error.status !== 401 || error.body?.record !== "X-Participant-Token") throw error;
    return request("POST", url, { body, participant: await participant(twin, true) });
  }
}

export function query(params) {
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
  // before a citizen starts a contribution: a token, or the server's refusal (in the page's language)
  ensureParticipant: (twin) => participant(twin),
  joinWorkshop,
  workshop,
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
  // the administration
  queue: (twin) => request("GET", `${base(twin)}/moderation/queue`),
  moderate: (twin, id, decision, commentId = null) =>
    request("POST", `${base(twin)}/places/${id}${commentId ? `/comments/${commentId}` : ""}/moderation`, { body: decision }),
  remarks: (twin, id) => request("GET", `${base(twin)}/places/${id}/remarks`),
  addRemark: (twin, id, text) => request("POST", `${base(twin)}/places/${id}/remarks`, { body: { text } }),
};
