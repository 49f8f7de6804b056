// The information-security incident register (§13.5-13.11): the list with its deadlines, recording an
// incident with its §13.9 category, and one incident: the 24-hour response plan, the 48-hour card to the
// National Bank, reclassification, status, its history, and the incident card (screen, print, CSV, HTML).

import { api, download } from "../api.js";
import { button, dataTable, definitionList, field, formatCell, formValues, h, link, saveBlob, showError } from "../dom.js";
import { almatyToIso, label, t } from "../i18n.js";
import { actionForm, deadlineBadge } from "./actions.js";

export const CATEGORIES = ["vulnerability_exploitation", "unauthorized_access", "denial_of_service", "malware",
  "unauthorized_transfer", "stability_threat", "other"];
const STATUSES = ["open", "contained", "resolved", "closed"];

function choices(prefix, codes, any = true) {
  return [...(any ? [{ value: "", label: t("list.any") }] : []), ...codes.map((c) => ({ value: c, label: label(prefix, c) }))];
}

const when = (value) => formatCell(value, "datetime");

export function overdueTable(items) {
  return dataTable({
    caption: t("incidents.overdue"),
    columns: [
      { key: "number", label: "№", render: (r) => link(`#/incidents/${r.incident_id}`, String(r.number)) },
      { key: "title", label: t("incident.title_field") },
      { key: "item", label: t("incident.deadline"), render: (r) => label("incident_item", r.item) },
      { key: "state", label: t("field.status"), render: (r) => deadlineBadge({ state: r.state, due_at: r.due_at }, when) },
    ],
    rows: items,
    empty: t("incidents.nothing_overdue"),
  });
}

export async function incidentsPage(ctx) {
  const q = ctx.query;
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { class: "filters", role: "search", "aria-label": t("incidents.filters") },
    field({ name: "status", label: t("field.status"), kind: "select", value: q.status || "", options: choices("incident_status", STATUSES) }),
    field({ name: "category", label: t("incident.category"), kind: "select", value: q.category || "",
      options: choices("incident_category", CATEGORIES) }),
    field({ name: "from", label: t("incident.detected_from"), kind: "datetime-local", value: q.from || "", hint: t("hint.almaty") }),
    field({ name: "to", label: t("field.to"), kind: "datetime-local", value: q.to || "" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("list.apply")),
      button(t("list.reset"), () => ctx.navigate("incidents"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate("incidents", formValues(form));
  });
  const record = ctx.session.can("incidents.record")
    ? h("a", { href: "#/incidents/new", class: "button primary" }, t("incidents.record")) : null;
  ctx.main.append(h("div", { class: "page-head" }, h("h1", { id: "page-title" }, t("incidents.title")),
    record ? h("div", { class: "page-actions" }, record) : null), form, errors);
  try {
    const [{ incidents }, overdue] = await Promise.all([
      api("/api/incidents", { query: { status: q.status, category: q.category, from: almatyToIso(q.from),
        to: almatyToIso(q.to), limit: 100 } }),
      api("/api/incidents/overdue"),
    ]);
    ctx.main.append(h("section", { "aria-labelledby": "overdue-title", class: "overdue" },
      h("h2", { id: "overdue-title" }, t("incidents.overdue")), overdueTable(overdue.items)),
    h("h2", {}, t("incidents.register")),
    dataTable({
      caption: t("incidents.caption"),
      columns: [
        { key: "number", label: "№", numeric: true },
        { key: "title", label: t("incident.title_field"), render: (r) => link(`#/incidents/${r.id}`, r.title) },
        { key: "category", label: t("incident.category"), render: (r) => label("incident_category", r.category) },
        { key: "status", label: t("field.status"), render: (r) => label("incident_status", r.status) },
        { key: "detected_at", label: t("incident.detected_at"), format: "datetime" },
        { key: "plan", label: t("incident_item.response_plan"), render: (r) => deadlineBadge(r.deadlines.response_plan, when) },
        { key: "nbk", label: t("incident_item.nbk_report"), render: (r) => deadlineBadge(r.deadlines.nbk_report, when) },
      ],
      rows: incidents,
    }));
  } catch (error) {
    showError(errors, error, form);
  }
}

export async function incidentNewPage(ctx) {
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "page-title" },
    field({ name: "title", label: t("incident.title_field"), required: true }),
    field({ name: "category", label: t("incident.category"), kind: "select", required: true, value: "",
      options: [{ value: "", label: t("incident.choose_category") }, ...choices("incident_category", CATEGORIES, false)],
      hint: t("incident.category_hint") }),
    field({ name: "description", label: t("incident.description"), kind: "textarea", required: true }),
    field({ name: "detected_at", label: t("incident.detected_at"), kind: "datetime-local", hint: t("incident.detected_hint") }),
    field({ name: "affected_assets", label: t("incident.affected_assets"), kind: "textarea" }),
    errors,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("incidents.record")),
      link("#/incidents", t("action.cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = { title: values.title || "", description: values.description || "", category: values.category || "" };
    if (values.detected_at) body.detected_at = almatyToIso(values.detected_at);
    if (values.affected_assets) body.affected_assets = values.affected_assets;
    try {
      const { incident } = await api("/api/incidents", { method: "POST", body, idempotent: true });
      ctx.navigate(`incidents/${incident.id}`);
    } catch (error) {
      showError(errors, error, form);
    }
  });
  ctx.main.append(h("p", { class: "breadcrumbs" }, link("#/incidents", t("incidents.title"))),
    h("h1", { id: "page-title" }, t("incidents.record")), form);
  form.querySelector("input").focus();
}

