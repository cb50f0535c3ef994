// Requests of the citizens' proposals (ideas): listing, one proposal, its simulated effects, votes, comments,
// reports, and the administration's moderation, stage changes and official scenario. Proposals share their ids,
// votes, comments and moderation with the places (twin3d/participation), so the request helpers, the
// participant token and the error shape are those of places_api.js. Relative URLs only.

import { placesApi, query, request, write } from "./places_api.js";

const base = (twin) => `/api/twins/${encodeURIComponent(twin)}`;
const one = (twin, id) => `${base(twin)}/proposals/${encodeURIComponent(id)}`;

export const proposalsApi = {
  // categories (= topics), stages, age bands, households, report reasons (GET /places/config)
  config: (twin) => placesApi.config(twin),
  ensureParticipant: (twin) => placesApi.ensureParticipant(twin),
  // {bbox: [w, s, e, n], zoom, topic, stage, sort: new|old|top|gainers, limit, offset, status, cluster}
  list: (twin, { bbox, ...rest } = {}) =>
    request("GET", `${base(twin)}/proposals${query({ bbox: bbox?.map((v) => v.toFixed(6)).join(","), ...rest })}`),
  proposal: (twin, id) => request("GET", one(twin, id)),
  // {scenario_id, official, stage, personas: [{persona, name, name_en, verdict, better, worse}], gainers, summary}
  effects: (twin, id) => request("GET", `${one(twin, id)}/effects`),
  submit: (twin, proposal) => write(twin, `${base(twin)}/proposals`, proposal),
  // the same bodies and answers as the places' (places_item.js calls these through ctx.api)
  vote: (twin, id, value) => write(twin, `${one(twin, id)}/votes`, { value }),
  comments: (twin, id) => request("GET", `${one(twin, id)}/comments`),
  comment: (twin, id, text, parentId = null) =>
    write(twin, `${one(twin, id)}/comments`, parentId ? { text, parent_id: parentId } : { text }),
  report: (twin, id, reason, text, commentId = null) =>
    write(twin, `${one(twin, id)}/reports`, commentId ? { reason, text, comment_id: commentId } : { reason, text }),
  // the administration
  moderate: (twin, id, decision) => request("POST", `${one(twin, id)}/moderation`, { body: decision }),
  stage: (twin, id, stage, reason) => request("POST", `${one(twin, id)}/stage`, { body: { stage, reason } }),
  attachScenario: (twin, id, scenarioId) =>
    request("POST", `${one(twin, id)}/scenario`, { body: { scenario_id: scenarioId } }),
  scenarios: (twin) => request("GET", `${base(twin)}/scenarios`),
  scenario: (twin, id) => request("GET", `${base(twin)}/scenarios/${encodeURIComponent(id)}`),
};
