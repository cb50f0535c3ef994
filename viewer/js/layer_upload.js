// The administration's part of the layer catalogue: the form "Ebene hochladen" (POST /api/twins/{twin}/layers,
// loaded all or nothing by the server) and a delete button with a confirm step on every layer. Shown only when
// the signed-in token is an administrator's (api.js whoami). The server's error names the file and the record;
// it is shown with its hint in an alert region. Text is always set with textContent.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { el } from "./panels.js";

// A failed request's text: the server's message (it names the file), where in it, and what to do.
function errorLines(error) {
  const body = error?.body ?? {};
  let message = body.error ?? error?.message ?? String(error);
  if (Array.isArray(body.detail)) message = body.detail.map((d) => `${(d.loc ?? []).slice(-1)[0] ?? ""}: ${d.msg}`).join(" · ");
  else if (typeof body.detail === "string") message = body.detail;
  const lines = [message];
  if (body.record) lines.push(t("uploadRecord", { record: body.record }));
  if (body.hint) lines.push(t("uploadHint", { hint: body.hint }));
  return lines;
}

// The title a file suggests: its name without suffixes, underscores as spaces.
function titleOf(fileName) {
  return fileName.replace(/\.[^/]*$/, "").replace(/[_]+/g, " ").trim();
}

export class LayerUpload {
  // host: {twin() (the open twin), reload() (the catalogue), focusLayer(id), probe, onError(error)}
  constructor(host) {
    this.host = host;
    const $ = (id) => document.getElementById(id);
    this.dom = {
      section: $("layer-upload"),
      form: $("upload-form"),
      file: $("upload-file"),
      title: $("upload-layer-title"),
      visibility: $("upload-visibility"),
      licence: $("upload-licence"),
      attribution: $("upload-attribution"),
      crs: $("upload-crs"),
      submit: $("upload-submit"),
      status: $("upload-status"),
      error: $("upload-error"),
    };
    this.admin = false;
    this.busy = false;
    this.confirming = null; // id of the layer whose deletion waits for a yes
    // roleChecks: how often the caller's role has been asked and applied (tests wait on it, not on time).
    host.probe.upload = { admin: false, roleChecks: 0, uploads: 0, failures: 0, deleted: 0, lastError: null };
    this.dom.file.addEventListener("change", () => {
      const file = this.dom.file.files[0];
      if (file && !this.dom.title.value.trim()) this.dom.title.value = titleOf(file.name);
      this.clearFieldError(this.dom.file);
    });
    this.dom.title.addEventListener("input", () => this.clearFieldError(this.dom.title));
    this.dom.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit().catch((error) => this.host.onError(error));
    });
  }

  setAdmin(admin) {
    this.admin = admin;
    this.dom.section.hidden = !admin;
    this.host.probe.upload.admin = admin;
    this.host.probe.upload.roleChecks += 1;
    if (!admin) this.confirming = null;
  }

  fieldError(input, message) {
    this.clearFieldError(input);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${input.id}-error`);
    input.after(el("p", { class: "field-error", id: `${input.id}-error` }, message));
  }

  clearFieldError(input) {
    document.getElementById(`${input.id}-error`)?.remove();
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }

  showError(prefixKey, error) {
    const [message, ...rest] = errorLines(error);
    this.dom.status.textContent = "";
    this.dom.error.replaceChildren(
      el("p", {}, t(prefixKey, { message })),
      ...rest.map((line) => el("p", { class: "small" }, line)),
    );
  }

  clearMessages() {
    this.dom.error.replaceChildren();
    this.dom.status.textContent = "";
  }

  async submit() {
    const twin = this.host.twin();
    if (!this.admin || !twin || this.busy) return;
    const { file: fileInput, title: titleInput } = this.dom;
    const file = fileInput.files[0];
    const title = titleInput.value.trim();
    this.clearMessages();
    if (!file) this.fieldError(fileInput, t("uploadNeedFile"));
    if (!title) this.fieldError(titleInput, t("uploadNeedTitle"));
    if (!file || !title) return (file ? titleInput : fileInput).focus();

    const form = new FormData();
    form.append("file", file, file.name);
    form.append("title", title);
    form.append("visibility", this.dom.visibility.value);
    for (const name of ["licence", "attribution", "crs"]) {
      const value = this.dom[name].value.trim();
      if (value) form.append(name, value);
    }
    this.setBusy(true);
    this.dom.status.textContent = t("uploadSending", { file: file.name, percent: 0 });
    let entry;
    try {
      entry = await api.uploadLayer(twin.name, form, (sent, total) => {
        const done = total ? Math.floor((100 * sent) / total) : 0;
        this.dom.status.textContent = done < 100 ? t("uploadSending", { file: file.name, percent: done }) : t("uploadLoading", { file: file.name });
      });
    } catch (error) {
      this.host.probe.upload.failures += 1;
      this.host.probe.upload.lastError = error?.body ?? { error: error?.message ?? String(error) };
      this.showError("uploadFailed", error);
      if (!error?.status) this.host.onError(error);
      fileInput.focus();
      return;
    } finally {
      this.setBusy(false);
    }
    this.dom.form.reset();
    await this.host.reload();
    this.dom.status.textContent = t("uploadDone", { title: entry.title, report: entry.report ?? "" });
    this.host.focusLayer(entry.id);
    this.host.probe.upload.uploads += 1; // counted once the result is on screen: tests wait on it
  }

  setBusy(busy) {
    this.busy = busy;
    this.dom.submit.disabled = busy;
    this.dom.form.setAttribute("aria-busy", String(busy));
  }

  // The delete control of one catalogue entry: a button, or the confirm step when it was pressed.
  deleteControl(entry) {
    if (!this.admin) return null;
    const box = el("div", { class: "actions layer-admin" });
    if (this.confirming !== entry.id) {
      const button = el("button", { type: "button", class: "danger", id: `delete-${entry.id}`, "aria-label": t("layerDeleteOf", { title: entry.title }) }, t("layerDelete"));
      button.addEventListener("click", () => this.askDelete(entry));
      box.append(button);
      return box;
    }
    const question = el("p", { class: "small", id: `delete-${entry.id}-question` }, t("layerDeleteConfirm", { title: entry.title }));
    const yes = el("button", { type: "button", class: "danger", id: `delete-${entry.id}-yes`, "aria-describedby": question.id }, t("layerDeleteYes"));
    const no = el("button", { type: "button", id: `delete-${entry.id}-no` }, t("layerDeleteNo"));
    yes.addEventListener("click", () => this.remove(entry).catch((error) => this.host.onError(error)));
    no.addEventListener("click", () => this.askDelete(null, entry.id));
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.askDelete(null, entry.id);
    });
    box.setAttribute("role", "group");
    box.setAttribute("aria-labelledby", question.id);
    box.append(question, yes, no);
    return box;
  }

  // Open (entry) or close (null) the confirm step; the catalogue re-renders and focus follows.
  askDelete(entry, previousId = null) {
    this.confirming = entry?.id ?? null;
    this.host.rerender();
    const focus = entry ? `delete-${entry.id}-no` : `delete-${previousId}`;
    document.getElementById(focus)?.focus();
  }

  async remove(entry) {
    const twin = this.host.twin();
    if (!twin) return;
    this.clearMessages();
    try {
      await api.deleteLayer(twin.name, entry.id);
    } catch (error) {
      this.confirming = null;
      this.host.rerender();
      this.showError("layerDeleteFailed", error);
      if (!error?.status) this.host.onError(error);
      return;
    }
    this.confirming = null;
    await this.host.reload();
    this.dom.status.textContent = t("layerDeleted", { title: entry.title });
    this.dom.file.focus();
    this.host.probe.upload.deleted += 1; // counted once the refreshed catalogue is on screen: tests wait on it
  }
}
