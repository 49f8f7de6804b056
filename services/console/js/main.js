// The console's shell: routes (#/path?query), the navigation, the language menu and the session.

import { onRestriction, onUnauthorized, token } from "./api.js";
import { clear, errorBox, h } from "./dom.js";
import { label, language, onLanguageChange, setLanguage, t } from "./i18n.js";
import * as session from "./session.js";
import { ROUTES, NAV } from "./routes.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let renderSerial = 0;
let notice = null; // a message for the login page (session ended, logged out)

export function navigate(path, query = null) {
  const search = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v != null)).toString() : "";
  const hash = `#/${path}${search ? `?${search}` : ""}`;
  if (window.location.hash === hash) render();
  else window.location.hash = hash;
}

function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  return { path: path || "dashboard", query: Object.fromEntries(new URLSearchParams(search)) };
}

function match(path) {
  for (const route of ROUTES) {
    const found = route.pattern.exec(path);
    if (found) return { route, params: found.slice(1).map(decodeURIComponent) };
  }
  return null;
}

function renderChrome() {
  document.documentElement.lang = language();
  document.getElementById("lang-select").value = language();
  document.getElementById("lang-label").textContent = t("app.language");
  document.getElementById("skip-link").textContent = t("app.skip");
  document.getElementById("brand").textContent = t("app.title");
  nav.setAttribute("aria-label", t("app.sections"));
  const me = session.current();
  const who = document.getElementById("whoami");
  const logoutButton = document.getElementById("logout-button");
  logoutButton.textContent = t("app.logout");
  if (me && !session.pendingStep()) {
    who.hidden = false;
    who.textContent = `${me.full_name || me.name} · ${label("role", me.role)}`;
  } else {
    who.hidden = true;
  }
  logoutButton.hidden = !me;
  clear(nav);
  nav.hidden = !me || Boolean(session.pendingStep());
  if (nav.hidden) return;
  const currentPath = parseHash().path.split("/")[0];
  nav.append(h("ul", {}, NAV.filter((item) => session.can(item.capability)).map((item) => h("li", {},
    h("a", { href: `#/${item.path}`, "aria-current": currentPath === item.path ? "page" : null }, t(item.label))))));
}

async function render() {
  const serial = ++renderSerial;
  document.body.classList.remove("print-preview");
  const { path, query } = parseHash();
  let me = session.current();
  if (!me && token()) {
    try {
      me = await session.refresh();
    } catch {
      session.forget();
      me = null;
    }
  }
  const step = session.pendingStep();
  if (!me && path !== "login") return navigate("login");
  if (me && step && path !== step) return navigate(step);
  if (me && !step && ["login", "password", "totp"].includes(path)) return navigate("dashboard");
  renderChrome();
  const found = match(path);
  clear(main);
  main.setAttribute("aria-busy", "true");
  try {
    if (!found) {
      main.append(h("h1", { id: "page-title" }, t("error.not_found_page")));
    } else if (found.route.capability && !session.can(found.route.capability)) {
      main.append(h("h1", { id: "page-title" }, t("error.forbidden_page")));
    } else {
      const ctx = { main, params: found.params, query, navigate, session, notice: takeNotice(),
        stale: () => serial !== renderSerial };
      await found.route.page(ctx);
    }
  } catch (error) {
    if (serial === renderSerial) main.append(errorBox(error));
  } finally {
    if (serial === renderSerial) {
      main.removeAttribute("aria-busy");
      const title = main.querySelector("h1");
      document.title = `${title ? title.textContent : ""} — ${t("app.title")}`;
    }
  }
}

function takeNotice() {
  const value = notice;
  notice = null;
  return value;
}

function start() {
  document.getElementById("lang-select").addEventListener("change", (event) => setLanguage(event.target.value));
  document.getElementById("logout-button").addEventListener("click", async () => {
    await session.logout().catch(() => {});
    notice = t("login.logged_out");
    navigate("login");
  });
  onLanguageChange(() => render());
  onUnauthorized((error) => {
    session.forget();
    notice = error.message;
    navigate("login");
  });
  onRestriction(async () => {
    await session.refresh().catch(() => {});
    render();
  });
  window.addEventListener("hashchange", () => {
    render().then(() => main.focus({ preventScroll: false }));
  });
  render();
}

start();
