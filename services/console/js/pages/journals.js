// Accounting journals (§14.1(7)): general journal, turnover sheet, one account's journal; for one
// operational day, a date range, or the whole ledger.

import { api } from "../api.js";
import { button, field, formValues, h, showError } from "../dom.js";
import { almatyToday, t } from "../i18n.js";
import { documentView, leavePreview, periodQuery } from "./docview.js";

const JOURNALS = ["general", "turnover", "account"];

/** Period controls: a mode select and the date fields it needs (others hidden). */
export function periodFields(q, { allowWhole = true } = {}) {
  const modes = [["day", t("period.day")], ["range", t("period.range")], ...(allowWhole ? [["all", t("period.all")]] : [])];
  const mode = field({ name: "mode", label: t("period.mode"), kind: "select", value: q.mode || "range",
    options: modes.map(([value, text]) => ({ value, label: text })) });
  const day = field({ name: "day", label: t("period.one_day"), kind: "date", value: q.day || almatyToday() });
  const from = field({ name: "from", label: t("field.from"), kind: "date", value: q.from || almatyToday(-30),
    hint: t("period.included") });
  const to = field({ name: "to", label: t("field.to"), kind: "date", value: q.to || almatyToday(), hint: t("period.included") });
  const sync = () => {
    const value = mode.querySelector("select").value;
    day.hidden = value !== "day";
    from.hidden = to.hidden = value !== "range";
    for (const wrap of [day, from, to]) wrap.querySelector("input").disabled = wrap.hidden;
  };
  mode.querySelector("select").addEventListener("change", sync);
  sync();
  return [mode, day, from, to];
}

export async function journalsPage(ctx) {
  leavePreview();
  const q = ctx.query;
  const errors = h("div", { class: "error-slot" });
  const account = field({ name: "account", label: t("field.account"), value: q.account || "", hint: t("journals.account_hint") });
  const journal = field({ name: "journal", label: t("journals.journal"), kind: "select", value: q.journal || "general",
    options: JOURNALS.map((j) => ({ value: j, label: t(`journals.${j}`) })) });
  const syncAccount = () => {
    account.hidden = journal.querySelector("select").value !== "account";
    account.querySelector("input").disabled = account.hidden;
  };
  journal.querySelector("select").addEventListener("change", syncAccount);
  syncAccount();
  const form = h("form", { class: "filters", "aria-label": t("journals.parameters") },
    journal, account, periodFields(q),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("journals.show")),
      button(t("list.reset"), () => ctx.navigate("journals"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate("journals", { ...formValues(form), show: "1" });
  });
  const result = h("div", { "aria-live": "polite" });
  ctx.main.append(h("h1", { id: "page-title" }, t("journals.title")), form, errors, result);
  if (!q.show) return;
  const name = q.journal || "general";
  const path = name === "account" ? `/api/journals/accounts/${encodeURIComponent(q.account || "-")}` : `/api/journals/${name}`;
  const query = periodQuery(q);
  try {
    const { document: doc } = await api(path, { query: { ...query, format: "json" } });
    result.append(documentView(doc, { path, query, fileBase: `journal-${name}` }));
  } catch (error) {
    showError(errors, error, form);
  }
}