function cardView(card) {
  const i = card.incident;
  const tm = card.times;
  const r = card.response;
  return h("section", { class: "report-view incident-card", id: "report-view", "aria-labelledby": "card-title" },
    h("article", { class: "document" },
      h("h2", { id: "card-title", class: "document-title" }, t("incident.card_title", { number: i.number })),
      definitionList([
        [t("incident.organization"), `${card.organization.name}, ${card.organization.bin}`],
        [t("incident.title_field"), i.title],
        [t("incident.description"), i.description],
        [t("incident.category"), `${i.category_clause} ${label("incident_category", i.category)}`],
        [t("incident.affected_assets"), i.affected_assets || "—"],
        [t("field.status"), label("incident_status", i.status)],
        [t("incident.detected_at"), tm.detected_at],
        [t("incident.recorded_at"), tm.recorded_at],
        [t("incident.plan_due"), tm.response_plan_due],
        [t("incident.plan_at"), tm.response_plan_at || "—"],
        [t("incident.nbk_due"), tm.nbk_report_due || t("deadline.not_required")],
        [t("incident.nbk_at"), tm.nbk_reported_at || "—"],
        [t("incident.response_plan"), r.response_plan || "—"],
        [t("incident.measures"), r.measures || "—"],
        [t("incident.corrective_actions"), r.corrective_actions || "—"],
        [t("incident.nbk_reference"), r.nbk_reference || "—"],
        [t("incident.recorded_by"), card.recorded_by],
      ]),
      h("p", { class: "hint" }, t("incident.times_in", { zone: tm.time_zone }))));
}

