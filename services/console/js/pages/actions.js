// A command form of a case page (incidents, AML): a labelled form in a disclosure, sent as one
// idempotent POST; the page is drawn again from the API's answer. Only shown to roles that may act.

import { api } from "../api.js";
import { busy, formValues, h, showError, toast } from "../dom.js";
import { t } from "../i18n.js";

export function actionForm({ id, title, fields, submit, path, body = (values) => values, done, open = false,
  method = "POST", idempotent = true }) {
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { novalidate: true, "aria-labelledby": `${id}-title` }, fields, errors,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, submit)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      try {
        const answer = await api(path, { method, body: body(formValues(form)), idempotent });
        toast(t("action.done"));
        done(answer);
      } catch (error) {
        showError(errors, error, form);
      }
    });
  });
  return h("details", { class: "card action", id, open },
    h("summary", {}, h("span", { id: `${id}-title` }, title)), form);
}

/** A deadline as a badge: state and due time (overdue in red, due soon in amber). */
export function deadlineBadge(deadline, formatTime) {
  if (!deadline || deadline.required === false) return h("span", { class: "badge" }, t("deadline.not_required"));
  const state = deadline.state || "pending";
  const cls = state === "overdue" ? "badge overdue" : state === "due_soon" ? "badge due-soon" : "badge";
  return h("span", { class: cls, dataset: { state } }, t(`deadline.${state}`), " · ",
    t("deadline.due", { time: formatTime(deadline.due_at) }));
}
