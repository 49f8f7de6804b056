// The dashboard: the ledger check, the latest operations and events, and (where the API has them)
// the incidents and AML cases whose deadlines are near or past.

import { api } from "../api.js";
import { dataTable, definitionList, errorBox, h, link } from "../dom.js";
import { label, t } from "../i18n.js";
import { deadlineWidgets } from "./deadlines.js";

function card(titleKey, id) {
  const body = h("div", { class: "card-body", "aria-busy": "true" }, t("list.loading"));
  const section = h("section", { class: "card", "aria-labelledby": `${id}-title`, id },
    h("h2", { id: `${id}-title` }, t(titleKey)), body);
  return { section, body };
}

async function fill(body, work) {
  try {
    const content = await work();
    body.replaceChildren(...[content].flat());
  } catch (error) {
    body.replaceChildren(errorBox(error));
  } finally {
    body.removeAttribute("aria-busy");
  }
}

export async function dashboardPage(ctx) {
  const { session } = ctx;
  const grid = h("div", { class: "grid" });
  ctx.main.append(h("h1", { id: "page-title" }, t("dashboard.title")), grid);
  const jobs = [];

  for (const widget of deadlineWidgets(session)) {
    const { section, body } = card(widget.title, widget.id);
    grid.append(section);
    jobs.push(fill(body, widget.load));
  }

  {
    // Counts of what is waiting for someone; lists are read up to LIMIT rows ("500+" beyond).
    const LIMIT = 500;
    const count = async (path, query, key) => {
      const rows = (await api(path, { query: { ...query, limit: LIMIT } }))[key];
      return rows.length >= LIMIT ? `${LIMIT}+` : String(rows.length);
    };
    const counts = [];
    if (session.can("incidents.view")) {
      counts.push(["dashboard.open_incidents", "#/incidents?status=open", () => count("/api/incidents", { status: "open" }, "incidents")]);
    }
    if (session.can("aml.view")) {
      counts.push(["dashboard.frozen", "#/aml?status=frozen", () => count("/api/aml/cases", { status: "frozen" }, "cases")]);
      counts.push(["dashboard.under_control", "#/aml?status=under_control",
        () => count("/api/aml/cases", { status: "under_control" }, "cases")]);
      counts.push(["dashboard.queued_reports", "#/aml", () => count("/api/aml/reports", { status: "queued" }, "reports")]);
    }
    if (session.can("disputes.view")) {
      counts.push(["dashboard.claims_open", "#/disputes?status=registered",
        () => count("/api/disputes", { status: "registered" }, "disputes")]);
    }
    if (counts.length) {
      const { section, body } = card("dashboard.counts", "dash-counts");
      grid.append(section);
      jobs.push(fill(body, async () => {
        const values = await Promise.all(counts.map(([, , load]) => load().catch(() => "—")));
        return definitionList(counts.map(([key, href], i) => [link(href, t(key)),
          h("span", { dataset: { count: key.split(".")[1] } }, values[i])]));
      }));
    }
  }

  if (session.can("ledger.check")) {
    const { section, body } = card("dashboard.ledger", "dash-ledger");
    grid.append(section);
    jobs.push(fill(body, async () => {
      const check = await api("/api/ledger/check");
      return [
        h("p", { class: check.ok ? "status-ok" : "status-bad", dataset: { ok: String(check.ok) } },
          check.ok ? t("dashboard.ledger_ok") : t("dashboard.ledger_bad")),
        definitionList([
          [t("dashboard.entries"), String(check.entries)],
          [t("dashboard.wallets_checked"), String(check.wallets_checked)],
          [t("dashboard.trial_balance"), check.trial_balance],
        ]),
      ];
    }));
  }

  if (session.can("operations.view")) {
    const { section, body } = card("dashboard.latest_operations", "dash-operations");
    grid.append(section);
    jobs.push(fill(body, async () => {
      const { operations } = await api("/api/operations", { query: { limit: 8 } });
      return [dataTable({
        columns: [
          { key: "created_at", label: t("field.created_at"), format: "datetime" },
          { key: "kind", label: t("field.kind"), render: (r) => link(`#/operations/${r.id}`, label("op_kind", r.kind)) },
          { key: "status", label: t("field.status"), render: (r) => label("op_status", r.status) },
          { key: "amount", label: t("field.amount"), numeric: true },
        ],
        rows: operations,
      }), h("p", {}, link("#/operations", t("dashboard.all_operations")))];
    }));
  }

  if (session.can("events.view")) {
    const { section, body } = card("dashboard.latest_events", "dash-events");
    grid.append(section);
    jobs.push(fill(body, async () => {
      const { events } = await api("/api/events", { query: { limit: 8 } });
      return [dataTable({
        columns: [
          { key: "started_at", label: t("field.started_at"), format: "datetime" },
          { key: "actor", label: t("field.actor") },
          { key: "action", label: t("field.action") },
          { key: "result", label: t("field.result") },
        ],
        rows: events,
      }), h("p", {}, link("#/events", t("dashboard.all_events")))];
    }));
  }
  await Promise.all(jobs);
}
