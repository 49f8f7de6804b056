// The one way the console talks to the API at the same origin (/api/...). Errors come back as the
// API's coded body ({"error": {code, message}, "problems": [...], "request_id"}) and are thrown as
// ApiError, whose message is already in the user's language (we send Accept-Language).

import { language, t } from "./i18n.js";

const TOKEN_KEY = "oson.token";
let unauthorizedHandler = () => {};
let restrictionHandler = () => {};

export class ApiError extends Error {
  constructor(status, code, message, problems = [], requestId = null, params = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems;
    this.requestId = requestId;
    this.params = params;
  }
}

// The token lives in sessionStorage: it dies with the tab, and the API ends it after 30 idle minutes.
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Called with the error when a request with a token answers 401 (the session ended). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** Called when the API says the session must first change its password or enrol TOTP. */
export function onRestriction(handler) {
  restrictionHandler = handler;
}

export function buildUrl(path, query = null) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => url.searchParams.append(key, v));
    else url.searchParams.set(key, value);
  }
  return url.pathname + url.search;
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: an error page of a proxy in between, or a plain-text answer.
  }
  const err = body && body.error;
  if (err) {
    const error = new ApiError(response.status, err.code, err.message, body.problems || [], body.request_id, err.params || {});
    error.body = body; // some refusals carry the record they left (e.g. a refused document, archived)
    return error;
  }
  const code = response.status === 502 || response.status === 503 || response.status === 504
    ? "SERVICE_UNAVAILABLE" : `HTTP_${response.status}`;
  return new ApiError(response.status, code, t("error.http", { status: response.status }));
}

/**
 * Call the API. Returns parsed JSON, or the Response itself with {raw: true} (files).
 * idempotent: send an Idempotency-Key so that a retried command is never done twice.
 */
export async function api(path, { method = "GET", body = undefined, query = null, raw = false, idempotent = false,
  accept = "application/json" } = {}) {
  const headers = { "Accept-Language": language(), Accept: accept };
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotent) headers["Idempotency-Key"] = crypto.randomUUID();
  let response;
  try {
    response = await fetch(buildUrl(path, query), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "NETWORK_ERROR", t("error.network"));
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && current && path !== "/api/auth/login") unauthorizedHandler(error);
    if (error.code === "PASSWORD_CHANGE_REQUIRED" || error.code === "TOTP_ENROLLMENT_REQUIRED") {
      restrictionHandler(error);
    }
    throw error;
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** A file from the API: {blob, filename} (name from Content-Disposition, else the fallback). */
export async function download(path, query, fallbackName) {
  const response = await api(path, { query, raw: true, accept: "*/*" });
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
  const filename = match ? decodeURIComponent(match[1] || match[2]) : fallbackName;
  return { blob: await response.blob(), filename, type: response.headers.get("Content-Type") || "" };
}
