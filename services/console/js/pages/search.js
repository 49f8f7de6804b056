// Search over every list (§14.1(4), §14.1(5)): the form is built from the list specs the API
// describes (GET /api/search/lists: columns, types, operators, choices, time column, as_of), the
// query runs with POST /api/search/{list}, and users keep queries under a name and run them again.
// The state lives in the address (#/search?list=...&q=<query JSON>), so a search can be bookmarked.

import { api } from "../api.js";
import { append, button, clear, dataTable, field, formatCell, formValues, h, showError, toast } from "../dom.js";
import { almatyToIso, isoToAlmatyLocal, label, language, t } from "../i18n.js";

const PAGE = 50;
// Enum columns whose codes the console has words for (list.column -> label prefix); others show the code.
const CHOICE_LABELS = {
  "participants.kind": "participant_kind", "participants.status": "participant_status",
  "participants.identification": "identification", "wallets.participant_kind": "participant_kind",
  "wallets.identification": "identification", "wallets.status": "wallet_status", "operations.kind": "op_kind",
  "operations.status": "op_status", "ledger_entries.operation_kind": "op_kind", "incidents.category": "incident_category",
  "incidents.status": "incident_status", "aml_cases.kind": "aml_kind", "aml_cases.status": "aml_status",
  "disputes.status": "dispute_status", "disputes.channel": "dispute_channel", "documents.direction": "doc_direction",
  "documents.status": "doc_status", "documents.doc_type": "doc_type",
};

function choiceLabel(spec, column, code) {
  const prefix = CHOICE_LABELS[`${spec.name}.${column.name}`];
  return prefix ? label(prefix, code) : code;
}

function title(item) {
  return (item.title || item.label || {})[language()] || item.name;
}

