// The scenario's measures as a list of small forms: one item per measure with its title, a remove button and
// the fields of its kind, each with the error the server named for it. Text is set with textContent only.

import { formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";
import { FACILITY_TYPES, FIELDS, HAZARDS, areaHa, parseNumber } from "./scenario_model.js";
import { INFILL_FIELDS, planOptions } from "./scenario_infill.js";
import { layerErrorText } from "./scenario_planning_tools.js";

const ERROR_KEYS = {
  greater_than_equal: ["err_ge", "ge"],
  greater_than: ["err_gt", "gt"],
  less_than_equal: ["err_le", "le"],
  less_than: ["err_lt", "lt"],
  int_type: ["err_int"],
  int_parsing: ["err_int"],
  int_from_float: ["err_int"],
  float_type: ["err_number"],
  float_parsing: ["err_number"],
  missing: ["err_required"],
  string_too_short: ["err_short"],
  string_too_long: ["err_long"],
  too_short: ["err_noMeasures"],
};

// An error from the server in the page's language where its type is known, else as the server said it.
export function errorText(error) {
  const [key, ctxName] = ERROR_KEYS[error.type] ?? [];
  if (!key || (error.field !== "measures" && key === "err_noMeasures")) return layerErrorText(error) ?? error.message;
  return t(key, { v: ctxName ? formatNumber(error.ctx[ctxName], 2) : "" });
}

// One measure's item; ctx: {errorFor(uid, field), local(measure), districts(), onRemove(uid),
// onEdit({redraw, rerender}), buildings (optional: the planned and removed buildings' tools, scenario_buildings.js),
// planning (optional: roads, high points, noise maps, a hazard's layer; scenario_planning_tools.js)}.
export function measureItem(m, n, ctx) {
  const item = el("li", { class: "measure", "data-kind": m.kind, "data-uid": String(m.uid) });
  const head = el("div", { class: "measure-head" });
  let title = t("measureHeading", { n, kind: t(`m_${m.kind}`) });
  if (m.area) title += ` (${t("areaHa", { ha: formatNumber(areaHa(m.area), 2) })})`;
  if (m.kind === "add_facility") {
    title = t("measureHeading", { n, kind: `${t("m_add_facility")}: ${t(`fac_${m.facility}`)}` });
  }
  if (m.kind === "remove_facility") title += `: ${ctx.local(m)?.name ?? m.facility_id}`;
  if (m.kind === "add_storeys") title += `: ${t("buildingsPicked", { n: m.building_ids.length })}`;
  if (m.kind === "infill" && !m.area) title += ` (${t("infillWholeTwin")})`;
  title += ctx.buildings?.title(m) ?? "";
  title += ctx.planning?.title(m) ?? "";
  const remove = el("button", { type: "button", class: "link" }, t("remove"));
  remove.setAttribute("aria-label", t("removeMeasure", { n }));
  remove.addEventListener("click", () => ctx.onRemove(m.uid));
  head.append(el("span", { class: "measure-title" }, title), remove);
  item.append(head);
  const fields = el("div", { class: "measure-fields" });
  for (const field of FIELDS[m.kind] ?? INFILL_FIELDS[m.kind] ?? ctx.buildings?.fields(m) ?? ctx.planning?.fields(m) ?? []) fields.append(fieldControl(m, field, ctx));
  fields.append(...(ctx.buildings?.extras(m, ctx) ?? []));
  fields.append(...(ctx.planning?.extras(m, ctx) ?? []));
  item.append(fields);
  for (const name of ["area", "location", "facility_id", "kind", "footprint", "model", "building_ids", "line", "road_ids"]) {
    const error = ctx.errorFor(m.uid, name);
    if (error) item.append(el("p", { class: "field-error", role: "alert" }, `${t(`f_${name}`)}: ${error}`));
  }
  return item;
}

function fieldControl(m, field, ctx) {
  const id = `m${m.uid}-${field.name}`;
  const wrap = el("div", { class: field.type === "mix" || field.type === "text" ? "field wide" : "field" });
  const label = el("label", { for: id }, t(`f_${field.name}`));
  let input;
  if (field.type === "int" || field.type === "float") {
    input = el("input", { id, type: "number", inputmode: field.type === "int" ? "numeric" : "decimal" });
    // A share (0-1) is shown and typed as a percentage: planners read "80 %", not "0,8".
    const shown = (v) => (field.percent && typeof v === "number" ? Math.round(v * 100 * 1000) / 1000 : v);
    for (const attr of ["min", "max", "step"]) if (field[attr] !== undefined) input.setAttribute(attr, String(shown(field[attr])));
    input.value = shown(m[field.name]) ?? "";
    input.addEventListener("input", () => {
      const value = parseNumber(input.value);
      m[field.name] = field.percent && typeof value === "number" ? value / 100 : value;
      ctx.onEdit({ redraw: true });
    });
  } else if (field.type === "text") {
    input = el("input", { id, type: "text", maxlength: String(field.maxlength) });
    input.value = m[field.name] ?? "";
    input.addEventListener("input", () => {
      m[field.name] = input.value;
      ctx.onEdit({ redraw: false });
    });
  } else {
    input = el("select", { id });
    const choices = field.type === "choice" ? field.choices.map((v) => el("option", { value: v }, field.label(v))) : null;
    input.append(...(choices ?? options(field.type, m[field.name], ctx.districts())));
    input.value = m[field.name] ?? "";
    input.addEventListener("change", () => {
      m[field.name] = field.type === "plan" ? input.value || null : input.value; // no plan: null, not ""
      // A new facility type renames the measure: its item is drawn anew, with the focus kept on this select.
      ctx.onEdit({ redraw: true, rerender: field.type === "facility" ? id : null });
    });
  }
  wrap.append(label, input);
  const error = ctx.errorFor(m.uid, field.name);
  if (error) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${id}-error`);
    wrap.append(el("p", { class: "field-error", id: `${id}-error` }, error));
  }
  return wrap;
}

function options(type, current, districts) {
  if (type === "facility") return FACILITY_TYPES.map((f) => el("option", { value: f }, t(`fac_${f}`)));
  if (type === "hazard") return HAZARDS.map((h) => el("option", { value: h }, t(`hz_${h}`)));
  if (type === "plan") return planOptions(current);
  // mix: the new-build default, or households like those of one of the twin's districts.
  const options = [el("option", { value: "new_build" }, t("mixNewBuild"))];
  const known = new Set(["new_build"]);
  for (const group of districts) {
    const optgroup = el("optgroup", { label: group.title });
    for (const d of group.districts) {
      optgroup.append(el("option", { value: d.value }, t("mixLike", { name: d.name })));
      known.add(d.value);
    }
    options.push(optgroup);
  }
  if (current && !known.has(current)) options.push(el("option", { value: current }, current));
  return options;
}
