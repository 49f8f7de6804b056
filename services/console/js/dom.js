// Small DOM builders. Everything is built with createElement and text nodes, never innerHTML, so
// that data from the API cannot inject markup and the page runs under a strict CSP.

import { t, formatDateTime } from "./i18n.js";

let nextId = 0;
export function uid(prefix = "f") {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  return append(el, children);
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A labelled form control. kind: text|password|date|datetime-local|number|select|textarea|checkbox. */
export function field({ name, label, kind = "text", value = "", options = null, required = false, hint = null,
  autocomplete = null, inputmode = null, multiple = false, attrs = {} }) {
  const id = uid(name.replace(/[^a-z0-9]/gi, "-"));
  const hintId = hint ? `${id}-hint` : null;
  let input;
  if (kind === "select") {
    input = h("select", { id, name, required, multiple, "aria-describedby": hintId, ...attrs },
      (options || []).map((o) => h("option", { value: o.value, selected: String(o.value) === String(value) }, o.label)));
  } else if (kind === "textarea") {
    input = h("textarea", { id, name, required, rows: 4, "aria-describedby": hintId, ...attrs });
    input.value = value ?? "";
  } else if (kind === "checkbox") {
    input = h("input", { id, name, type: "checkbox", checked: Boolean(value), "aria-describedby": hintId, ...attrs });
  } else {
    input = h("input", { id, name, type: kind, required, autocomplete, inputmode, "aria-describedby": hintId, ...attrs });
    input.value = value ?? "";
  }
  const wrap = h("div", { class: `field field-${kind}${required ? " is-required" : ""}`, dataset: { field: name } },
    // The asterisk of a required field is drawn by CSS (label::after); the input's own required says it to readers.
    h("label", { for: id }, label),
    input,
    hint ? h("small", { id: hintId, class: "hint" }, hint) : null);
  return wrap;
}

/** The values of a form's named controls; empty ones left out. */
export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") values[el.name] = el.checked;
    else if (el.multiple) values[el.name] = [...el.selectedOptions].map((o) => o.value);
    else if (el.value !== "") values[el.name] = el.value;
  }
  return values;
}

/** An error box (role=alert) for an ApiError or any Error; marks the form's fields the API named. */
export function errorBox(error, form = null) {
  const problems = error.problems || [];
  if (form) {
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    for (const p of problems) {
      const leaf = String(p.field || "").split(".").pop();
      const el = form.elements.namedItem(p.field) || form.elements.namedItem(leaf);
      if (el && el.setAttribute) el.setAttribute("aria-invalid", "true");
    }
  }
  return h("div", { class: "error", role: "alert", dataset: { code: error.code || "" } },
    h("p", {}, h("strong", {}, error.message || t("error.unknown")),
      error.code ? h("span", { class: "code" }, ` (${error.code})`) : null),
    problems.length ? h("ul", {}, problems.map((p) => h("li", {}, p.field ? h("code", {}, p.field) : null,
      p.field ? ": " : null, p.message || p.code))) : null,
    error.requestId ? h("p", { class: "request-id" }, t("error.request_id", { id: error.requestId })) : null);
}

/** Put an error (or nothing) into a slot element. */
export function showError(slot, error, form = null) {
  clear(slot);
  if (error) {
    slot.append(errorBox(error, form));
    slot.querySelector("[role=alert]")?.focus?.();
  }
}

export function formatCell(value, format) {
  if (value === null || value === undefined || value === "") return "—";
  if (format === "datetime") return formatDateTime(value);
  if (format === "json") return typeof value === "string" ? value : JSON.stringify(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * An accessible data table. columns: [{key, label, format?, render?(row)}].
 * sort: {key, dir, onSort(key)} makes the headers buttons that sort (aria-sort on the sorted one).
 */
export function dataTable({ caption, columns, rows, empty = t("list.empty"), sort = null, rowKey = null }) {
  const head = h("tr", {}, columns.map((c) => {
    const sorted = sort && sort.key === c.key;
    const ariaSort = sorted ? (sort.dir === "desc" ? "descending" : "ascending") : null;
    const content = sort && c.sortable !== false
      ? h("button", { type: "button", class: "sort", onclick: () => sort.onSort(c.key) }, c.label,
        h("span", { "aria-hidden": "true" }, sorted ? (sort.dir === "desc" ? " ▼" : " ▲") : ""))
      : c.label;
    return h("th", { scope: "col", "aria-sort": ariaSort, class: c.numeric ? "num" : null }, content);
  }));
  const body = rows.length
    ? rows.map((row) => h("tr", { dataset: rowKey ? { key: row[rowKey] } : {} }, columns.map((c) =>
      h("td", { class: c.numeric ? "num" : null }, c.render ? c.render(row) : formatCell(row[c.key], c.format)))))
    : [h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty))];
  return h("div", { class: "table-wrap" },
    h("table", { class: "data" }, caption ? h("caption", {}, caption) : null, h("thead", {}, head),
      h("tbody", {}, body)));
}

export function definitionList(pairs) {
  return h("dl", { class: "pairs" }, pairs.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
}

export function link(href, text, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

export function pageHeader(title, ...extra) {
  return h("div", { class: "page-head" }, h("h1", { id: "page-title" }, title), extra.length ? h("div", { class: "page-actions" }, extra) : null);
}

export function button(label, onclick, attrs = {}) {
  return h("button", { type: "button", onclick, ...attrs }, label);
}

/** Disable a form's submit while a request runs and mark the region busy. */
export async function busy(form, work) {
  const submit = form.querySelector("[type=submit]");
  form.setAttribute("aria-busy", "true");
  if (submit) submit.disabled = true;
  try {
    return await work();
  } finally {
    form.removeAttribute("aria-busy");
    if (submit) submit.disabled = false;
  }
}

let toastTimer = null;
export function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.classList.add("visible");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("visible"), 4000);
}

/** Offer a Blob as a file download (API files need the bearer token, so a plain link will not do). */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, class: "visually-hidden" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
