// Reports (§14.1(6)): the National Bank's payment-services report and the executed-operations report,
// for one operational day or a period, to screen, printer, CSV and PDF.

import { api } from "../api.js";
import { button, field, formValues, h, showError } from "../dom.js";
import { t } from "../i18n.js";
import { documentView, leavePreview, periodQuery } from "./docview.js";
import { periodFields } from "./journals.js";

export async function reportsPage(ctx) {
  leavePreview();
  const q = ctx.query;
  const errors = h("div", { class: "error-slot" });
  const { reports } = await api("/api/reports");
  const form = h("form", { class: "filters", "aria-label": t("reports.parameters") },
    field({ name: "report", label: t("reports.report"), kind: "select", value: q.report || reports[0]?.name,
      options: reports.map((r) => ({ value: r.name, label: r.title })) }),
    periodFields(q, { allowWhole: false }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("reports.show")),
      button(t("list.reset"), () => ctx.navigate("reports"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate("reports", { ...formValues(form), show: "1" });
  });
  const result = h("div", { "aria-live": "polite" });
  ctx.main.append(h("h1", { id: "page-title" }, t("reports.title")), form, errors, result);
  if (!q.show) return;
  const name = reports.some((r) => r.name === q.report) ? q.report : reports[0].name;
  const path = `/api/reports/${encodeURIComponent(name)}`;
  const query = periodQuery(q);
  try {
    const { document: doc } = await api(path, { query: { ...query, format: "json" } });
    result.append(documentView(doc, { path, query, fileBase: `report-${name}` }));
  } catch (error) {
    showError(errors, error, form);
  }
}
