// Operations (§5.2, §5.4-5.7), newest first, and one operation with its ledger entries and receipt.

import { api } from "../api.js";
import { button, dataTable, definitionList, field, formatCell, formValues, h, link, showError } from "../dom.js";
import { almatyToIso, label, t } from "../i18n.js";

const KINDS = ["issuance", "payment", "transfer", "return", "redemption"];
const STATUSES = ["completed", "refused"];
const PAGE = 50;

function choices(prefix, codes) {
  return [{ value: "", label: t("list.any") }, ...codes.map((c) => ({ value: c, label: label(prefix, c) }))];
}

function walletLink(id) {
  return id ? link(`#/wallets/${id}`, `${id.slice(0, 8)}…`, { title: id }) : "—";
}

export async function operationsPage(ctx) {
  const q = ctx.query;
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { class: "filters", role: "search", "aria-label": t("operations.filters") },
    field({ name: "kind", label: t("field.kind"), kind: "select", value: q.kind || "", options: choices("op_kind", KINDS) }),
    field({ name: "status", label: t("field.status"), kind: "select", value: q.status || "",
      options: choices("op_status", STATUSES) }),
    field({ name: "wallet_id", label: t("field.wallet"), value: q.wallet_id || "" }),
    field({ name: "before", label: t("field.before"), kind: "datetime-local", value: q.before || "", hint: t("hint.almaty") }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("list.apply")),
      button(t("list.reset"), () => ctx.navigate("operations"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate("operations", formValues(form));
  });
  ctx.main.append(h("h1", { id: "page-title" }, t("operations.title")), form, errors);
  try {
    const before = q.before_iso || almatyToIso(q.before);
    const { operations } = await api("/api/operations", {
      query: { kind: q.kind, status: q.status, wallet_id: q.wallet_id, before, limit: PAGE } });
    const last = operations.at(-1);
    ctx.main.append(dataTable({
      caption: t("operations.caption"),
      columns: [
        { key: "created_at", label: t("field.created_at"), format: "datetime" },
        { key: "kind", label: t("field.kind"), render: (r) => link(`#/operations/${r.id}`, label("op_kind", r.kind)) },
        { key: "status", label: t("field.status"), render: (r) => label("op_status", r.status) },
        { key: "reason_code", label: t("field.reason_code") },
        { key: "amount", label: t("field.amount"), numeric: true },
        { key: "commission", label: t("field.commission"), numeric: true },
        { key: "payer_wallet_id", label: t("field.payer"), render: (r) => walletLink(r.payer_wallet_id) },
        { key: "payee_wallet_id", label: t("field.payee"), render: (r) => walletLink(r.payee_wallet_id) },
        { key: "actor", label: t("field.actor") },
      ],
      rows: operations,
    }), h("div", { class: "pager" },
      q.before_iso ? button(t("list.first_page"), () => ctx.navigate("operations", { ...q, before_iso: "" })) : null,
      operations.length === PAGE && last
        ? button(t("list.next_page"), () => ctx.navigate("operations", { ...q, before: "", before_iso: last.created_at }))
        : null));
  } catch (error) {
    showError(errors, error, form);
  }
}

export async function operationPage(ctx) {
  const [id] = ctx.params;
  const data = await api(`/api/operations/${encodeURIComponent(id)}`);
  const op = data.operation;
  const receiptSlot = h("div", {});
  ctx.main.append(
    h("p", { class: "breadcrumbs" }, link("#/operations", t("nav.operations"))),
    h("h1", { id: "page-title" }, `${label("op_kind", op.kind)} · ${op.amount}`),
    definitionList([
      [t("field.status"), label("op_status", op.status)],
      [t("field.reason_code"), formatCell(op.reason_code)],
      [t("field.amount"), op.amount],
      [t("field.commission"), op.commission],
      [t("field.payer"), walletLink(op.payer_wallet_id)],
      [t("field.payee"), walletLink(op.payee_wallet_id)],
      [t("field.receipt_number"), formatCell(op.receipt_number)],
      [t("field.created_at"), formatCell(op.created_at, "datetime")],
      [t("field.operational_day"), op.operational_day],
      [t("field.actor"), op.actor],
      ["ID", h("code", {}, op.id)],
    ]),
    h("h2", {}, t("operation.entries")),
    dataTable({
      columns: [
        { key: "account_id", label: t("field.account") },
        { key: "amount", label: t("field.amount"), numeric: true },
      ],
      rows: data.entries,
    }),
    receiptSlot);
  if (op.status === "completed") {
    receiptSlot.append(button(t("operation.show_receipt"), async (event) => {
      event.target.disabled = true;
      try {
        const { receipt } = await api(`/api/operations/${encodeURIComponent(id)}/receipt`);
        receiptSlot.replaceChildren(h("section", { class: "receipt", "aria-labelledby": "receipt-title" },
          h("h2", { id: "receipt-title" }, t("operation.receipt", { number: receipt.receipt_number })),
          definitionList([
            [t("field.amount"), receipt.amount],
            [t("field.commission"), receipt.commission],
            [t("field.date_time"), formatCell(receipt.date_time, "datetime")],
            [t("field.payee"), `${receipt.payee.name || "—"} (${receipt.payee.iin_bin || "—"})`],
            [t("field.operation"), receipt.operation_id],
            [t("field.payer"), formatCell(receipt.payer_wallet_id)],
            [t("field.operator"), `${receipt.operator.name} · ${receipt.operator.bin} · ${receipt.operator.phones.join(", ")}`],
          ]),
          button(t("report.print"), () => window.print())));
      } catch (error) {
        event.target.disabled = false;
        showError(receiptSlot, error);
      }
    }));
  }
}
