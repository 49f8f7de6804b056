// Who is logged in, and what the console offers them. The API enforces every rule (a forbidden call
// answers 403 ROLE_FORBIDDEN); this table only keeps the console from offering what would be refused,
// so that an auditor sees read-only pages with no action buttons.

import { api, setToken, token } from "./api.js";

const READ = ["admin", "operator", "auditor"];

// Mirrors the roles each route declares in the API (services/operator/oson_operator/api/routers/).
export const CAPABILITIES = {
  "dashboard.view": READ,
  "participants.view": READ,
  "operations.view": READ,
  "ledger.check": READ,
  "events.view": ["admin", "auditor"],
  "search.view": READ,
  "search.save": READ, // a saved query is the user's own (the API lets auditors keep theirs too)
  "journals.view": READ,
  "reports.view": READ,
  "incidents.view": READ,
  "incidents.record": ["admin", "operator"],
  "incidents.change": ["admin", "operator"],
  "aml.view": READ,
  "aml.act": ["admin", "operator"],
  "disputes.view": READ,
  "documents.view": READ,
  "documents.exchange": ["admin", "operator"],
  "documents.keys": ["admin"],
  "staff.view": ["admin", "auditor"],
  "staff.manage": ["admin"],
  "disputes.act": ["admin", "operator"],
};

let me = null;

export function current() {
  return me;
}

export function can(capability) {
  return Boolean(me && (CAPABILITIES[capability] || []).includes(me.role));
}

export function isReadOnly() {
  return me?.role === "auditor";
}

export async function refresh() {
  if (!token()) {
    me = null;
    return null;
  }
  me = await api("/api/auth/me");
  return me;
}

export function forget() {
  me = null;
  setToken(null);
}

export async function logout() {
  try {
    if (token()) await api("/api/auth/logout", { method: "POST" });
  } finally {
    forget();
  }
}

/** What the session must do before anything else: "password", "totp", or null. */
export function pendingStep() {
  if (!me) return null;
  if (me.must_change_password) return "password";
  if (me.totp_enrollment_required) return "totp";
  return null;
}
