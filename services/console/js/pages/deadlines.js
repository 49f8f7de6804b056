// Dashboard cards for deadlines: incident response plans (24 h) and National Bank cards (48 h) that are
// late or due within six hours, suspicious-transaction reports near or past their working-day deadline, and
// written claims not answered within a month.

import { api } from "../api.js";
import { h, link } from "../dom.js";
import { t } from "../i18n.js";
import { reportTable } from "./aml.js";
import { disputeTable } from "./disputes.js";
import { overdueTable } from "./incidents.js";

export function deadlineWidgets(session) {
  const widgets = [];
  if (session.can("incidents.view")) {
    widgets.push({ id: "dash-incidents", title: "dashboard.incident_deadlines", load: async () => {
      const { items } = await api("/api/incidents/overdue");
      return [overdueTable(items), h("p", {}, link("#/incidents", t("dashboard.all_incidents")))];
    } });
  }
  if (session.can("aml.view")) {
    widgets.push({ id: "dash-aml", title: "dashboard.aml_deadlines", load: async () => {
      const { reports } = await api("/api/aml/reports/overdue");
      return [reportTable(reports, t("aml.due_caption")), h("p", {}, link("#/aml", t("dashboard.all_aml")))];
    } });
  }
  if (session.can("disputes.view")) {
    widgets.push({ id: "dash-disputes", title: "dashboard.dispute_deadlines", load: async () => {
      const { disputes } = await api("/api/disputes/overdue");
      return [disputeTable(disputes, t("disputes.overdue"), t("disputes.nothing_overdue")),
        h("p", {}, link("#/disputes", t("dashboard.all_disputes")))];
    } });
  }
  return widgets;
}
