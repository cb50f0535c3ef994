// Citizens' proposals: "Vorschlag machen" opens the drafting form (proposals_form.js); a list of the proposals in
// the map view, sorted by votes, by residents who gain, or by date, in sync with their discs and areas on the map
// (selecting in one highlights the other); a busy view shows the server's clusters. The selected proposal opens
// its page (proposals_page.js) and shows its measures on the map. Administrators also see proposals that wait for
// moderation, and moderate them on the page. Text is always set with textContent.

import { authToken, isAdminIn } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";
import { proposalsApi } from "./proposals_api.js";
import { ProposalForm } from "./proposals_form.js";
import { ProposalDetails, proposalHead } from "./proposals_page.js";
import { AREA_LAYER, CLUSTER_LAYER, PIN_LAYER, STAGES, clusterLayers, pinLayers } from "./proposals_layers.js";
import { isMeasureLayer, measureLayers, measureTooltip } from "./scenario_draw.js";
import { categoryLabel } from "./places_item.js";
import { fromSpec } from "./scenario_model.js";

const EMPTY = { mode: "pins", total: 0, proposals: [] };
const PAGE = 100;
const MAX_LIMIT = 500;
const SORTS = ["top", "gainers", "new", "old"];
const STATUSES = ["new", "visible", "hidden", "answered"];
const SHOWN_PREFIX = "proposals-shown";

export class ProposalsPanel {
  // host: {probe, onChange({permalink, tool}), onError(error), onToolStart(), unproject(x, y), centre(),
  // bounds() -> {bbox, zoom}, flyTo(lon, lat, zoom), districts(), openScenario(id), onData()} — what the panel
  // needs from the page.
  constructor(host) {
    this.host = host;
    const $ = (id) => document.getElementById(id);
    this.dom = {
      panel: $("proposals-panel"),
      toggle: $("proposals-toggle"),
      body: $("proposals-body"),
      topic: $("proposals-topic"),
      stage: $("proposals-stage"),
      sort: $("proposals-sort"),
      status: $("proposals-status"),
      statusLabel: document.querySelector("label[for=proposals-status]"),
      summary: $("proposals-summary"),
      list: $("proposals-list"),
      more: $("proposals-more"),
    };
    const d = this.dom;
    this.probe = host.probe.proposals = {
      loads: 0,
      listed: [],
      mode: "pins",
      total: 0,
      clusters: 0,
      selected: null,
      submitted: null,
      effects: null,
      admin: false,
      shownMeasures: [],
      // [lon, lat, metres above the ellipsoid] of a listed proposal's disc, for tests that click on it
      pinAt: (id) => this.pinPosition(id),
    };
    this.form = new ProposalForm({
      twin: () => this.twin,
      config: () => this.config,
      probe: this.probe,
      centre: () => host.centre(),
      unproject: (x, y) => host.unproject(x, y),
      districts: () => host.districts(),
      onToolStart: () => host.onToolStart(),
      onChange: ({ tool }) => host.onChange({ tool }),
      onSubmitted: (created, message) => this.submitted(created, message).catch((error) => this.fail(error)),
      onError: (error) => host.onError(error),
    });
    d.toggle.addEventListener("click", () => this.setOpen(d.body.hidden));
    for (const select of [d.topic, d.stage, d.sort, d.status]) {
      select.addEventListener("change", () => {
        this.limit = PAGE;
        this.reload();
      });
    }
    d.more.addEventListener("click", () => {
      this.limit = Math.min(this.limit + PAGE, MAX_LIMIT);
      this.reload({ focusIndex: this.listing.proposals?.length ?? 0 });
    });
    window.addEventListener("twin3d-auth", () => this.checkAdmin().catch((error) => this.fail(error)));
    Object.assign(this, { twin: null, config: null, listing: EMPTY, selected: null, details: null, limit: PAGE, seq: 0 });
    Object.assign(this, { admin: false, votes: new Map(), shown: { id: null, measures: [] }, viewTimer: null, pinned: null });
  }

