// Texts in Kazakh, Russian and English. The choice is kept in localStorage and sent to the API as
// Accept-Language, so that the API's coded messages come back in the same language.

import en from "./lang/en.js";
import kk from "./lang/kk.js";
import ru from "./lang/ru.js";

export const LANGUAGES = { kk, ru, en };
export const LOCALES = { kk: "kk-KZ", ru: "ru-RU", en: "en-GB" };
// Operational days and the times staff read are Almaty's (§12.1.2); the API stores UTC.
export const TIME_ZONE = "Asia/Almaty";
const STORAGE_KEY = "oson.language";

function initialLanguage() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && saved in LANGUAGES) return saved;
  for (const tag of navigator.languages || []) {
    const primary = tag.toLowerCase().split("-")[0];
    if (primary in LANGUAGES) return primary;
  }
  return "ru"; // the API's default as well
}

let current = initialLanguage();
const listeners = new Set();

export function language() {
  return current;
}

export function setLanguage(lang) {
  if (!(lang in LANGUAGES) || lang === current) return;
  current = lang;
  localStorage.setItem(STORAGE_KEY, lang);
  document.documentElement.lang = lang;
  for (const listener of listeners) listener(lang);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

/** The text for key in the current language ({name} placeholders filled); English, then the key, as fallbacks. */
export function t(key, params = {}) {
  const text = LANGUAGES[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Label of a code (status, kind, role...) under a prefix, or the code itself when there is none. */
export function label(prefix, code) {
  if (code === null || code === undefined) return "—";
  const key = `${prefix}.${code}`;
  return LANGUAGES[current][key] ?? en[key] ?? String(code);
}

export function formatDateTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(LOCALES[current], {
    timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  }).format(date);
}

/** Almaty's UTC offset ("+05:00") at a given instant. */
export function almatyOffset(instant = new Date()) {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: TIME_ZONE, timeZoneName: "longOffset" })
    .formatToParts(instant).find((p) => p.type === "timeZoneName");
  const match = /GMT([+-]\d{2}:\d{2})?/.exec(part ? part.value : "");
  return match && match[1] ? match[1] : "+00:00";
}

/** A datetime-local value ("2026-11-21T09:30"), read as Almaty time, as ISO 8601 with its offset. */
export function almatyToIso(local) {
  if (!local) return null;
  const withSeconds = local.length === 16 ? `${local}:00` : local;
  const guess = new Date(`${withSeconds}Z`);
  return `${withSeconds}${almatyOffset(guess)}`;
}

/** Today's date in Almaty as YYYY-MM-DD (the operational day). */
export function almatyToday(offsetDays = 0) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(Date.now() + offsetDays * 86400000));
  return parts;
}

/** An ISO 8601 time as a datetime-local value in Almaty ("2026-11-21T09:30"). */
export function isoToAlmatyLocal(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE, year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false })
    .formatToParts(date).map((p) => [p.type, p.value]));
  const hour = parts.hour === "24" ? "00" : parts.hour;
  return `${parts.year}-${parts.month}-${parts.day}T${hour}:${parts.minute}`;
}