function parseQuery(raw) {
  try {
    const value = JSON.parse(raw || "{}");
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

/** The input for one filter value, by column type and operator. */
function valueControl(spec, column, op, value) {
  const name = "value";
  const label = t("search.value");
  if (op === "is_null") {
    return field({ name, label, kind: "select", value: String(value ?? true),
      options: [{ value: "true", label: t("search.is_empty") }, { value: "false", label: t("search.is_not_empty") }] });
  }
  if (op === "in") {
    return field({ name, label, value: Array.isArray(value) ? value.join(", ") : (value ?? ""),
      hint: column.choices.length ? column.choices.join(", ") : t("search.in_hint") });
  }
  if (column.type === "enum" || column.type === "boolean") {
    const choices = column.type === "boolean" ? ["true", "false"] : column.choices;
    return field({ name, label, kind: "select", value: String(value ?? choices[0]),
      options: choices.map((c) => ({ value: c, label: column.type === "enum" ? choiceLabel(spec, column, c) : c })) });
  }
  if (column.type === "timestamp") {
    return field({ name, label, kind: "datetime-local", value: isoToAlmatyLocal(value), hint: t("hint.almaty") });
  }
  if (column.type === "date") return field({ name, label, kind: "date", value: value ?? "" });
  if (column.type === "money") {
    return field({ name, label, value: value ?? "", inputmode: "decimal", hint: t("search.money_hint") });
  }
  if (column.type === "integer") return field({ name, label, value: value ?? "", inputmode: "numeric" });
  return field({ name, label, value: value ?? "" });
}

function filterValue(column, op, raw) {
  if (op === "is_null") return raw === "true";
  if (op === "in") return String(raw || "").split(",").map((v) => v.trim()).filter(Boolean);
  if (column.type === "boolean") return raw === "true";
  if (column.type === "timestamp") return almatyToIso(raw);
  return raw ?? "";
}

const OPERATOR_KEYS = ["eq", "ne", "in", "contains", "gt", "gte", "lt", "lte", "is_null"];

function filterRow(spec, filter, onRemove) {
  const filterable = spec.columns.filter((c) => c.filterable);
  const row = h("fieldset", { class: "filter-row" }, h("legend", { class: "visually-hidden" }, t("search.filter")));
  let column = filterable.find((c) => c.name === filter?.field) || filterable[0];
  let op = filter?.op && column.operators.includes(filter.op) ? filter.op : column.operators[0];
  const draw = (value) => {
    const columnField = field({ name: "field", label: t("search.column"), kind: "select", value: column.name,
      options: filterable.map((c) => ({ value: c.name, label: title(c) })) });
    const opField = field({ name: "op", label: t("search.operator"), kind: "select", value: op,
      options: column.operators.map((o) => ({ value: o, label: OPERATOR_KEYS.includes(o) ? t(`op.${o}`) : o })) });
    columnField.querySelector("select").addEventListener("change", (event) => {
      column = filterable.find((c) => c.name === event.target.value);
      op = column.operators[0];
      draw(null);
    });
    opField.querySelector("select").addEventListener("change", (event) => {
      op = event.target.value;
      draw(null);
    });
    row.replaceChildren(row.firstChild, columnField, opField, valueControl(spec, column, op, value),
      button(t("search.remove_filter"), onRemove, { class: "remove" }));
  };
  draw(filter?.value);
  row.read = () => {
    const raw = row.querySelector("[name=value]").value;
    return { field: column.name, op, value: filterValue(column, op, raw) };
  };
  return row;
}

function queryForm(spec, query, onSubmit) {
  const rows = h("div", { class: "filter-rows" });
  const add = (filter) => {
    const row = filterRow(spec, filter, () => row.remove());
    rows.append(row);
  };
  for (const filter of query.filters || []) add(filter);
  const sortable = spec.columns.filter((c) => c.sortable);
  const sort = query.sort || spec.default_sort;
  const timeFields = spec.time_column ? [
    field({ name: "from", label: t("search.from", { column: title(spec.columns.find((c) => c.name === spec.time_column)) }),
      kind: "datetime-local", value: isoToAlmatyLocal(query.from), hint: t("hint.almaty") }),
    field({ name: "to", label: t("field.to"), kind: "datetime-local", value: isoToAlmatyLocal(query.to) }),
  ] : [];
  const asOf = spec.as_of ? field({ name: "as_of", label: t("search.as_of"), kind: "datetime-local",
    value: isoToAlmatyLocal(query.as_of), hint: t("search.as_of_hint") }) : null;
  const form = h("form", { class: "search-form card", role: "search", "aria-label": t("search.form") },
    h("h2", {}, t("search.filters")), rows,
    h("div", { class: "actions" }, button(t("search.add_filter"), () => add(null))),
    h("div", { class: "inline-fields" }, timeFields, asOf,
      field({ name: "sort_field", label: t("search.sort_by"), kind: "select", value: sort.field,
        options: sortable.map((c) => ({ value: c.name, label: title(c) })) }),
      field({ name: "sort_direction", label: t("search.direction"), kind: "select", value: sort.direction,
        options: [{ value: "asc", label: t("search.asc") }, { value: "desc", label: t("search.desc") }] })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("list.apply"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(form);
    const built = { filters: [...rows.children].map((row) => row.read()),
      sort: { field: values.sort_field, direction: values.sort_direction } };
    if (values.from) built.from = almatyToIso(values.from);
    if (values.to) built.to = almatyToIso(values.to);
    if (values.as_of) built.as_of = almatyToIso(values.as_of);
    onSubmit(built);
  });
  return form;
}

function resultTable(spec, page, onSort) {
  const columns = spec.columns.map((c) => ({ key: c.name, label: title(c), numeric: ["money", "integer"].includes(c.type),
    sortable: c.sortable, format: c.type === "timestamp" ? "datetime" : c.type === "json" ? "json" : null,
    render: c.type === "json" ? (row) => (row[c.name] && Object.keys(row[c.name]).length
      ? h("details", {}, h("summary", {}, t("list.show")), h("pre", {}, JSON.stringify(row[c.name], null, 2))) : "—")
      : c.type === "enum" ? (row) => (row[c.name] == null ? "—" : choiceLabel(spec, c, row[c.name]))
        : (row) => formatCell(row[c.name], c.type === "timestamp" ? "datetime" : null) }));
  return dataTable({ caption: page.as_of ? t("search.as_of_caption", { time: formatCell(page.as_of, "datetime") }) : title(spec),
    columns, rows: page.rows, sort: { key: page.sort.field, dir: page.sort.direction, onSort } });
}

function savedPanel(ctx, saved, specs) {
  const panel = h("section", { class: "card saved-queries", "aria-labelledby": "saved-title" },
    h("h2", { id: "saved-title" }, t("search.saved")));
  if (!saved.length) {
    panel.append(h("p", { class: "hint" }, t("search.none_saved")));
    return panel;
  }
  panel.append(h("ul", {}, saved.map((s) => {
    const spec = specs.find((x) => x.name === s.list);
    return h("li", { dataset: { saved: s.id } },
      h("a", { href: `#/search?saved=${encodeURIComponent(s.id)}` }, s.name),
      h("span", { class: "hint" }, ` · ${spec ? title(spec) : s.list} `),
      button(t("search.delete_saved"), async (event) => {
        event.target.disabled = true;
        try {
          await api(`/api/search/saved/${encodeURIComponent(s.id)}`, { method: "DELETE" });
          toast(t("search.deleted", { name: s.name }));
          event.target.closest("li").remove();
        } catch (error) {
          event.target.disabled = false;
          showError(panel, error);
        }
      }, { class: "link-like", "aria-label": t("search.delete_named", { name: s.name }) }));
  })));
  return panel;
}

export async function searchPage(ctx) {
  const q = ctx.query;
  const [{ lists }, { saved }] = await Promise.all([api("/api/search/lists"), api("/api/search/saved")]);
  const errors = h("div", { class: "error-slot" });
  const results = h("div", { class: "results", "aria-live": "polite" });
  let listName = q.list && lists.some((l) => l.name === q.list) ? q.list : lists[0]?.name;
  let query = parseQuery(q.q);
  let savedQuery = null;
  let first = null;
  if (q.saved) {
    // Run a saved query again: its list and query come back with the first page.
    try {
      first = await api(`/api/search/saved/${encodeURIComponent(q.saved)}/run`);
      savedQuery = first.saved;
      listName = savedQuery.list;
      query = savedQuery.query;
    } catch (error) {
      showError(errors, error);
    }
  }
  const spec = lists.find((l) => l.name === listName);
  const listSelect = field({ name: "list", label: t("search.list"), kind: "select", value: listName,
    options: lists.map((l) => ({ value: l.name, label: title(l) })) });
  listSelect.querySelector("select").addEventListener("change", (event) => ctx.navigate("search", { list: event.target.value }));
  const run = (built) => ctx.navigate("search", { list: listName, q: JSON.stringify(built) });
  const layout = h("div", { class: "search-layout" },
    h("div", { class: "search-main" }, listSelect, spec ? queryForm(spec, query, run) : null),
    savedPanel(ctx, saved, lists));
  ctx.main.append(h("h1", { id: "page-title" }, savedQuery ? t("search.title_saved", { name: savedQuery.name }) : t("search.title")),
    layout, errors, results);
  if (!spec || (!q.q && !first)) return;

  const saveForm = h("form", { class: "save-query inline-fields", "aria-label": t("search.save") },
    field({ name: "name", label: t("search.save_name"), required: true, value: savedQuery ? savedQuery.name : "" }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("search.save"))));
  const saveErrors = h("div", { class: "error-slot" });
  saveForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await api("/api/search/saved", { method: "POST",
        body: { name: formValues(saveForm).name || "", list: listName, query: { ...query, limit: PAGE } } });
      toast(t("search.saved_as", { name: answer.saved.name }));
      showError(saveErrors, null);
      ctx.navigate("search", { saved: answer.saved.id });
    } catch (error) {
      showError(saveErrors, error, saveForm);
    }
  });

  const cursors = [];
  async function load(cursor) {
    results.setAttribute("aria-busy", "true");
    try {
      const page = first && !cursor ? first
        : savedQuery ? await api(`/api/search/saved/${encodeURIComponent(savedQuery.id)}/run`, { query: { cursor } })
          : await api(`/api/search/${encodeURIComponent(listName)}`, { method: "POST",
            body: { ...query, limit: PAGE, ...(cursor ? { cursor } : {}) } });
      showError(errors, null);
      const onSort = (key) => {
        const direction = page.sort.field === key && page.sort.direction === "asc" ? "desc" : "asc";
        run({ ...query, sort: { field: key, direction } });
      };
      append(clear(results), [
        h("p", { class: "hint", role: "status" }, t("search.shown", { count: page.rows.length })),
        resultTable(spec, page, onSort),
        h("div", { class: "pager" },
          cursors.length ? button(t("list.first_page"), () => { cursors.length = 0; load(null); }) : null,
          page.next_cursor ? button(t("list.next_page"), () => { cursors.push(page.next_cursor); load(page.next_cursor); }) : null),
        savedQuery ? null : h("div", {}, saveForm, saveErrors)]);
    } catch (error) {
      showError(errors, error);
    } finally {
      results.removeAttribute("aria-busy");
    }
  }
  await load(null);
}
