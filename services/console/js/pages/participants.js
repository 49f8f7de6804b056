// Participants (§2.1, §XI), one participant with its wallets and history, one wallet with its entries.

import { api } from "../api.js";
import { button, dataTable, definitionList, field, formatCell, formValues, h, link, showError } from "../dom.js";
import { label, t } from "../i18n.js";

export const PARTICIPANT_KINDS = ["individual", "legal_entity", "individual_entrepreneur", "partner", "partner_bank",
  "issuer"];
const PARTICIPANT_STATUSES = ["active", "suspended", "closed"];
const PAGE = 50;

function choices(prefix, codes) {
  return [{ value: "", label: t("list.any") }, ...codes.map((c) => ({ value: c, label: label(prefix, c) }))];
}

export async function participantsPage(ctx) {
  const q = ctx.query;
  const offset = Number(q.offset || 0);
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { class: "filters", role: "search", "aria-label": t("participants.filters") },
    field({ name: "kind", label: t("field.kind"), kind: "select", value: q.kind || "",
      options: choices("participant_kind", PARTICIPANT_KINDS) }),
    field({ name: "status", label: t("field.status"), kind: "select", value: q.status || "",
      options: choices("participant_status", PARTICIPANT_STATUSES) }),
    field({ name: "iin_bin", label: t("field.iin_bin"), value: q.iin_bin || "", inputmode: "numeric" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("list.apply")),
      button(t("list.reset"), () => ctx.navigate("participants"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate("participants", formValues(form));
  });
  ctx.main.append(h("h1", { id: "page-title" }, t("participants.title")), form, errors);
  try {
    const { participants } = await api("/api/participants", {
      query: { kind: q.kind, status: q.status, iin_bin: q.iin_bin, limit: PAGE, offset } });
    ctx.main.append(dataTable({
      caption: t("participants.caption"),
      columns: [
        { key: "name", label: t("field.name"), render: (r) => link(`#/participants/${r.id}`, r.name) },
        { key: "kind", label: t("field.kind"), render: (r) => label("participant_kind", r.kind) },
        { key: "iin_bin", label: t("field.iin_bin") },
        { key: "identification", label: t("field.identification"), render: (r) => label("identification", r.identification) },
        { key: "status", label: t("field.status"), render: (r) => label("participant_status", r.status) },
        { key: "created_at", label: t("field.created_at"), format: "datetime" },
      ],
      rows: participants,
    }), h("div", { class: "pager" },
      offset > 0 ? button(t("list.previous_page"), () => ctx.navigate("participants", { ...q, offset: Math.max(0, offset - PAGE) })) : null,
      participants.length === PAGE ? button(t("list.next_page"), () => ctx.navigate("participants", { ...q, offset: offset + PAGE })) : null));
  } catch (error) {
    showError(errors, error, form);
  }
}

export async function participantPage(ctx) {
  const [id] = ctx.params;
  const data = await api(`/api/participants/${encodeURIComponent(id)}`);
  const p = data.participant;
  ctx.main.append(
    h("p", { class: "breadcrumbs" }, link("#/participants", t("nav.participants"))),
    h("h1", { id: "page-title" }, p.name),
    definitionList([
      [t("field.kind"), label("participant_kind", p.kind)],
      [t("field.iin_bin"), p.iin_bin],
      [t("field.status"), label("participant_status", p.status)],
      [t("field.identification"), label("identification", p.identification)],
      [t("field.phone"), formatCell(p.phone)],
      [t("field.email"), formatCell(p.email)],
      [t("field.tariff"), formatCell(p.tariff)],
      [t("field.created_at"), formatCell(p.created_at, "datetime")],
      [t("field.created_by"), p.created_by],
      ["ID", h("code", {}, p.id)],
    ]),
    h("h2", {}, t("participants.wallets")),
    dataTable({
      columns: [
        { key: "id", label: t("field.wallet"), render: (r) => link(`#/wallets/${r.id}`, r.id) },
        { key: "balance", label: t("field.balance"), numeric: true },
        { key: "currency", label: t("field.currency") },
        { key: "status", label: t("field.status"), render: (r) => label("wallet_status", r.status) },
        { key: "created_at", label: t("field.created_at"), format: "datetime" },
      ],
      rows: data.wallets,
    }),
    h("h2", {}, t("participants.history")),
    dataTable({
      columns: [
        { key: "changed_at", label: t("field.changed_at"), format: "datetime" },
        { key: "field", label: t("field.field") },
        { key: "old_value", label: t("field.old_value") },
        { key: "new_value", label: t("field.new_value") },
        { key: "changed_by", label: t("field.actor") },
      ],
      rows: data.history,
    }));
}

export async function walletPage(ctx) {
  const [id] = ctx.params;
  const afterId = ctx.query.after_id || null;
  const [data, entries] = await Promise.all([
    api(`/api/wallets/${encodeURIComponent(id)}`),
    api(`/api/wallets/${encodeURIComponent(id)}/entries`, { query: { limit: 100, after_id: afterId } }),
  ]);
  const w = data.wallet;
  const last = entries.entries.at(-1);
  ctx.main.append(
    h("p", { class: "breadcrumbs" }, link(`#/participants/${w.participant_id}`, t("participants.owner"))),
    h("h1", { id: "page-title" }, t("wallet.title", { id: w.id })),
    definitionList([
      [t("field.balance"), `${w.balance} ${w.currency}`],
      [t("field.status"), label("wallet_status", w.status)],
      [t("field.block_mode"), formatCell(w.block_mode)],
      [t("field.block_reason"), formatCell(w.block_reason)],
      [t("field.blocked_until"), formatCell(w.blocked_until, "datetime")],
      [t("field.created_at"), formatCell(w.created_at, "datetime")],
    ]),
    h("h2", {}, t("wallet.entries")),
    dataTable({
      columns: [
        { key: "id", label: "#", numeric: true },
        { key: "created_at", label: t("field.created_at"), format: "datetime" },
        { key: "operational_day", label: t("field.operational_day") },
        { key: "operation_id", label: t("field.operation"), render: (r) => link(`#/operations/${r.operation_id}`, r.operation_id) },
        { key: "amount", label: t("field.amount"), numeric: true },
      ],
      rows: entries.entries,
    }),
    h("div", { class: "pager" },
      afterId ? button(t("list.first_page"), () => ctx.navigate(`wallets/${id}`)) : null,
      entries.entries.length === 100 && last
        ? button(t("list.next_page"), () => ctx.navigate(`wallets/${id}`, { after_id: last.id })) : null),
    h("h2", {}, t("wallet.history")),
    dataTable({
      columns: [
        { key: "changed_at", label: t("field.changed_at"), format: "datetime" },
        { key: "action", label: t("field.action") },
        { key: "reason", label: t("field.reason") },
        { key: "block_mode", label: t("field.block_mode") },
        { key: "blocked_until", label: t("field.blocked_until"), format: "datetime" },
        { key: "changed_by", label: t("field.actor") },
      ],
      rows: data.history,
    }));
}
