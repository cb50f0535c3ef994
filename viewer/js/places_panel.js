// Citizens' places: "Ort markieren" places a pin (click on the map or a building, drag to adjust, the map's
// centre, or one's own location), a form sends it, and a list shows the places in the map view in sync with the
// pins (selecting in one highlights the other). A busy view shows the server's H3 clusters instead of pins.
// Below the list, the representation lens names the groups and areas that are not heard.
// Text is always set with textContent, so what citizens wrote is rendered inert.

import { api } from "./api.js";
import { formatNumber, showText, t } from "./i18n.js";
import { el } from "./panels.js";
import { placesApi } from "./places_api.js";
import { PlaceDetails, categoryLabel, placeHead } from "./places_item.js";
import { CLUSTER_LAYER, DRAFT_LAYER, PIN_LAYER, clusterLayers, draftLayers, pinLayers } from "./places_layers.js";
import { renderLens } from "./places_lens.js";
import { pinTool } from "./places_pin.js";
import { WorkshopBox } from "./places_workshop.js";

const EMPTY = { mode: "pins", total: 0, places: [] };
const PAGE = 100;
const MAX_LIMIT = 500;

export class PlacesPanel {
  // host: {probe, onChange(), onError(error), onToolStart(), unproject(x, y), centre(), pickBuilding(x, y),
  // bounds() -> {bbox, zoom}, flyTo(lon, lat, zoom), setPanLock(locked), districts(), onData() (places, votes,
  // comments or reports were written: the moderation view refreshes)} — what the panel needs.
  constructor(host) {
    this.host = host;
    this.probe = host.probe;
    const $ = (id) => document.getElementById(id);
    this.dom = {
      panel: $("places-panel"),
      toggle: $("places-toggle"),
      body: $("places-body"),
      start: $("place-start"),
      tool: $("place-tool"),
      where: $("place-where"),
      centre: $("place-centre"),
      locate: $("place-locate"),
      cancel: $("place-cancel"),
      form: $("place-form"),
      category: $("place-category"),
      title: $("place-title-input"),
      text: $("place-text"),
      count: $("place-text-count"),
      age: $("place-age"),
      household: $("place-household"),
      website: $("place-website"),
      submit: $("place-submit"),
      formStatus: $("place-form-status"),
      filterKind: $("places-kind"),
      filterCategory: $("places-category"),
      sort: $("places-sort"),
      summary: $("places-summary"),
      counts: $("places-counts"),
      list: $("places-list"),
      more: $("places-more"),
      lens: $("places-lens"),
      lensSection: $("places-lens-section"),
    };
    const d = this.dom;
    d.toggle.addEventListener("click", () => this.setOpen(d.body.hidden));
    d.start.addEventListener("click", () => (this.placing ? this.cancelTool() : this.begin()));
    d.cancel.addEventListener("click", () => this.cancelTool());
    d.centre.addEventListener("click", () => {
      const point = this.host.centre();
      if (point) this.setDraft({ lon: point[0], lat: point[1] });
    });
    d.locate.addEventListener("click", () => this.locateMe());
    d.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit().catch((error) => this.fail(error));
    });
    d.text.addEventListener("input", () => this.updateCount());
    for (const input of [d.title, d.text, d.category]) {
      input.addEventListener("input", () => this.clearError(input));
    }
    for (const radio of d.form.querySelectorAll("input[name=place-kind]")) {
      radio.addEventListener("change", () => this.host.onChange());
    }
    for (const select of [d.filterKind, d.filterCategory, d.sort]) {
      select.addEventListener("change", () => {
        this.limit = PAGE;
        this.reload();
      });
    }
    d.more.addEventListener("click", () => {
      this.limit = Math.min(this.limit + PAGE, MAX_LIMIT);
      this.reload({ focusIndex: this.listing.places?.length ?? 0 });
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.placing) {
        this.cancelTool();
        event.preventDefault();
      }
    });
    Object.assign(this, {
      twin: null,
      config: null,
      placing: false,
      draft: null,
      dragging: false,
      overHandle: false,
      listing: EMPTY,
      selected: null,
      details: null,
      limit: PAGE,
      seq: 0,
      lens: null,
      grounds: new Map(), // building id -> ground height (orthometric), for pins on buildings
      pendingGrounds: new Set(),
      votes: new Map(), // place id -> this browser's vote
      viewTimer: null,
    });
    this.probe.places = {
      placing: false,
      draft: null,
      listed: [],
      onMap: [],
      mode: "pins",
      total: 0,
      clusters: 0,
      selected: null,
      loads: 0,
      submitted: null,
      lens: null,
      // [lon, lat, metres above the ellipsoid] of a listed place's pin, for tests that click on it
      pinAt: (id) => this.pinPosition(id),
    };
    this.workshop = new WorkshopBox(this.probe.places, (wasRefused) => wasRefused && this.begin());
    this.updateCount();
  }

  // "Ort markieren": first a participant token (or the server's refusal, shown instead of the form), then the tool.
  async begin() {
    const twin = this.twin;
    if (!twin || this.placing) return;
    this.dom.start.setAttribute("aria-busy", "true");
    let ready;
    try {
      ready = await this.workshop.ensureParticipant();
    } catch (error) {
      this.fail(error);
      ready = false;
    } finally {
      this.dom.start.removeAttribute("aria-busy");
    }
    if (ready && this.twin === twin) this.startTool();
  }

  async open(twin) {
    this.cancelTool();
    Object.assign(this, { twin, config: null, listing: EMPTY, selected: null, details: null, limit: PAGE, lens: null });
    this.grounds.clear();
    this.votes.clear();
    this.dom.panel.hidden = false;
    this.workshop.open(twin);
    this.dom.lensSection.hidden = !twin.counts?.personas;
    this.renderList();
    const config = await placesApi.config(twin.name);
    if (this.twin !== twin) return;
    this.config = config;
    this.relabel();
    await this.reload();
    if (!this.dom.body.hidden) this.loadLens();
  }

  setOpen(open) {
    this.dom.body.hidden = !open;
    this.dom.toggle.setAttribute("aria-expanded", String(open));
    if (!open) this.cancelTool();
    else if (!this.lens) this.loadLens();
  }

  categoryName(id) {
    return categoryLabel(this.config, id);
  }

  // ---- what the map sends ----------------------------------------------------------------------------------

  // A click on the map; true when the panel used it.
  click(info) {
    if (!this.twin) return false;
    if (this.placing) {
      if (info.layer?.id !== DRAFT_LAYER) this.locateAt(info.x, info.y).catch((error) => this.fail(error));
      return true;
    }
    if (info.layer?.id === PIN_LAYER && info.object) {
      this.select(info.object.place.place_id, { fromMap: true });
      return true;
    }
    if (info.layer?.id === CLUSTER_LAYER && info.object) {
      this.zoomInto(info.object);
      return true;
    }
    return false;
  }

  hover(info) {
    if (!this.placing) return false;
    if (!this.dragging) this.setPanLock(info.layer?.id === DRAFT_LAYER);
    return false;
  }

  cursor() {
    if (!this.placing) return null;
    return this.overHandle ? "move" : "crosshair";
  }

  onView() {
    clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => this.reload(), 350);
  }

  zoomInto(cluster) {
    const zoom = (this.host.bounds()?.zoom ?? 14) + 2;
    this.host.flyTo(cluster.lon, cluster.lat, Math.min(zoom, 19));
  }

  // ---- sending ---------------------------------------------------------------------------------------------

  clearError(input) {
    input.removeAttribute("aria-invalid");
    document.getElementById(`${input.id}-error`)?.remove();
  }

  showError(input, message) {
    this.clearError(input);
    input.setAttribute("aria-invalid", "true");
    const error = el("p", { class: "field-error", id: `${input.id}-error` }, message);
    input.after(error);
  }

  async submit() {
    const d = this.dom;
    if (!this.twin || !this.placing) return;
    for (const input of [d.title, d.text, d.category]) this.clearError(input);
    if (!this.draft) {
      d.formStatus.textContent = t("placeNeedPin");
      d.centre.focus();
      return;
    }
    const missing = [d.category, d.title, d.text].filter((input) => !input.value.trim());
    for (const input of missing) this.showError(input, t(input === d.category ? "needTopic" : "fieldRequired"));
    if (missing.length) {
      missing[0].focus();
      return;
    }
    const { lon, lat, building_id: buildingId, height } = this.draft;
    const body = {
      kind: d.form.querySelector("input[name=place-kind]:checked")?.value ?? "happy",
      category: d.category.value,
      title: d.title.value,
      text: d.text.value,
      location: buildingId ? { lon, lat, building_id: buildingId, height } : { lon, lat },
      website: d.website.value,
    };
    const me = { age_band: d.age.value || null, household: d.household.value || null };
    if (me.age_band || me.household) body.self_description = me;
    d.submit.disabled = true;
    d.formStatus.textContent = t("placeSending");
    let created;
    try {
      created = await placesApi.submit(this.twin.name, body);
    } catch (error) {
      d.submit.disabled = false;
      const inputs = { title: d.title, text: d.text, category: d.category };
      const invalid = Object.entries(error.fields ?? {}).filter(([field]) => inputs[field]);
      for (const [field, message] of invalid) this.showError(inputs[field], message);
      d.formStatus.textContent = t("placeFailed", { message: error.message });
      if (invalid.length) inputs[invalid[0][0]].focus();
      if (!error.status) throw error;
      return;
    }
    d.submit.disabled = false;
    const message = t(created.status === "new" ? "placeSentPre" : "placeSent");
    d.title.value = "";
    d.text.value = "";
    d.category.value = ""; // the next pin gets a topic of its own choosing, too
    this.updateCount();
    this.cancelTool();
    showText(d.formStatus, created.status === "new" ? "placeSentPre" : "placeSent"); // follows the language
    this.dom.summary.textContent = message;
    if (created.status !== "new") this.selected = created.place_id;
    this.lens = null;
    if (!this.dom.body.hidden) this.loadLens();
    await this.reload();
    this.host.onData();
    document.getElementById(`place-${created.place_id}-head`)?.focus();
    // The probe last: a reader that waits on it finds the list reloaded and the focus on the new place.
    this.probe.places.submitted = created;
  }

  updateCount() {
    const max = Number(this.dom.text.getAttribute("maxlength")) || 1000;
    this.dom.count.textContent = t("charsLeft", { n: formatNumber(max - this.dom.text.value.length), max: formatNumber(max) });
  }

  // ---- the list --------------------------------------------------------------------------------------------

  async reload({ focusIndex = null } = {}) {
    const twin = this.twin;
    if (!twin) return;
    const seq = ++this.seq;
    const view = this.host.bounds();
    const d = this.dom;
    let listing;
    try {
      listing = await placesApi.list(twin.name, {
        bbox: view?.bbox,
        zoom: view ? Math.max(0, Math.min(24, view.zoom)).toFixed(2) : undefined,
        kind: d.filterKind.value,
        category: d.filterCategory.value,
        sort: d.sort.value || "new",
        limit: this.limit,
      });
    } catch (error) {
      if (seq === this.seq) this.fail(error);
      return;
    }
    if (seq !== this.seq || this.twin !== twin) return;
    this.listing = listing;
    this.probe.places.loads += 1;
    this.renderList();
    this.changed();
    this.fetchGrounds();
    if (focusIndex !== null) d.list.children[focusIndex]?.querySelector("button")?.focus();
  }

  // Ground heights of the buildings pins stand on (a few requests at a time), so that they sit on the roofs.
  async fetchGrounds() {
    const twin = this.twin;
    const ids = [
      ...new Set((this.listing.places ?? []).map((p) => p.location.building_id).filter((id) => id && !this.grounds.has(id))),
    ].filter((id) => !this.pendingGrounds.has(id)).slice(0, 200);
    const queue = [...ids];
    for (const id of ids) this.pendingGrounds.add(id);
    const worker = async () => {
      while (queue.length) {
        const id = queue.shift();
        try {
          const building = await api.building(twin.name, id);
          if (this.twin === twin) this.grounds.set(id, building.ground_height);
        } catch {
          if (this.twin === twin) this.grounds.set(id, null); // drawn at the twin's ground
        } finally {
          this.pendingGrounds.delete(id);
        }
      }
    };
    if (!ids.length) return;
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (this.twin === twin) this.changed();
  }

  select(id, { fromMap = false } = {}) {
    this.selected = id;
    this.renderList();
    this.changed();
    if (id === null) return;
    const head = document.getElementById(`place-${id}-head`);
    if (fromMap) {
      if (this.dom.body.hidden) this.setOpen(true);
      head?.scrollIntoView({ block: "nearest" });
    }
  }

  // Select a place from elsewhere (the moderation view): fly to it when it is not in the map view.
  focusPlace(place) {
    const listed = this.listing.places?.some((p) => p.place_id === place.place_id);
    this.select(place.place_id, { fromMap: true });
    if (!listed) this.host.flyTo(place.location.lon, place.location.lat, Math.max(this.host.bounds()?.zoom ?? 16, 16));
  }

  renderList() {
    const d = this.dom;
    const listing = this.listing;
    const focusedId = d.list.contains(document.activeElement) ? document.activeElement.id : null;
    d.counts.hidden = !listing.counts;
    if (listing.counts) d.counts.textContent = t("placesCounts", Object.fromEntries(Object.entries(listing.counts).map(([k, v]) => [k, formatNumber(v)])));
    if (listing.mode === "clusters") {
      this.details = null;
      d.summary.textContent = t("placesClustered", { total: formatNumber(listing.total) });
      d.more.hidden = true;
      d.list.replaceChildren(
        ...listing.clusters.map((c) => {
          const button = el("button", { type: "button", class: "link", "data-h3": c.h3 }, t("clusterItem", {
            count: formatNumber(c.count),
            happy: formatNumber(c.happy),
            improvable: formatNumber(c.improvable),
          }));
          button.addEventListener("click", () => this.zoomInto(c));
          const li = el("li", { class: "cluster-item" });
          li.append(button);
          return li;
        }),
      );
      return;
    }
    const places = listing.places;
    d.summary.textContent = places.length
      ? t("placesCount", { shown: formatNumber(places.length), total: formatNumber(listing.total) })
      : t("placesNone");
    d.more.hidden = places.length >= listing.total || this.limit >= MAX_LIMIT;
    const selectedPlace = places.find((p) => p.place_id === this.selected) ?? null;
    if (!selectedPlace) this.details = null;
    else if (this.details?.id === selectedPlace.place_id) this.details.update(selectedPlace);
    else this.details = new PlaceDetails(selectedPlace, this.detailsContext());
    const items = places.map((place) => {
      const selected = place.place_id === this.selected;
      const li = el("li", {
        class: `place-item${selected ? " selected" : ""}`,
        "data-place-id": String(place.place_id),
        "data-status": place.status,
        "data-kind": place.kind,
      });
      li.append(placeHead(place, { selected, categoryName: (c) => this.categoryName(c), onSelect: (id) => this.select(id) }));
      if (selected && this.details) li.append(this.details.root);
      return li;
    });
    d.list.replaceChildren(...items);
    if (focusedId) document.getElementById(focusedId)?.focus();
  }

  detailsContext() {
    return {
      twin: this.twin,
      config: this.config,
      probe: this.probe.places,
      votes: this.votes,
      categoryName: (c) => this.categoryName(c),
      onChanged: (place) => {
        const i = this.listing.places?.findIndex((p) => p.place_id === place.place_id) ?? -1;
        if (i >= 0) this.listing.places[i] = place;
        this.reload();
        this.host.onData();
      },
      onError: (error) => this.host.onError(error),
    };
  }

  // ---- the lens --------------------------------------------------------------------------------------------

  async loadLens() {
    const twin = this.twin;
    if (!twin?.counts?.personas) return;
    try {
      this.lens = await placesApi.lens(twin.name);
    } catch (error) {
      if (error.status !== 404) return this.host.onError(error);
      this.lens = { unavailable: true };
    }
    if (this.twin !== twin) return;
    const l = this.lens;
    this.probe.places.lens = l.unavailable
      ? { unavailable: true }
      : { contributions: l.contributions, described: l.described, groups: l.under_heard.groups, cells: l.under_heard.cells };
    this.renderLens();
  }

  renderLens() {
    renderLens(this.dom.lens, this.lens, {
      districts: this.host.districts(),
      onShow: (lon, lat) => this.host.flyTo(lon, lat, 15),
    });
  }

  // ---- what the page asks ----------------------------------------------------------------------------------

  changed() {
    const p = this.probe.places;
    const listing = this.listing;
    Object.assign(p, {
      placing: this.placing,
      draft: this.draft ? { ...this.draft } : null,
      mode: listing.mode,
      total: listing.total,
      listed: listing.mode === "pins" ? listing.places.map((x) => x.place_id) : [],
      onMap: listing.mode === "pins" ? listing.places.map((x) => x.place_id) : [],
      clusters: listing.mode === "clusters" ? listing.clusters.length : 0,
      selected: this.selected,
    });
    this.host.onChange();
  }

  layers() {
    if (!this.twin) return [];
    const listing = this.listing;
    const layers =
      listing.mode === "clusters"
        ? clusterLayers(this.twin, listing.clusters)
        : pinLayers(this.twin, listing.places, { grounds: this.grounds, selected: this.selected });
    const kind = this.dom.form.querySelector("input[name=place-kind]:checked")?.value;
    layers.push(
      ...draftLayers(this.twin, this.placing ? this.draft : null, { kind, grounds: this.grounds, handlers: this.dragHandlers() }),
    );
    return layers;
  }

  tooltip(info) {
    if (info.layer?.id === PIN_LAYER && info.object) {
      const p = info.object.place;
      return { text: `${p.title}\n${t(`kind_${p.kind}`)} · ${this.categoryName(p.category)}` };
    }
    if (info.layer?.id === CLUSTER_LAYER && info.object) {
      const c = info.object;
      return { text: t("clusterItem", { count: c.count, happy: c.happy, improvable: c.improvable }) };
    }
    if (info.layer?.id === DRAFT_LAYER) return { text: this.dom.where.textContent };
    return null;
  }

  // The ellipsoidal position of a listed place's pin (tests click on it).
  pinPosition(id) {
    const place = this.listing.places?.find((p) => p.place_id === id);
    if (!place) return null;
    const ground = place.location.building_id ? this.grounds.get(place.location.building_id) : null;
    const base = Number.isFinite(ground) ? ground + this.twin.geoid_undulation : this.twin.origin.height;
    return [place.location.lon, place.location.lat, place.location.building_id ? base + place.location.height : this.twin.origin.height + 1];
  }

  fail(error) {
    this.dom.formStatus.textContent = t("actionFailed", { message: error?.message ?? String(error) });
    this.host.onError(error);
  }

  relabel() {
    const d = this.dom;
    const fill = (select, options, keep = true) => {
      const chosen = select.value;
      select.replaceChildren(...options.map(([value, text]) => el("option", { value }, text)));
      if (keep && options.some(([value]) => value === chosen)) select.value = chosen;
    };
    const categories = (this.config?.categories ?? []).map((c) => [c.id, this.categoryName(c.id)]);
    // No topic is preselected: a pin filed under the first topic ("Wohnen") without a choice was wrong data.
    fill(d.category, [["", t("pleaseChoose")], ...categories]);
    fill(d.filterCategory, [["", t("filterAll")], ...categories]);
    fill(d.filterKind, [["", t("filterAll")], ["happy", t("kind_happy")], ["improvable", t("kind_improvable")]]);
    fill(d.sort, ["new", "top", "old"].map((s) => [s, t(`sort_${s}`)]));
    fill(d.age, [["", t("notSaid")], ...(this.config?.age_bands ?? []).map((a) => [a, t(`age_${a}`)])]);
    fill(d.household, [["", t("notSaid")], ...(this.config?.households ?? []).map((h) => [h, t(`hh_${h}`)])]);
    this.updateCount();
    this.updateWhere();
    if (this.details) this.details.render();
    this.workshop.relabel();
    this.renderList();
    this.renderLens();
  }
}

// The pin tool's methods (places_pin.js) are the panel's own.
Object.assign(PlacesPanel.prototype, pinTool);
