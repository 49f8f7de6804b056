// Staff users (administrators manage them; auditors read): create with a temporary password shown once,
// change name or role, reset the password or the lost second factor, lift a lockout, disable, enable.

import { api } from "../api.js";
import { dataTable, definitionList, field, formatCell, h, link, toast } from "../dom.js";
import { label, t } from "../i18n.js";
import { actionForm } from "./actions.js";

const ROLES = ["admin", "operator", "auditor"];
const when = (value) => formatCell(value, "datetime");

function state(user) {
  if (user.disabled) return t("staff.disabled");
  if (user.locked_until && new Date(user.locked_until) > new Date()) return t("staff.locked", { time: when(user.locked_until) });
  if (user.must_change_password) return t("staff.must_change");
  return t("staff.active");
}

function temporaryPassword(user) {
  return h("div", { class: "card temporary-password", role: "status" },
    h("p", {}, t("staff.temporary_intro", { login: user.login })),
    h("p", {}, h("code", { class: "secret", "data-password": user.temporary_password }, user.temporary_password)),
    h("p", { class: "hint" }, t("staff.temporary_once")));
}

export async function staffPage(ctx) {
  const users = await api("/api/staff");
  const shown = h("div", {});
  ctx.main.append(h("h1", { id: "page-title" }, t("staff.title")));
  if (ctx.session.can("staff.manage")) {
    ctx.main.append(actionForm({ id: "act-create", title: t("staff.create"), submit: t("staff.create"), path: "/api/staff",
      idempotent: false,
      fields: [field({ name: "login", label: t("login.login"), required: true, hint: t("staff.login_hint") }),
        field({ name: "full_name", label: t("staff.full_name"), required: true }),
        field({ name: "role", label: t("staff.role"), kind: "select", value: "operator",
          options: ROLES.map((r) => ({ value: r, label: label("role", r) })) })],
      done: (user) => shown.replaceChildren(temporaryPassword(user),
        h("p", {}, link(`#/staff/${encodeURIComponent(user.login)}`, t("staff.open", { login: user.login })))) }), shown);
  }
  ctx.main.append(dataTable({
    caption: t("staff.caption"),
    columns: [
      { key: "login", label: t("login.login"), render: (u) => link(`#/staff/${encodeURIComponent(u.login)}`, u.login) },
      { key: "full_name", label: t("staff.full_name") },
      { key: "role", label: t("staff.role"), render: (u) => label("role", u.role) },
      { key: "state", label: t("field.status"), render: state },
      { key: "totp_enrolled", label: t("staff.totp"), render: (u) => (u.totp_enrolled ? t("aml.yes") : t("aml.no")) },
      { key: "last_login_at", label: t("staff.last_login"), format: "datetime" },
    ],
    rows: users,
  }));
}

export async function staffUserPage(ctx) {
  const [login] = ctx.params;
  const path = `/api/staff/${encodeURIComponent(login)}`;
  const user = await api(path);
  const reload = () => ctx.navigate(`staff/${encodeURIComponent(login)}`);
  const shown = h("div", {});
  ctx.main.append(
    h("p", { class: "breadcrumbs" }, link("#/staff", t("staff.title"))),
    h("h1", { id: "page-title" }, `${user.full_name} (${user.login})`),
    definitionList([
      [t("staff.role"), label("role", user.role)],
      [t("field.status"), h("span", { id: "staff-state" }, state(user))],
      [t("staff.totp"), user.totp_enrolled ? t("aml.yes") : t("aml.no")],
      [t("staff.password_changed"), when(user.password_changed_at)],
      [t("staff.last_login"), when(user.last_login_at)],
      [t("incident.recorded_by"), `${when(user.created_at)} · ${user.created_by}`],
    ]), shown);
  if (!ctx.session.can("staff.manage")) return;
  const self = ctx.session.current().name.toLowerCase() === user.login.toLowerCase();
  const simple = (id, title, action) => actionForm({ id, title, submit: title, path: `${path}/${action}`, idempotent: false,
    fields: [h("p", { class: "hint" }, t(`staff.${id}_hint`))], body: () => undefined, done: reload });
  ctx.main.append(h("div", { class: "actions-grid" },
    actionForm({ id: "act-edit", title: t("staff.edit"), submit: t("action.save"), path, method: "PATCH", idempotent: false,
      fields: [field({ name: "full_name", label: t("staff.full_name"), value: user.full_name }),
        self ? null : field({ name: "role", label: t("staff.role"), kind: "select", value: user.role,
          options: ROLES.map((r) => ({ value: r, label: label("role", r) })) })],
      done: () => { toast(t("action.done")); reload(); } }),
    actionForm({ id: "act-reset", title: t("staff.reset_password"), submit: t("staff.reset_password"),
      path: `${path}/reset-password`, idempotent: false, fields: [h("p", { class: "hint" }, t("staff.reset_hint"))],
      body: () => undefined, done: (answer) => shown.replaceChildren(temporaryPassword(answer)) }),
    user.totp_enrolled ? simple("reset_totp", t("staff.reset_totp"), "reset-totp") : null,
    user.locked_until ? simple("unlock", t("staff.unlock"), "unlock") : null,
    self ? null : user.disabled ? simple("enable", t("staff.enable"), "enable") : simple("disable", t("staff.disable"), "disable")));
}