export async function incidentPage(ctx) {
  const [id] = ctx.params;
  const path = `/api/incidents/${encodeURIComponent(id)}`;
  const { incident: inc, history } = await api(path);
  const reload = () => ctx.navigate(`incidents/${id}`);
  const d = inc.deadlines;
  ctx.main.append(
    h("p", { class: "breadcrumbs" }, link("#/incidents", t("incidents.title"))),
    h("h1", { id: "page-title" }, t("incident.heading", { number: inc.number, title: inc.title })),
    definitionList([
      [t("incident.category"), `§${inc.category_clause} ${label("incident_category", inc.category)}`],
      [t("field.status"), h("span", { dataset: { status: inc.status } }, label("incident_status", inc.status))],
      [t("incident.detected_at"), when(inc.detected_at)],
      [t("incident.recorded_at"), `${when(inc.recorded_at)} · ${inc.recorded_by}`],
      [t("incident_item.response_plan"), h("span", { id: "deadline-plan" }, deadlineBadge(d.response_plan, when))],
      [t("incident_item.nbk_report"), h("span", { id: "deadline-nbk" }, deadlineBadge(d.nbk_report, when))],
      [t("incident.description"), inc.description],
      [t("incident.affected_assets"), formatCell(inc.affected_assets)],
      [t("incident.response_plan"), formatCell(inc.response_plan)],
      [t("incident.nbk_reference"), formatCell(inc.nbk_reference)],
      [t("incident.measures"), formatCell(inc.measures)],
      [t("incident.corrective_actions"), formatCell(inc.corrective_actions)],
      [t("incident.retain_until"), when(inc.retain_until)],
    ]));

  if (ctx.session.can("incidents.change") && inc.status !== "closed") {
    const next = STATUSES.filter((s) => STATUSES.indexOf(s) > STATUSES.indexOf(inc.status));
    ctx.main.append(h("div", { class: "actions-grid" },
      actionForm({ id: "act-plan", title: t("incident.set_plan"), submit: t("action.save"), path: `${path}/response-plan`,
        open: !inc.response_plan,
        fields: [field({ name: "response_plan", label: t("incident.response_plan"), kind: "textarea", required: true,
          value: inc.response_plan || "" })], done: reload }),
      d.nbk_report.required && !inc.nbk_reported_at ? actionForm({ id: "act-nbk", title: t("incident.record_nbk"), submit: t("action.save"),
        path: `${path}/nbk-report`,
        fields: [field({ name: "reference", label: t("incident.nbk_reference"), required: true })], done: reload }) : null,
      actionForm({ id: "act-category", title: t("incident.reclassify"), submit: t("action.save"), path: `${path}/category`,
        fields: [field({ name: "category", label: t("incident.category"), kind: "select", value: inc.category,
          options: choices("incident_category", CATEGORIES, false) }),
        field({ name: "note", label: t("incident.note"), kind: "textarea", required: true })], done: reload }),
      actionForm({ id: "act-status", title: t("incident.change_status"), submit: t("action.save"), path: `${path}/status`,
        fields: [field({ name: "status", label: t("field.status"), kind: "select", value: next[0],
          options: choices("incident_status", next, false) }),
        field({ name: "note", label: t("incident.note"), kind: "textarea", required: true }),
        field({ name: "measures", label: t("incident.measures"), kind: "textarea", value: inc.measures || "" }),
        field({ name: "corrective_actions", label: t("incident.corrective_actions"), kind: "textarea",
          value: inc.corrective_actions || "" })], done: reload })));
  }

  ctx.main.append(h("h2", {}, t("incident.history")), dataTable({
    columns: [
      { key: "at", label: t("field.changed_at"), format: "datetime" },
      { key: "action", label: t("field.action") },
      { key: "status", label: t("field.status"), render: (r) => label("incident_status", r.status) },
      { key: "note", label: t("incident.note") },
      { key: "by", label: t("field.actor") },
    ],
    rows: history,
  }));

  // The card of §13.10: shown and printed here, saved as CSV or HTML (the files come from the API).
  const cardSlot = h("div", {});
  const cardErrors = h("div", { class: "error-slot" });
  const save = (format) => async (event) => {
    event.target.disabled = true;
    try {
      const file = await download(`${path}/card`, { format }, `incident-card-${inc.number}.${format}`);
      saveBlob(file.blob, file.filename);
      showError(cardErrors, null);
    } catch (error) {
      showError(cardErrors, error);
    } finally {
      event.target.disabled = false;
    }
  };
  ctx.main.append(h("h2", { class: "no-print" }, t("incident.card")),
    h("div", { class: "actions report-tools", role: "toolbar", "aria-label": t("incident.card") },
      button(t("incident.show_card"), async (event) => {
        event.target.disabled = true;
        try {
          cardSlot.replaceChildren(cardView(await api(`${path}/card`, { query: { format: "json" } })));
        } catch (error) {
          event.target.disabled = false;
          showError(cardErrors, error);
        }
      }),
      button(t("report.print"), () => window.print()),
      button(t("report.csv"), save("csv")),
      button(t("report.pdf"), save("pdf")),
      button(t("incident.download_html"), save("html"))),
    cardErrors, cardSlot);
}
