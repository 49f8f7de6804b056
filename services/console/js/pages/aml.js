// AML/CFT (§XVI): suspicious-transaction reports and their 1-working-day deadline, cases (list matches
// that froze a wallet, suspicious operations, "under control" of §16.3) and their release (§16.4), the
// import of the list of persons involved in terrorist activity, and screening of a period's operations.

import { api } from "../api.js";
import { dataTable, definitionList, field, formatCell, formValues, h, link, showError, toast } from "../dom.js";
import { almatyToIso, label, t } from "../i18n.js";
import { actionForm, deadlineBadge } from "./actions.js";

const CASE_STATUSES = ["frozen", "under_control", "open", "released", "closed"];
const when = (value) => formatCell(value, "datetime");

function caseTable(cases, caption) {
  return dataTable({
    caption,
    columns: [
      { key: "number", label: "№", render: (r) => link(`#/aml/${r.id}`, String(r.number)) },
      { key: "participant_name", label: t("aml.participant"),
        render: (r) => link(`#/participants/${r.participant_id}`, r.participant_name || r.participant_id) },
      { key: "kind", label: t("field.kind"), render: (r) => label("aml_kind", r.kind) },
      { key: "status", label: t("field.status"), render: (r) => h("span", { dataset: { status: r.status } }, label("aml_status", r.status)) },
      { key: "freezes_debits", label: t("aml.freezes"), render: (r) => (r.freezes_debits ? t("aml.yes") : t("aml.no")) },
      { key: "opened_at", label: t("aml.opened_at"), format: "datetime" },
    ],
    rows: cases,
  });
}

export function reportTable(reports, caption, actions = null) {
  return dataTable({
    caption,
    columns: [
      { key: "number", label: "№", render: (r) => (r.case_id ? link(`#/aml/${r.case_id}`, String(r.number)) : String(r.number)) },
      { key: "reason", label: t("aml.reason") },
      { key: "detected_at", label: t("aml.detected_at"), format: "datetime" },
      { key: "deadline", label: t("aml.deadline"), render: (r) => (r.status === "sent"
        ? h("span", { class: "badge" }, t("aml.sent_at", { time: when(r.sent_at), reference: r.reference }))
        : deadlineBadge(r.deadline, when)) },
      ...(actions ? [{ key: "act", label: t("aml.actions"), render: actions }] : []),
    ],
    rows: reports,
    empty: t("aml.no_reports"),
  });
}

async function readFileAsBase64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function importForm(ctx) {
  const errors = h("div", { class: "error-slot" });
  const result = h("div", { role: "status" });
  const form = h("form", { novalidate: true, "aria-labelledby": "import-title" },
    field({ name: "file", label: t("aml.list_file"), kind: "file", required: true, hint: t("aml.list_file_hint"),
      attrs: { accept: ".csv,.xml,text/csv,application/xml,text/xml" } }),
    field({ name: "source", label: t("aml.list_source"), required: true, hint: t("aml.list_source_hint") }),
    field({ name: "list_date", label: t("aml.list_date"), kind: "date" }),
    errors, result,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("aml.import"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.namedItem("file").files[0];
    const values = formValues(form);
    if (!file) {
      showError(errors, { code: "FIELD_REQUIRED", message: t("aml.choose_file"), problems: [{ field: "file", message: t("aml.choose_file") }] }, form);
      return;
    }
    try {
      const body = { format: /\.xml$/i.test(file.name) ? "xml" : "csv", content_base64: await readFileAsBase64(file),
        source: values.source || "" };
      if (values.list_date) body.list_date = values.list_date;
      const answer = await api("/api/aml/lists", { method: "POST", body, idempotent: true });
      showError(errors, null);
      toast(t("aml.imported", { entries: answer.list.entries }));
      result.replaceChildren(h("p", { class: "info" }, t("aml.import_result", { entries: answer.list.entries,
        screened: answer.screened_participants, matches: answer.matches, cases: answer.cases_opened.length })),
      answer.cases_opened.length ? caseTable(answer.cases_opened, t("aml.cases_opened")) : null);
    } catch (error) {
      showError(errors, error, form);
    }
  });
  return h("details", { class: "card action", id: "act-import" }, h("summary", {}, h("span", { id: "import-title" }, t("aml.import_title"))), form);
}

