// Login (password, then the TOTP code when the account has a second factor), the forced password
// change, and TOTP enrolment, in the order the API requires them (docs/access.md).

import { api, setToken } from "../api.js";
import { busy, field, formValues, h, showError, toast } from "../dom.js";
import { t } from "../i18n.js";

function nextStep(ctx, me) {
  if (me.must_change_password) return ctx.navigate("password");
  if (me.totp_enrollment_required) return ctx.navigate("totp");
  if (me.password_expiry_warning) toast(t("login.password_expires", { days: me.password_expires_in_days }));
  return ctx.navigate("dashboard");
}

export async function loginPage(ctx) {
  const errors = h("div", { class: "error-slot" });
  const totpField = field({ name: "totp_code", label: t("login.totp_code"), autocomplete: "one-time-code",
    inputmode: "numeric", hint: t("login.totp_hint"), attrs: { pattern: "[0-9]{6}", maxlength: 6 } });
  totpField.hidden = true;
  const form = h("form", { class: "card narrow", novalidate: true, "aria-labelledby": "page-title" },
    field({ name: "login", label: t("login.login"), required: true, autocomplete: "username" }),
    field({ name: "password", label: t("login.password"), kind: "password", required: true,
      autocomplete: "current-password" }),
    totpField,
    errors,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("login.submit"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (!values.login || !values.password) {
      showError(errors, { message: t("login.fill_in"), code: "FIELD_REQUIRED" });
      return;
    }
    await busy(form, async () => {
      try {
        const answer = await api("/api/auth/login", { method: "POST", body: {
          login: values.login, password: values.password, ...(values.totp_code ? { totp_code: values.totp_code } : {}),
        } });
        setToken(answer.token);
        const me = await ctx.session.refresh();
        nextStep(ctx, me);
      } catch (error) {
        if (error.code === "TOTP_REQUIRED") {
          // Not a failure: the account has a second factor, ask for the code and send again.
          totpField.hidden = false;
          showError(errors, null);
          errors.append(h("p", { class: "info", role: "status" }, error.message));
          totpField.querySelector("input").focus();
          return;
        }
        if (error.code === "TOTP_INVALID" || error.code === "TOTP_REUSED") {
          totpField.querySelector("input").value = "";
        }
        showError(errors, error, form);
      }
    });
  });
  ctx.main.append(h("h1", { id: "page-title" }, t("login.title")),
    ctx.notice ? h("p", { class: "info", role: "status" }, ctx.notice) : null, form);
  form.querySelector("input[name=login]").focus();
}

export async function passwordPage(ctx) {
  const errors = h("div", { class: "error-slot" });
  const form = h("form", { class: "card narrow", novalidate: true, "aria-labelledby": "page-title" },
    h("p", {}, t("password.why")),
    field({ name: "current_password", label: t("password.current"), kind: "password", required: true,
      autocomplete: "current-password" }),
    field({ name: "new_password", label: t("password.new"), kind: "password", required: true,
      autocomplete: "new-password", hint: t("password.rules") }),
    field({ name: "repeat_password", label: t("password.repeat"), kind: "password", required: true,
      autocomplete: "new-password" }),
    errors,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("password.submit"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (values.new_password !== values.repeat_password) {
      showError(errors, { message: t("password.mismatch"), code: "PASSWORD_MISMATCH",
        problems: [{ field: "repeat_password", message: t("password.mismatch") }] }, form);
      return;
    }
    await busy(form, async () => {
      try {
        await api("/api/auth/password", { method: "POST",
          body: { current_password: values.current_password || "", new_password: values.new_password || "" } });
        toast(t("password.changed"));
        nextStep(ctx, await ctx.session.refresh());
      } catch (error) {
        showError(errors, error, form);
      }
    });
  });
  ctx.main.append(h("h1", { id: "page-title" }, t("password.title")), form);
}

function groupSecret(secret) {
  return secret.replace(/(.{4})/g, "$1 ").trim();
}

export async function totpPage(ctx) {
  const errors = h("div", { class: "error-slot" });
  const area = h("div", { class: "card narrow" });
  const start = h("button", { type: "button", class: "primary" }, t("totp.start"));
  area.append(h("p", {}, t("totp.why")), errors, h("div", { class: "actions" }, start));
  start.addEventListener("click", async () => {
    start.disabled = true;
    try {
      const enrolment = await api("/api/auth/totp/enroll", { method: "POST" });
      start.remove();
      const form = h("form", { novalidate: true },
        h("p", {}, t("totp.scan")),
        h("p", {}, t("totp.secret"), " ", h("code", { class: "secret", "data-secret": enrolment.secret },
          groupSecret(enrolment.secret))),
        h("details", {}, h("summary", {}, t("totp.uri")), h("code", { class: "uri" }, enrolment.otpauth_uri)),
        field({ name: "code", label: t("totp.code"), required: true, autocomplete: "one-time-code",
          inputmode: "numeric", attrs: { pattern: "[0-9]{6}", maxlength: 6 } }),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("totp.confirm"))));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        await busy(form, async () => {
          try {
            await api("/api/auth/totp/confirm", { method: "POST", body: { code: formValues(form).code || "" } });
            toast(t("totp.done"));
            nextStep(ctx, await ctx.session.refresh());
          } catch (error) {
            showError(errors, error, form);
          }
        });
      });
      area.insertBefore(form, errors);
      form.querySelector("input").focus();
    } catch (error) {
      start.disabled = false;
      showError(errors, error);
    }
  });
  ctx.main.append(h("h1", { id: "page-title" }, t("totp.title")), area);
}
