// Electronic document exchange (§14.1(10), §VII): the archive of documents sent, received and refused,
// sending a file signed with the appliance's key, receiving a file with its detached signature (checked
// against the counterparty's registered keys; a tampered or unsigned file is refused and archived), the
// registry of counterparties' keys and certificates, and the appliance's own public key.

import { api, download } from "../api.js";
import { button, dataTable, definitionList, field, formatCell, formValues, h, link, saveBlob, showError, toast } from "../dom.js";
import { almatyToIso, label, t } from "../i18n.js";
import { actionForm } from "./actions.js";

const DOC_TYPES = ["register", "statement", "notice", "other"];
const when = (value) => formatCell(value, "datetime");

async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fileForm({ id, title, submit, incoming, ctx }) {
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { novalidate: true, "aria-labelledby": `${id}-title` },
    field({ name: "counterparty", label: t("documents.counterparty"), required: true, hint: t("documents.counterparty_hint") }),
    field({ name: "doc_type", label: t("documents.doc_type"), kind: "select", value: "register",
      options: DOC_TYPES.map((d) => ({ value: d, label: label("doc_type", d) })) }),
    field({ name: "file", label: t("documents.file"), kind: "file", required: true }),
    incoming ? field({ name: "signature", label: t("documents.signature_file"), kind: "file", hint: t("documents.signature_hint") }) : null,
    incoming ? field({ name: "key_fingerprint", label: t("documents.fingerprint"), hint: t("documents.fingerprint_hint") }) : null,
    field({ name: "note", label: t("incident.note") }),
    errors,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, submit)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const file = form.elements.namedItem("file").files[0];
    if (!file) {
      showError(errors, { code: "FIELD_REQUIRED", message: t("documents.choose_file"),
        problems: [{ field: "file", message: t("documents.choose_file") }] }, form);
      return;
    }
    const body = { counterparty: values.counterparty || "", doc_type: values.doc_type, file_name: file.name,
      media_type: file.type || "application/octet-stream", content_base64: await base64Of(file) };
    if (values.note) body.note = values.note;
    if (incoming) {
      const signature = form.elements.namedItem("signature").files[0];
      if (signature) body.signature_base64 = await base64Of(signature);
      if (values.key_fingerprint) body.key_fingerprint = values.key_fingerprint;
    }
    try {
      const { document: doc } = await api(`/api/documents/${incoming ? "incoming" : "outgoing"}`,
        { method: "POST", body, idempotent: true });
      toast(t("action.done"));
      ctx.navigate(`documents/${doc.id}`);
    } catch (error) {
      showError(errors, error, form);
      // A refused file is archived as evidence: link to its record.
      const refused = error.body && error.body.document;
      if (refused) {
        errors.querySelector("[role=alert]").append(h("p", {}, link(`#/documents/${refused.id}`,
          t("documents.refused_record", { number: refused.number }))));
      }
    }
  });
  return h("details", { class: "card action", id }, h("summary", {}, h("span", { id: `${id}-title` }, title)), form);
}

function keysSection(ctx, keys) {
  const isAdmin = ctx.session.can("documents.keys");
  const reload = () => ctx.navigate("documents", ctx.query);
  return h("section", { "aria-labelledby": "keys-title" },
    h("h2", { id: "keys-title" }, t("documents.keys")),
    isAdmin ? actionForm({ id: "act-key", title: t("documents.add_key"), submit: t("documents.add_key"), path: "/api/documents/keys",
      fields: [field({ name: "counterparty", label: t("documents.counterparty"), required: true, hint: t("documents.counterparty_hint") }),
        field({ name: "participant_id", label: t("aml.participant_id") }),
        field({ name: "pem", label: t("documents.pem"), kind: "textarea", required: true, hint: t("documents.pem_hint") }),
        field({ name: "valid_from", label: t("documents.valid_from"), kind: "datetime-local", hint: t("documents.validity_hint") }),
        field({ name: "valid_to", label: t("documents.valid_to"), kind: "datetime-local" })],
      body: (v) => ({ counterparty: v.counterparty || "", pem: v.pem || "",
        ...(v.participant_id ? { participant_id: v.participant_id } : {}),
        ...(v.valid_from ? { valid_from: almatyToIso(v.valid_from) } : {}),
        ...(v.valid_to ? { valid_to: almatyToIso(v.valid_to) } : {}) }),
      done: reload }) : null,
    dataTable({
      caption: t("documents.keys_caption"),
      columns: [
        { key: "counterparty", label: t("documents.counterparty") },
        { key: "kind", label: t("field.kind"), render: (k) => `${k.kind} · ${k.algorithm}` },
        { key: "fingerprint", label: t("documents.fingerprint"), render: (k) => h("code", { class: "fingerprint" }, k.fingerprint) },
        { key: "subject", label: t("documents.subject") },
        { key: "valid", label: t("documents.validity"), render: (k) => `${when(k.valid_from)} – ${when(k.valid_to)}` },
        { key: "valid_now", label: t("field.status"), render: (k) => (k.revoked_at
          ? h("span", { class: "badge overdue" }, t("documents.revoked", { time: when(k.revoked_at) }))
          : h("span", { class: k.valid_now ? "badge" : "badge due-soon" }, k.valid_now ? t("documents.valid") : t("documents.not_valid"))) },
        ...(isAdmin ? [{ key: "act", label: t("aml.actions"), render: (k) => (k.revoked_at ? "—" : actionForm({
          id: `act-revoke-${k.id}`, title: t("documents.revoke"), submit: t("documents.revoke"),
          path: `/api/documents/keys/${k.id}/revoke`,
          fields: [field({ name: "reason", label: t("aml.reason"), required: true })], done: reload })) }] : []),
      ],
      rows: keys,
    }));
}