  // Open a twin; `proposalId` comes from the permalink and opens that proposal's page.
  async open(twin, proposalId = null) {
    this.form.close();
    Object.assign(this, { twin, config: null, listing: EMPTY, selected: null, details: null, limit: PAGE, pinned: null });
    this.shown = { id: null, measures: [] };
    this.votes.clear();
    this.dom.panel.hidden = false;
    this.renderList();
    const [config] = await Promise.all([proposalsApi.config(twin.name), this.checkAdmin()]);
    if (this.twin !== twin) return;
    this.config = config;
    this.relabel();
    if (proposalId) await this.openProposal(proposalId);
    else await this.reload();
  }

  setOpen(open) {
    this.dom.body.hidden = !open;
    this.dom.toggle.setAttribute("aria-expanded", String(open));
    if (!open) this.form.close();
  }

  // Whether the signed-in token is an administrator's: then the status filter and the admin box show.
  async checkAdmin() {
    const twin = this.twin;
    const admin = Boolean(twin && authToken()) && (await isAdminIn(twin.name));
    if (this.twin !== twin || admin === this.admin) return;
    this.admin = admin;
    this.probe.admin = admin;
    this.dom.status.hidden = !admin;
    this.dom.statusLabel.hidden = !admin;
    if (!admin) this.dom.status.value = "";
    this.details = null; // the page is built anew, with or without the admin box
    if (this.config) await this.reload();
  }

  topicName(id) {
    return categoryLabel(this.config, id);
  }

  // ---- what the map sends ----------------------------------------------------------------------------------

  // A click on the map; true when the panel used it.
  click(info) {
    if (!this.twin) return false;
    if (this.form.click(info)) return true;
    if ((info.layer?.id === PIN_LAYER || info.layer?.id === AREA_LAYER) && info.object) {
      this.select(info.object.proposal_id, { fromMap: true });
      return true;
    }
    if (info.layer?.id === CLUSTER_LAYER && info.object) {
      this.zoomInto(info.object);
      return true;
    }
    return false;
  }

  hover(info) {
    return this.form.hover(info);
  }

  dblclick(x, y) {
    this.form.dblclick(x, y);
  }

  cancelTool() {
    this.form.cancelTool();
  }

  get drawing() {
    return this.form.drawing;
  }

  cursor() {
    return this.form.drawing ? "crosshair" : null;
  }

