// The register of written claims (§XVIII): registering a claim, its one-month answer deadline (§18.6),
// working it (in progress, redirected, answered with the written answer) and its history.

import { api } from "../api.js";
import { button, dataTable, definitionList, field, formatCell, formValues, h, link, showError } from "../dom.js";
import { almatyToIso, label, t } from "../i18n.js";
import { actionForm, deadlineBadge } from "./actions.js";

const STATUSES = ["registered", "in_progress", "redirected", "answered"];
const CHANNELS = ["post", "email", "in_person"];
const when = (value) => formatCell(value, "datetime");

export function disputeTable(disputes, caption, empty = undefined) {
  return dataTable({
    caption,
    columns: [
      { key: "number", label: "№", numeric: true },
      { key: "subject", label: t("dispute.subject"), render: (r) => link(`#/disputes/${r.id}`, r.subject) },
      { key: "claimant_name", label: t("dispute.claimant") },
      { key: "received_at", label: t("dispute.received_at"), format: "datetime" },
      { key: "status", label: t("field.status"), render: (r) => label("dispute_status", r.status) },
      { key: "deadline", label: t("dispute.deadline"), render: (r) => deadlineBadge(r.deadline, when) },
    ],
    rows: disputes,
    empty,
  });
}

export async function disputesPage(ctx) {
  const q = ctx.query;
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { class: "filters", role: "search", "aria-label": t("disputes.filters") },
    field({ name: "status", label: t("field.status"), kind: "select", value: q.status || "",
      options: [{ value: "", label: t("list.any") }, ...STATUSES.map((s) => ({ value: s, label: label("dispute_status", s) }))] }),
    field({ name: "from", label: t("dispute.received_from"), kind: "datetime-local", value: q.from || "", hint: t("hint.almaty") }),
    field({ name: "to", label: t("field.to"), kind: "datetime-local", value: q.to || "" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("list.apply")),
      button(t("list.reset"), () => ctx.navigate("disputes"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate("disputes", formValues(form));
  });
  ctx.main.append(h("div", { class: "page-head" }, h("h1", { id: "page-title" }, t("disputes.title")),
    ctx.session.can("disputes.act")
      ? h("div", { class: "page-actions" }, h("a", { href: "#/disputes/new", class: "button primary" }, t("disputes.register")))
      : null),
  form, errors);
  try {
    const [{ disputes }, overdue] = await Promise.all([
      api("/api/disputes", { query: { status: q.status, from: almatyToIso(q.from), to: almatyToIso(q.to), limit: 100 } }),
      api("/api/disputes/overdue"),
    ]);
    ctx.main.append(h("section", { class: "overdue", "aria-labelledby": "overdue-title" },
      h("h2", { id: "overdue-title" }, t("disputes.overdue")),
      disputeTable(overdue.disputes, t("disputes.overdue"), t("disputes.nothing_overdue"))),
    h("h2", {}, t("incidents.register")), disputeTable(disputes, t("disputes.caption")));
  } catch (error) {
    showError(errors, error, form);
  }
}

export async function disputeNewPage(ctx) {
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "page-title" },
    field({ name: "claimant_name", label: t("dispute.claimant"), required: true }),
    field({ name: "contact", label: t("dispute.contact"), required: true, hint: t("dispute.contact_hint") }),
    field({ name: "channel", label: t("dispute.channel"), kind: "select", value: "post",
      options: CHANNELS.map((c) => ({ value: c, label: label("dispute_channel", c) })), hint: t("dispute.channel_hint") }),
    field({ name: "subject", label: t("dispute.subject"), required: true }),
    field({ name: "claim", label: t("dispute.claim"), kind: "textarea", required: true }),
    field({ name: "received_at", label: t("dispute.received_at"), kind: "datetime-local", hint: t("incident.detected_hint") }),
    field({ name: "participant_id", label: t("aml.participant_id") }),
    field({ name: "operation_id", label: t("aml.operation_id") }),
    errors,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("disputes.register")),
      link("#/disputes", t("action.cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const body = { claimant_name: v.claimant_name || "", contact: v.contact || "", channel: v.channel,
      subject: v.subject || "", claim: v.claim || "" };
    for (const name of ["participant_id", "operation_id"]) if (v[name]) body[name] = v[name];
    if (v.received_at) body.received_at = almatyToIso(v.received_at);
    try {
      const { dispute } = await api("/api/disputes", { method: "POST", body, idempotent: true });
      ctx.navigate(`disputes/${dispute.id}`);
    } catch (error) {
      showError(errors, error, form);
    }
  });
  ctx.main.append(h("p", { class: "breadcrumbs" }, link("#/disputes", t("disputes.title"))),
    h("h1", { id: "page-title" }, t("disputes.register")), form);
  form.querySelector("input").focus();
}

export async function disputePage(ctx) {
  const [id] = ctx.params;
  const path = `/api/disputes/${encodeURIComponent(id)}`;
  const { dispute: d, history } = await api(path);
  ctx.main.append(
    h("p", { class: "breadcrumbs" }, link("#/disputes", t("disputes.title"))),
    h("h1", { id: "page-title" }, t("dispute.heading", { number: d.number, subject: d.subject })),
    definitionList([
      [t("dispute.claimant"), d.participant_id ? link(`#/participants/${d.participant_id}`, d.claimant_name) : d.claimant_name],
      [t("dispute.contact"), d.contact],
      [t("dispute.channel"), label("dispute_channel", d.channel)],
      [t("dispute.received_at"), when(d.received_at)],
      [t("field.status"), h("span", { id: "dispute-status", dataset: { status: d.status } }, label("dispute_status", d.status))],
      [t("dispute.deadline"), h("span", { id: "dispute-deadline" }, deadlineBadge(d.deadline, when))],
      [t("aml.operation_id"), d.operation_id ? link(`#/operations/${d.operation_id}`, d.operation_id) : "—"],
      [t("dispute.claim"), d.claim],
      [t("dispute.answer"), d.answer ? `${d.answer} (${when(d.answered_at)} · ${d.answered_by})` : "—"],
      [t("incident.recorded_by"), `${when(d.recorded_at)} · ${d.recorded_by}`],
    ]));
  if (ctx.session.can("disputes.act") && d.status !== "answered") {
    ctx.main.append(h("div", { class: "actions-grid" }, actionForm({ id: "act-dispute", title: t("dispute.work"),
      submit: t("action.save"), path: `${path}/status`, open: true,
      fields: [field({ name: "status", label: t("field.status"), kind: "select", value: "answered",
        options: ["in_progress", "redirected", "answered"].map((s) => ({ value: s, label: label("dispute_status", s) })) }),
      field({ name: "note", label: t("incident.note"), kind: "textarea", required: true }),
      field({ name: "answer", label: t("dispute.answer"), kind: "textarea", hint: t("dispute.answer_hint") })],
      done: () => ctx.navigate(`disputes/${id}`) })));
  }
  ctx.main.append(h("h2", {}, t("incident.history")), dataTable({
    columns: [
      { key: "at", label: t("field.changed_at"), format: "datetime" },
      { key: "action", label: t("field.action") },
      { key: "status", label: t("field.status"), render: (r) => label("dispute_status", r.status) },
      { key: "note", label: t("incident.note") },
      { key: "by", label: t("field.actor") },
    ],
    rows: history,
  }));
}
