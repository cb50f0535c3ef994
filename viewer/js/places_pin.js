// Placing a citizen's pin: the tool's state, a pin on the building (at the height clicked) or on the ground under a
// canvas pixel, one's own location, and dragging the pin. Mixed into PlacesPanel, so `this` is the panel.

import { api } from "./api.js";
import { formatNumber, t } from "./i18n.js";

const round = (value, digits) => Math.round(value * 10 ** digits) / 10 ** digits;

export const pinTool = {
  startTool() {
    if (!this.twin) return;
    if (this.dom.body.hidden) this.setOpen(true);
    this.placing = true;
    this.host.onToolStart();
    this.dom.tool.hidden = false;
    this.dom.form.hidden = false;
    this.dom.start.setAttribute("aria-pressed", "true");
    this.dom.formStatus.textContent = "";
    this.updateWhere();
    this.dom.centre.focus();
    this.changed();
  },

  cancelTool() {
    if (!this.placing) return;
    const hadFocus = this.dom.tool.contains(document.activeElement) || this.dom.form.contains(document.activeElement);
    Object.assign(this, { placing: false, draft: null, dragging: false });
    this.setPanLock(false);
    this.dom.tool.hidden = true;
    this.dom.form.hidden = true;
    this.dom.start.setAttribute("aria-pressed", "false");
    if (hadFocus) this.dom.start.focus();
    this.changed();
  },

  setDraft(location, message = null) {
    const first = this.draft === null;
    this.draft = { ...location, lon: round(location.lon, 7), lat: round(location.lat, 7) };
    this.updateWhere(message);
    this.changed();
    if (first) this.dom.form.querySelector("input[name=place-kind]:checked")?.focus();
  },

  updateWhere(message = null) {
    const d = this.draft;
    let text = t("pinNone");
    if (d?.building_id) text = t("pinOnBuilding", { id: d.building_id, height: formatNumber(d.height, 1) });
    else if (d) text = t("pinOnGround", { lat: d.lat.toFixed(5), lon: d.lon.toFixed(5) });
    this.dom.where.textContent = message ? `${text}. ${message}` : text;
  },

  // The pin goes where canvas pixel (x, y) shows: on the building there, at the height clicked, or on the ground.
  async locateAt(x, y) {
    const twin = this.twin;
    const hit = this.host.pickBuilding(x, y);
    let building = null;
    if (hit) {
      try {
        building = await api.buildingAt(twin.name, hit[0], hit[1]);
      } catch (error) {
        if (error.status !== 404) throw error;
      }
    }
    if (this.twin !== twin || !this.placing) return;
    if (building) {
      this.grounds.set(building.building_id, building.ground_height);
      const above = Number(hit[2]) - (building.ground_height + twin.geoid_undulation);
      const height = Number.isFinite(above) && above > 0.3 ? Math.min(above, building.height) : building.height;
      this.setDraft({ lon: hit[0], lat: hit[1], building_id: building.building_id, height: round(height, 1) });
      return;
    }
    const point = this.host.unproject(x, y);
    if (point) this.setDraft({ lon: point[0], lat: point[1] });
  },

  locateMe() {
    const say = (key, vars) => this.updateWhere(t(key, vars));
    if (!navigator.geolocation) return say("locationUnavailable");
    say("locating");
    navigator.geolocation.getCurrentPosition(
      ({ coords }) => {
        if (!this.placing || !this.twin) return;
        const [west, south, east, north] = this.twin.bbox ?? this.twin.home_bbox;
        const { longitude: lon, latitude: lat } = coords;
        if (!(lon >= west && lon <= east && lat >= south && lat <= north)) return say("locationOutside");
        this.setDraft({ lon, lat }, t("locationFound", { m: formatNumber(coords.accuracy, 0) }));
        this.host.flyTo(lon, lat, 17);
      },
      (error) => {
        this.probe.places.geolocationError = error.code;
        say(error.code === error.PERMISSION_DENIED ? "locationDenied" : "locationUnavailable");
        this.dom.centre.focus();
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  },

  setPanLock(locked) {
    if (this.overHandle === locked) return;
    this.overHandle = locked;
    this.host.setPanLock(locked);
  },

  dragHandlers() {
    return {
      onDragStart: () => {
        this.dragging = true;
        return true;
      },
      onDrag: (info) => {
        if (!this.dragging) return false;
        const point = this.host.unproject(info.x, info.y);
        if (point) {
          this.draft = { lon: round(point[0], 7), lat: round(point[1], 7) };
          this.changed();
        }
        return true;
      },
      onDragEnd: (info) => {
        if (!this.dragging) return false;
        this.dragging = false;
        this.locateAt(info.x, info.y)
          .then(() => this.updateWhere(t("pinMoved")))
          .catch((error) => this.fail(error));
        return true;
      },
    };
  },
};