  onView() {
    clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => this.reload(), 350);
  }

  zoomInto(cluster) {
    const zoom = (this.host.bounds()?.zoom ?? 14) + 2;
    this.host.flyTo(cluster.lon, cluster.lat, Math.min(zoom, 19));
  }

  // ---- the list --------------------------------------------------------------------------------------------

  async reload({ focusIndex = null } = {}) {
    const twin = this.twin;
    if (!twin || !this.config) return;
    const seq = ++this.seq;
    const view = this.host.bounds();
    const d = this.dom;
    let listing;
    try {
      listing = await proposalsApi.list(twin.name, {
        bbox: view?.bbox,
        zoom: view ? Math.max(0, Math.min(24, view.zoom)).toFixed(2) : undefined,
        topic: d.topic.value,
        stage: d.stage.value,
        sort: d.sort.value || "top",
        status: this.admin ? d.status.value : undefined,
        limit: this.limit,
      });
    } catch (error) {
      if (seq === this.seq) this.fail(error);
      return;
    }
    if (seq !== this.seq || this.twin !== twin) return;
    // A proposal opened by its permalink (or just submitted) stays on its page, in the view or not.
    const pinned = this.pinned;
    if (listing.mode === "pins" && pinned && !listing.proposals.some((p) => p.proposal_id === pinned.proposal_id)) {
      listing = { ...listing, proposals: [pinned, ...listing.proposals] };
    }
    this.listing = listing;
    this.probe.loads += 1;
    this.renderList();
    this.changed();
    if (focusIndex !== null) d.list.children[focusIndex]?.querySelector("button")?.focus();
  }

  // The page of one proposal, fetched by its id (the permalink): it is listed first and selected.
  async openProposal(id) {
    const twin = this.twin;
    let proposal;
    try {
      proposal = await proposalsApi.proposal(twin.name, id);
    } catch (error) {
      if (error.status !== 404) throw error;
      return this.reload();
    }
    if (this.twin !== twin) return;
    this.pinned = proposal;
    this.setOpen(true);
    this.selected = proposal.proposal_id;
    await this.reload();
    this.host.flyTo(proposal.location.lon, proposal.location.lat, Math.max(this.host.bounds()?.zoom ?? 16, 16));
    document.getElementById(`proposal-${proposal.proposal_id}-head`)?.scrollIntoView({ block: "nearest" });
  }

  // A proposal just sent: its page opens once it is public (under pre-moderation only the administration sees it).
  async submitted(created, message) {
    this.dom.summary.textContent = message;
    if (created.status !== "new" || this.admin) {
      this.pinned = created;
      this.selected = created.proposal_id;
    }
    await this.reload();
    this.host.onData?.();
    document.getElementById(`proposal-${created.proposal_id}-head`)?.focus();
    // The probe last: a reader that waits on it finds the list reloaded and the focus on the new proposal.
    this.probe.submitted = created;
  }

  // Fetch one proposal again (after a vote, a decision or a stage change) and show it.
  async refresh(id) {
    const proposal = await proposalsApi.proposal(this.twin.name, id);
    if (this.pinned?.proposal_id === id) this.pinned = proposal;
    const i = this.listing.proposals?.findIndex((p) => p.proposal_id === id) ?? -1;
    if (i >= 0) this.listing.proposals[i] = proposal;
    this.renderList();
    this.changed();
    this.loadShown();
    return proposal;
  }

  select(id, { fromMap = false } = {}) {
    this.selected = id;
    if (this.pinned && this.pinned.proposal_id !== id) this.pinned = null;
    this.renderList();
    this.changed({ permalink: true });
    if (id === null) return;
    if (fromMap) {
      if (this.dom.body.hidden) this.setOpen(true);
      document.getElementById(`proposal-${id}-head`)?.scrollIntoView({ block: "nearest" });
    }
  }

  renderList() {
    const d = this.dom;
    const listing = this.listing;
    const focusedId = d.list.contains(document.activeElement) ? document.activeElement.id : null;
    if (listing.mode === "clusters") {
      this.details = null;
      d.summary.textContent = t("proposalsClustered", { total: formatNumber(listing.total) });
      d.more.hidden = true;
      d.list.replaceChildren(
        ...listing.clusters.map((c) => {
          const button = el("button", { type: "button", class: "link", "data-h3": c.h3 }, t("proposalClusterItem", { count: formatNumber(c.count) }));
          button.addEventListener("click", () => this.zoomInto(c));
          const li = el("li", { class: "cluster-item" });
          li.append(button);
          return li;
        }),
      );
      return;
    }
    const proposals = listing.proposals;
    d.summary.textContent = proposals.length
      ? t("proposalsCount", { shown: formatNumber(proposals.length), total: formatNumber(Math.max(listing.total, proposals.length)) })
      : t("proposalsNone");
    d.more.hidden = proposals.length >= listing.total || this.limit >= MAX_LIMIT;
    const chosen = proposals.find((p) => p.proposal_id === this.selected) ?? null;
    if (!chosen) this.details = null;
    else if (this.details?.id === chosen.proposal_id) this.details.update(chosen);
    else this.details = new ProposalDetails(chosen, this.detailsContext());
    const items = proposals.map((p) => {
      const selected = p.proposal_id === this.selected;
      const li = el("li", {
        class: `place-item proposal-item${selected ? " selected" : ""}`,
        "data-proposal-id": String(p.proposal_id),
        "data-status": p.status,
        "data-stage": p.stage,
      });
      li.append(proposalHead(p, { selected, topicName: (x) => this.topicName(x), onSelect: (id) => this.select(id) }));
      if (selected && this.details) li.append(this.details.root);
      return li;
    });
    d.list.replaceChildren(...items);
    if (focusedId) document.getElementById(focusedId)?.focus();
    this.loadShown();
  }

  detailsContext() {
    return {
      twin: this.twin,
      config: this.config,
      probe: this.probe,
      votes: this.votes,
      admin: this.admin,
      categoryName: (c) => this.topicName(c),
      topicName: (c) => this.topicName(c),
      onChanged: (proposal) => {
        this.refresh(proposal.proposal_id).catch((error) => this.fail(error));
      },
      refresh: (id) => this.refresh(id),
      onError: (error) => this.host.onError(error),
      openScenario: (id) => this.host.openScenario(id),
    };
  }

  // The measures of the selected proposal's scenario (the official one where attached), drawn on the map.
  async loadShown() {
    const p = this.listing.proposals?.find((x) => x.proposal_id === this.selected);
    const scenarioId = p ? (p.official_scenario_id ?? p.scenario_id) : null;
    if (this.shown.id === scenarioId) return;
    this.shown = { id: scenarioId, measures: [] };
    this.probe.shownMeasures = [];
    if (!scenarioId) return this.host.onChange({});
    const twin = this.twin;
    let stored;
    try {
      stored = await proposalsApi.scenario(twin.name, scenarioId);
    } catch (error) {
      if (!error.status) this.host.onError(error);
      return;
    }
    if (this.twin !== twin || this.shown.id !== scenarioId) return;
    this.shown.measures = fromSpec(stored.spec).measures;
    this.probe.shownMeasures = this.shown.measures.map((m) => m.kind);
    this.host.onChange({});
  }

  // ---- what the page asks ----------------------------------------------------------------------------------

  changed({ permalink = false } = {}) {
    const listing = this.listing;
    Object.assign(this.probe, {
      mode: listing.mode,
      total: listing.total,
      listed: listing.mode === "pins" ? listing.proposals.map((p) => p.proposal_id) : [],
      clusters: listing.mode === "clusters" ? listing.clusters.length : 0,
      selected: this.selected,
    });
    this.host.onChange({ permalink });
  }

  layers() {
    if (!this.twin) return [];
    const listing = this.listing;
    const layers = listing.mode === "clusters" ? clusterLayers(this.twin, listing.clusters) : pinLayers(this.twin, listing.proposals, this.selected);
    if (this.shown.measures.length) layers.unshift(...measureLayers(this.twin, this.shown.measures, true, SHOWN_PREFIX));
    layers.push(...this.form.layers(this.twin));
    return layers;
  }

  tooltip(info) {
    const drafted = this.form.tooltip(info);
    if (drafted) return drafted;
    if ((info.layer?.id === PIN_LAYER || info.layer?.id === AREA_LAYER) && info.object) {
      const p = info.object;
      return { text: `${p.title}\n${this.topicName(p.topic)} · ${t(`stage_${p.stage}`)}` };
    }
    if (info.layer?.id === CLUSTER_LAYER && info.object) return { text: t("proposalClusterItem", { count: info.object.count }) };
    if (isMeasureLayer(info.layer, SHOWN_PREFIX) && info.object) return measureTooltip(info.object, null);
    return null;
  }

  // The ellipsoidal position of a listed proposal's disc (tests click on it).
  pinPosition(id) {
    const p = this.listing.proposals?.find((x) => x.proposal_id === id);
    return p ? [p.location.lon, p.location.lat, this.twin.origin.height + 1.5] : null;
  }

  hashParam() {
    return this.selected;
  }

  fail(error) {
    this.dom.summary.textContent = t("actionFailed", { message: error?.message ?? String(error) });
    this.host.onError(error);
  }

  relabel() {
    const d = this.dom;
    const fill = (select, options) => {
      const chosen = select.value;
      select.replaceChildren(...options.map(([value, text]) => el("option", { value }, text)));
      if (options.some(([value]) => value === chosen)) select.value = chosen;
    };
    const topics = (this.config?.categories ?? []).map((c) => [c.id, this.topicName(c.id)]);
    fill(d.topic, [["", t("filterAll")], ...topics]);
    fill(d.stage, [["", t("filterAll")], ...(this.config?.stages ?? STAGES).map((s) => s.id ?? s).map((s) => [s, t(`stage_${s}`)])]);
    fill(d.sort, SORTS.map((s) => [s, t(`sort_${s}`)]));
    fill(d.status, [["", t("filterAll")], ...STATUSES.map((s) => [s, t(`status_${s}`)])]);
    this.form.relabel();
    if (this.details) this.details.render();
    this.renderList();
  }
}