export async function amlPage(ctx) {
  const q = ctx.query;
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { class: "filters", role: "search", "aria-label": t("aml.filters") },
    field({ name: "status", label: t("field.status"), kind: "select", value: q.status || "",
      options: [{ value: "", label: t("list.any") }, ...CASE_STATUSES.map((s) => ({ value: s, label: label("aml_status", s) }))] }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("list.apply"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate("aml", formValues(form));
  });
  ctx.main.append(h("h1", { id: "page-title" }, t("aml.title")));
  const [due, { cases }, { reports }] = await Promise.all([
    api("/api/aml/reports/overdue"), api("/api/aml/cases", { query: { status: q.status, limit: 100 } }),
    api("/api/aml/reports", { query: { limit: 100 } })]);
  ctx.main.append(
    h("section", { "aria-labelledby": "due-title" }, h("h2", { id: "due-title" }, t("aml.due")),
      reportTable(due.reports, t("aml.due_caption"))));
  if (ctx.session.can("aml.act")) {
    ctx.main.append(h("div", { class: "actions-grid" },
      importForm(ctx),
      actionForm({ id: "act-screen", title: t("aml.screen_title"), submit: t("aml.screen"), path: "/api/aml/screenings/operations",
        fields: [field({ name: "from", label: t("field.from"), kind: "datetime-local", required: true, hint: t("hint.almaty") }),
          field({ name: "to", label: t("field.to"), kind: "datetime-local", required: true })],
        body: (v) => ({ from: almatyToIso(v.from) || "", to: almatyToIso(v.to) || "" }),
        done: (answer) => toast(t("aml.screened", { operations: answer.operations, cases: answer.cases_opened.length })) }),
      actionForm({ id: "act-case", title: t("aml.open_title"), submit: t("aml.open"), path: "/api/aml/cases",
        fields: [field({ name: "participant_id", label: t("aml.participant_id"), required: true, value: q.participant || "" }),
          field({ name: "operation_id", label: t("aml.operation_id") }),
          field({ name: "reason", label: t("aml.reason"), kind: "textarea", required: true }),
          field({ name: "under_control", label: t("aml.under_control_now"), kind: "checkbox", hint: t("aml.under_control_hint") })],
        body: (v) => ({ participant_id: v.participant_id || "", reason: v.reason || "", under_control: Boolean(v.under_control),
          ...(v.operation_id ? { operation_id: v.operation_id } : {}) }),
        done: (answer) => ctx.navigate(`aml/${answer.case.id}`) })));
  }
  ctx.main.append(h("h2", {}, t("aml.cases")), form, errors, caseTable(cases, t("aml.cases_caption")),
    h("h2", {}, t("aml.reports")), reportTable(reports, t("aml.reports_caption")));
}

export async function amlCasePage(ctx) {
  const [id] = ctx.params;
  const path = `/api/aml/cases/${encodeURIComponent(id)}`;
  const { case: c, history, reports } = await api(path);
  const reload = () => ctx.navigate(`aml/${id}`);
  const canAct = ctx.session.can("aml.act");
  const sentForm = (r) => (canAct && r.status === "queued" ? actionForm({ id: `act-sent-${r.number}`,
    title: t("aml.mark_sent"), submit: t("action.save"), path: `/api/aml/reports/${r.id}/sent`,
    fields: [field({ name: "reference", label: t("aml.reference"), required: true })], done: reload }) : "—");
  ctx.main.append(
    h("p", { class: "breadcrumbs" }, link("#/aml", t("aml.title"))),
    h("h1", { id: "page-title" }, t("aml.case_heading", { number: c.number })),
    definitionList([
      [t("aml.participant"), link(`#/participants/${c.participant_id}`, c.participant_name || c.participant_id)],
      [t("field.kind"), label("aml_kind", c.kind)],
      [t("field.status"), h("span", { id: "case-status", dataset: { status: c.status } }, label("aml_status", c.status))],
      [t("aml.freezes"), c.freezes_debits ? t("aml.freezes_yes") : t("aml.no")],
      [t("aml.operation_id"), c.operation_id ? link(`#/operations/${c.operation_id}`, c.operation_id) : "—"],
      [t("aml.opened_at"), `${when(c.opened_at)} · ${c.opened_by}`],
      [t("aml.released_at"), c.released_at ? `${when(c.released_at)} · ${c.released_by} · ${c.release_reason}` : "—"],
      [t("field.details"), c.details && Object.keys(c.details).length ? h("pre", {}, JSON.stringify(c.details, null, 2)) : "—"],
    ]),
    h("h2", {}, t("aml.reports")), reportTable(reports, t("aml.case_reports"), canAct ? sentForm : null));
  if (canAct) {
    const actions = [];
    if (c.status === "open") {
      actions.push(actionForm({ id: "act-control", title: t("aml.put_under_control"), submit: t("action.save"),
        path: `${path}/under-control`, fields: [field({ name: "reason", label: t("aml.reason"), kind: "textarea", required: true })],
        done: reload }));
      actions.push(actionForm({ id: "act-close", title: t("aml.close"), submit: t("action.save"), path: `${path}/close`,
        fields: [field({ name: "reason", label: t("aml.reason"), kind: "textarea", required: true })], done: reload }));
    }
    if (c.freezes_debits) {
      actions.push(actionForm({ id: "act-release", title: t("aml.release"), submit: t("aml.release"), path: `${path}/release`,
        fields: [field({ name: "reason", label: t("aml.reason"), kind: "textarea", required: true }),
          field({ name: "identity_evidence", label: t("aml.identity_evidence"), required: true, hint: t("aml.identity_hint") }),
          field({ name: "confirmation_channel", label: t("aml.channel"), kind: "select", value: "sms",
            options: [{ value: "sms", label: "SMS" }, { value: "email", label: "Email" }] }),
          field({ name: "confirmation_reference", label: t("aml.confirmation_reference"), required: true })],
        done: reload }));
    }
    if (actions.length) ctx.main.append(h("div", { class: "actions-grid" }, actions));
  }
  ctx.main.append(h("h2", {}, t("aml.history")), dataTable({
    columns: [
      { key: "at", label: t("field.changed_at"), format: "datetime" },
      { key: "action", label: t("field.action") },
      { key: "from_status", label: t("aml.from_status"), render: (r) => label("aml_status", r.from_status) },
      { key: "to_status", label: t("aml.to_status"), render: (r) => label("aml_status", r.to_status) },
      { key: "reason", label: t("aml.reason") },
      { key: "by", label: t("field.actor") },
    ],
    rows: history,
  }));
}