export async function documentsPage(ctx) {
  const q = ctx.query;
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { class: "filters", role: "search", "aria-label": t("documents.filters") },
    field({ name: "direction", label: t("documents.direction"), kind: "select", value: q.direction || "",
      options: [{ value: "", label: t("list.any") }, ...["outgoing", "incoming"].map((d) => ({ value: d, label: label("doc_direction", d) }))] }),
    field({ name: "status", label: t("field.status"), kind: "select", value: q.status || "",
      options: [{ value: "", label: t("list.any") }, ...["sent", "accepted", "refused"].map((s) => ({ value: s, label: label("doc_status", s) }))] }),
    field({ name: "counterparty", label: t("documents.counterparty"), value: q.counterparty || "" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("list.apply")),
      button(t("list.reset"), () => ctx.navigate("documents"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate("documents", formValues(form));
  });
  const [{ documents }, { keys }] = await Promise.all([
    api("/api/documents", { query: { direction: q.direction, status: q.status, counterparty: q.counterparty, limit: 100 } }),
    api("/api/documents/keys"),
  ]);
  ctx.main.append(h("h1", { id: "page-title" }, t("documents.title")));
  if (ctx.session.can("documents.exchange")) {
    ctx.main.append(h("div", { class: "actions-grid" },
      fileForm({ id: "act-send", title: t("documents.send_title"), submit: t("documents.send"), incoming: false, ctx }),
      fileForm({ id: "act-receive", title: t("documents.receive_title"), submit: t("documents.receive"), incoming: true, ctx })));
  }
  const ownKey = h("div", {});
  ctx.main.append(
    h("h2", {}, t("documents.archive")), form, errors,
    dataTable({
      caption: t("documents.caption"),
      columns: [
        { key: "number", label: "№", render: (d) => link(`#/documents/${d.id}`, String(d.number)) },
        { key: "recorded_at", label: t("field.created_at"), format: "datetime" },
        { key: "direction", label: t("documents.direction"), render: (d) => label("doc_direction", d.direction) },
        { key: "status", label: t("field.status"), render: (d) => h("span", { dataset: { status: d.status } },
          label("doc_status", d.status), d.refusal_code ? ` (${d.refusal_code})` : "") },
        { key: "counterparty", label: t("documents.counterparty") },
        { key: "doc_type", label: t("documents.doc_type"), render: (d) => label("doc_type", d.doc_type) },
        { key: "file_name", label: t("documents.file") },
        { key: "size", label: t("documents.size"), numeric: true },
      ],
      rows: documents,
    }),
    keysSection(ctx, keys),
    h("h2", {}, t("documents.own_key")),
    h("div", { class: "actions" }, button(t("documents.show_own_key"), async (event) => {
      event.target.disabled = true;
      try {
        const { signing_key: key } = await api("/api/documents/signing-key");
        ownKey.replaceChildren(definitionList([[t("documents.fingerprint"), h("code", {}, key.fingerprint)],
          [t("documents.pem"), h("pre", {}, key.public_key_pem)]]));
      } catch (error) {
        showError(ownKey, error);
      } finally {
        event.target.disabled = false;
      }
    })), ownKey);
}

export async function documentPage(ctx) {
  const [id] = ctx.params;
  const path = `/api/documents/${encodeURIComponent(id)}`;
  const { document: d } = await api(path);
  const errors = h("div", { class: "error-slot" });
  const save = (part, fallback) => async (event) => {
    event.target.disabled = true;
    try {
      const file = await download(`${path}/${part}`, null, fallback);
      saveBlob(file.blob, file.filename);
      showError(errors, null);
    } catch (error) {
      showError(errors, error);
    } finally {
      event.target.disabled = false;
    }
  };
  ctx.main.append(
    h("p", { class: "breadcrumbs" }, link("#/documents", t("documents.title"))),
    h("h1", { id: "page-title" }, t("documents.heading", { number: d.number, name: d.file_name })),
    definitionList([
      [t("documents.direction"), label("doc_direction", d.direction)],
      [t("field.status"), h("span", { id: "document-status", dataset: { status: d.status } }, label("doc_status", d.status),
        d.refusal_code ? ` (${d.refusal_code})` : "")],
      [t("documents.counterparty"), d.counterparty],
      [t("documents.doc_type"), label("doc_type", d.doc_type)],
      [t("documents.file"), `${d.file_name} · ${d.media_type} · ${d.size}`],
      ["SHA-256", h("code", {}, d.content_sha256)],
      [t("documents.signed"), d.signed ? t("aml.yes") : t("aml.no")],
      [t("documents.fingerprint"), d.key_fingerprint ? h("code", {}, d.key_fingerprint) : "—"],
      [t("incident.note"), formatCell(d.note)],
      [t("incident.recorded_by"), `${when(d.recorded_at)} · ${d.recorded_by}`],
      [t("incident.retain_until"), when(d.retain_until)],
      [t("documents.deleted"), d.deleted_at ? `${when(d.deleted_at)} · ${d.deleted_by} · ${d.deleted_reason}` : "—"],
    ]),
    d.deleted_at ? null : h("div", { class: "actions", role: "toolbar", "aria-label": t("documents.files") },
      button(t("documents.download_file"), save("content", d.file_name)),
      d.signed ? button(t("documents.download_signature"), save("signature", `${d.file_name}.sig`)) : null),
    errors);
  if (ctx.session.can("documents.keys") && !d.deleted_at && d.retain_until && new Date(d.retain_until) < new Date()) {
    ctx.main.append(actionForm({ id: "act-delete", title: t("documents.delete"), submit: t("documents.delete"),
      path: `${path}/deletion`, fields: [field({ name: "reason", label: t("aml.reason"), required: true })],
      done: () => ctx.navigate(`documents/${id}`) }));
  }
}
