// The event log (§14.1(11)): who did what, to which record, when it started and ended, and the result.

import { api } from "../api.js";
import { button, dataTable, definitionList, field, formatCell, formValues, h, showError } from "../dom.js";
import { almatyToIso, t } from "../i18n.js";

const FILTERS = ["actor", "action", "record_type", "record_id", "result"];

export async function eventsPage(ctx) {
  const q = ctx.query;
  const errors = h("div", { class: "error-slot" });
  const results = h("div", { class: "results", "aria-live": "polite" });
  const verifySlot = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "filters", role: "search", "aria-label": t("events.filters") },
    field({ name: "from", label: t("field.from"), kind: "datetime-local", value: q.from || "", hint: t("hint.almaty") }),
    field({ name: "to", label: t("field.to"), kind: "datetime-local", value: q.to || "" }),
    FILTERS.map((name) => field({ name, label: t(`field.${name}`), value: q[name] || "" })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("list.apply")),
      button(t("list.reset"), () => ctx.navigate("events"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate("events", formValues(form));
  });
  ctx.main.append(h("div", { class: "page-head" }, h("h1", { id: "page-title" }, t("events.title")),
    h("div", { class: "page-actions" }, button(t("events.verify"), verify))), verifySlot, form, errors, results);

  const cursors = [null];
  // The hash chains and signed checkpoints, checked by the API; it names the first bad record.
  async function verify(event) {
    event.target.disabled = true;
    verifySlot.replaceChildren(h("p", { role: "status" }, t("events.verifying")));
    try {
      const report = await api("/api/events/verify");
      verifySlot.replaceChildren(h("section", { class: `card verify ${report.ok ? "verify-ok" : "verify-bad"}`,
        "aria-labelledby": "verify-title", dataset: { ok: String(report.ok) } },
      h("h2", { id: "verify-title", class: report.ok ? "status-ok" : "status-bad" },
        report.ok ? t("events.intact") : t("events.broken")),
      definitionList([
        [t("events.checked"), String(report.events_checked)],
        [t("events.checkpoints"), `${report.checkpoints_checked} / ${report.checkpoint_files_checked}`],
        [t("events.signatures"), report.signatures_checked ? t("aml.yes") : t("aml.no")],
        [t("events.latest_checkpoint"), report.latest_checkpoint
          ? `${formatCell(report.latest_checkpoint.created_at, "datetime")} · ${report.latest_checkpoint.key_id}` : "—"],
      ]),
      report.problems.length ? h("ul", { role: "alert" }, report.problems.map((p) => h("li", {}, p.message))) : null));
    } catch (error) {
      showError(verifySlot, error);
    } finally {
      event.target.disabled = false;
    }
  }
  async function load(cursor) {
    results.setAttribute("aria-busy", "true");
    try {
      const query = { limit: 50, cursor };
      for (const name of FILTERS) query[name] = q[name];
      query.from = almatyToIso(q.from);
      query.to = almatyToIso(q.to);
      const page = await api("/api/events", { query });
      showError(errors, null);
      const table = dataTable({
        caption: t("events.caption"),
        columns: [
          { key: "id", label: "#", numeric: true },
          { key: "started_at", label: t("field.started_at"), format: "datetime" },
          { key: "ended_at", label: t("field.ended_at"), format: "datetime" },
          { key: "actor", label: t("field.actor") },
          { key: "action", label: t("field.action") },
          { key: "record_type", label: t("field.record_type") },
          { key: "record_id", label: t("field.record_id") },
          { key: "result", label: t("field.result") },
          { key: "source_address", label: t("field.source_address") },
          { key: "details", label: t("field.details"), render: (r) => r.details && Object.keys(r.details).length
            ? h("details", {}, h("summary", {}, t("list.show")), h("pre", {}, JSON.stringify(r.details, null, 2)))
            : "—" },
        ],
        rows: page.events,
      });
      const pager = h("div", { class: "pager" },
        cursors.length > 1 ? button(t("list.first_page"), () => { cursors.length = 1; load(null); }) : null,
        page.next_cursor ? button(t("list.next_page"), () => { cursors.push(page.next_cursor); load(page.next_cursor); })
          : null);
      results.replaceChildren(table, pager);
    } catch (error) {
      showError(errors, error, form);
    } finally {
      results.removeAttribute("aria-busy");
    }
  }
  await load(null);
}
