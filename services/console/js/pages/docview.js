// Journals and reports on screen, on paper and as files (§14.1(9)). The API gives every document as
// JSON ({title, parameters, sections: [{title, note, columns: [{title, numeric}], rows, totals}], footer,
// landscape}); the console draws it with its own markup, so the page keeps its strict CSP, and prints
// it with css/print.css (A4, headers repeated on each page, rows never split, page numbers).
// CSV and PDF are the API's own files, fetched with the session's token and saved.

import { download } from "../api.js";
import { button, h, saveBlob, showError, toast } from "../dom.js";
import { t } from "../i18n.js";

export function renderDocument(doc) {
  const sections = doc.sections.map((section, index) => h("section", {
    class: `report-section${index > 0 ? " page-break" : ""}`, "aria-label": section.title },
  h("h2", {}, section.title),
  section.note ? h("p", { class: "note" }, section.note) : null,
  h("div", { class: "table-wrap" }, h("table", { class: "data" },
    h("thead", {}, h("tr", {}, section.columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.title)))),
    h("tbody", {}, section.rows.length
      ? section.rows.map((row) => h("tr", {}, row.map((cell, i) => h("td", { class: section.columns[i]?.numeric ? "num" : null }, cell))))
      : h("tr", {}, h("td", { colspan: section.columns.length, class: "empty" }, t("list.empty")))),
    section.totals ? h("tfoot", {}, h("tr", {}, section.totals.map((cell, i) =>
      h("td", { class: section.columns[i]?.numeric ? "num" : null }, cell)))) : null))));
  return h("article", { class: `document${doc.landscape ? " landscape" : ""}`, lang: doc.language,
    "aria-labelledby": "document-title" },
  h("h2", { id: "document-title", class: "document-title" }, doc.title),
  doc.parameters.length ? h("dl", { class: "pairs parameters" }, doc.parameters.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])) : null,
  sections,
  doc.footer ? h("footer", { class: "document-footer" }, doc.footer) : null);
}

/**
 * The document with its tools: print preview (the page as it will print), print, CSV and PDF.
 * path/query: the API route that gave the JSON; fileBase: the name of saved files when the API gives none.
 */
export function documentView(doc, { path, query, fileBase }) {
  const errors = h("div", { class: "error-slot" });
  const view = h("div", { class: "report-view", id: "report-view" }, renderDocument(doc));
  const preview = button(t("report.preview"), () => {
    const on = !document.body.classList.contains("print-preview");
    document.body.classList.toggle("print-preview", on);
    preview.setAttribute("aria-pressed", String(on));
    preview.textContent = on ? t("report.preview_off") : t("report.preview");
  }, { "aria-pressed": "false", class: "no-print" });
  async function save(format, event) {
    event.target.disabled = true;
    try {
      const file = await download(path, { ...query, format }, `${fileBase}.${format}`);
      saveBlob(file.blob, file.filename);
      toast(t("report.saved", { name: file.filename }));
      showError(errors, null);
    } catch (error) {
      showError(errors, error);
    } finally {
      event.target.disabled = false;
    }
  }
  const tools = h("div", { class: "actions report-tools", role: "toolbar", "aria-label": t("report.tools") },
    preview,
    button(t("report.print"), () => window.print()),
    button(t("report.csv"), (event) => save("csv", event)),
    button(t("report.pdf"), (event) => save("pdf", event)));
  return h("div", {}, tools, errors, view);
}

/** The period fields shared by journals and reports: one day, or from and to (operational days, Almaty). */
export function periodQuery(values) {
  if (values.mode === "day") return { day: values.day };
  if (values.mode === "range") return { from: values.from, to: values.to };
  return {};
}

/** Leave print preview when the page changes. */
export function leavePreview() {
  document.body.classList.remove("print-preview");
}
