// The workshop code field of the places panel, and the refusal a citizen sees before the form.
// A room of tablets behind one router shares one address; the server limits new participants per address, so an
// event's hosts hand out a workshop code. Entered here, it gets this browser a token of the workshop's quota.
// Refusals (too many new participants from this network, a full or expired workshop) arrive in the page's language.

import { t } from "./i18n.js";
import { el } from "./panels.js";
import { placesApi } from "./places_api.js";

export class WorkshopBox {
  // probe: the panel's probe (window.__twin3d.places); onJoined(wasRefused): a token of the workshop is there (after
  // a refusal: the citizen was about to start a contribution).
  constructor(probe, onJoined) {
    const $ = (id) => document.getElementById(id);
    this.dom = {
      box: $("workshop-box"),
      form: $("workshop-form"),
      code: $("workshop-code"),
      status: $("workshop-status"),
      refusal: $("place-refusal"),
    };
    Object.assign(this, { probe, onJoined, twin: null });
    Object.assign(probe, { participant: null, refusal: null, workshop: null });
    this.dom.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.join();
    });
    this.dom.code.addEventListener("input", () => this.clearError());
  }

  open(twin) {
    this.twin = twin;
    this.hideRefusal();
    this.clearError();
    this.dom.code.value = "";
    this.showJoined(placesApi.workshop(twin.name));
  }

  showJoined(workshop) {
    this.probe.workshop = workshop ? { label: workshop.label } : null;
    this.dom.status.textContent = workshop ? t("workshopJoined", { label: workshop.label }) : "";
  }

  // A token before the citizen types; on a refusal, its message (and, for the network limit, the code field).
  async ensureParticipant() {
    const twin = this.twin;
    this.hideRefusal();
    try {
      await placesApi.ensureParticipant(twin.name);
    } catch (error) {
      if (this.twin !== twin) return false;
      if (!error.status) throw error;
      this.refuse(error);
      return false;
    }
    this.probe.participant = "ready";
    return this.twin === twin;
  }

  refuse(error) {
    const r = this.dom.refusal;
    r.replaceChildren(el("strong", {}, t("placeRefused")), " ", error.message);
    r.hidden = false;
    this.probe.participant = "refused";
    this.probe.refusal = { status: error.status, reason: error.reason, message: error.message };
    if (error.status === 429 && error.reason === "participants") this.dom.box.open = true;
    r.focus();
  }

  hideRefusal() {
    this.dom.refusal.hidden = true;
    this.dom.refusal.replaceChildren();
    this.probe.refusal = null;
  }

  clearError() {
    this.dom.code.removeAttribute("aria-invalid");
    document.getElementById("workshop-code-error")?.remove();
  }

  async join() {
    const twin = this.twin;
    const code = this.dom.code.value.trim();
    this.clearError();
    if (!twin) return;
    if (!code) {
      this.fieldError(t("workshopNeedCode"));
      return;
    }
    this.dom.status.textContent = t("workshopJoining");
    let workshop;
    try {
      workshop = await placesApi.joinWorkshop(twin.name, code);
    } catch (error) {
      if (this.twin !== twin) return;
      this.dom.status.textContent = "";
      this.fieldError(error.message);
      this.probe.refusal = { status: error.status, reason: error.reason, message: error.message };
      if (!error.status) throw error;
      return;
    }
    if (this.twin !== twin) return;
    const wasRefused = !this.dom.refusal.hidden;
    this.dom.code.value = "";
    this.hideRefusal();
    this.probe.participant = "ready";
    this.showJoined(workshop);
    this.onJoined(wasRefused);
  }

  fieldError(message) {
    const input = this.dom.code;
    input.setAttribute("aria-invalid", "true");
    input.after(el("p", { class: "field-error", id: "workshop-code-error", role: "alert" }, message));
    input.focus();
  }

  relabel() {
    this.showJoined(this.twin ? placesApi.workshop(this.twin.name) : null);
  }
}
