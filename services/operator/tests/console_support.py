"""The console in tests: its static files and an /api proxy in front of the real service, and a browser.

In the appliance Apache serves ``services/console/`` and proxies ``/api/`` to the app pair, adding the
security headers of ``roles/apache``. Here a small Starlette app does the same on a free port: the
same files, the same Content-Security-Policy (read from the Apache role's defaults, so the console is
tested under the policy it will run under), and ``/api/*`` forwarded with httpx to the service that
``server_support.serve`` started.

    with serve(settings) as api_url, serve_console(api_url) as console_url, browser() as chromium:
        page = chromium.new_page(base_url=console_url)
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from access_support import engine_for, make_staff, totp_secret, unique_login
from browser_support import CHROMIUM, chromium, chromium_missing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from server_support import serve_asgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from oson_operator.domain import totp
from oson_operator.domain.access import Role
from oson_operator.settings import Settings
from oson_operator.storage import access as store

REPO = Path(__file__).resolve().parents[3]
CONSOLE_DIR = REPO / "services" / "console"
APACHE_DEFAULTS = REPO / "roles" / "apache" / "defaults" / "main.yml"
ARTIFACTS = REPO / "artifacts" / "console"
# Hop-by-hop headers, and the ones httpx has already undone (it decodes the body).
_DROP_REQUEST = {"host", "connection", "keep-alive", "transfer-encoding", "upgrade", "content-length"}
_DROP_RESPONSE = {"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length", "content-encoding"}


def apache_headers() -> dict[str, str]:
    """The security headers the Apache role sets on every answer (CSP from its defaults)."""
    defaults = yaml.safe_load(APACHE_DEFAULTS.read_text())
    return {
        "Content-Security-Policy": " ".join(str(defaults["apache_content_security_policy"]).split()),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": str(defaults["apache_referrer_policy"]),
        "Cross-Origin-Opener-Policy": "same-origin",
    }


class _SecurityHeaders:
    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def console_app(api_url: str, root: Path = CONSOLE_DIR) -> ASGIApp:
    """Static files of ``root`` at /, ``/api/*`` and ``/openapi.json`` forwarded to ``api_url``."""
    client = httpx.AsyncClient(base_url=api_url, timeout=30)

    async def proxy(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST}
        upstream = await client.request(request.method, request.url.path, params=request.url.query or None,
                                        headers=headers, content=await request.body())
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in _DROP_RESPONSE}
        return Response(upstream.content, status_code=upstream.status_code, headers=out)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(routes=[
        Route("/api/{path:path}", proxy, methods=methods),
        Route("/openapi.json", proxy, methods=["GET"]),
        Mount("/", StaticFiles(directory=root, html=True)),
    ])
    return _SecurityHeaders(app, apache_headers())


@contextmanager
def serve_console(api_url: str) -> Iterator[str]:
    """Serve the console on a free port of 127.0.0.1; yields its base URL."""
    with serve_asgi(console_app(api_url)) as url:
        yield url


def require_chromium() -> None:
    if chromium_missing():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (the console tests drive Debian's Chromium)")


@contextmanager
def browser() -> Iterator[Any]:
    """Debian's headless Chromium under Playwright (never Playwright's own downloaded browsers)."""
    require_chromium()
    with chromium() as launched:
        yield launched


# Basic accessibility of what is on screen: one h1, every visible control labelled, table headers scoped,
# alerts and the main landmark present. Run on every page a test takes a screenshot of.
_A11Y_PROBLEMS = """() => {
    const problems = [];
    const visible = (el) => el.offsetParent !== null || el.getClientRects().length > 0;
    const h1 = [...document.querySelectorAll('h1')].filter(visible);
    if (h1.length !== 1) problems.push(`${h1.length} visible h1 elements`);
    for (const el of document.querySelectorAll('input, select, textarea')) {
        if (!visible(el) || el.type === 'hidden') continue;
        const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
            || el.getAttribute('aria-labelledby');
        if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name}`);
    }
    for (const th of document.querySelectorAll('thead th')) {
        if (th.getAttribute('scope') !== 'col' && !th.closest('.document')) problems.push('thead th without scope');
    }
    for (const button of document.querySelectorAll('button')) {
        if (visible(button) && !button.textContent.trim() && !button.getAttribute('aria-label')) {
            problems.push('button without a name');
        }
    }
    if (!document.querySelector('main#main')) problems.push('no main landmark');
    if (!['kk', 'ru', 'en'].includes(document.documentElement.lang)) problems.push('html lang not set');
    return problems;
}"""


def check_accessibility(page: Any) -> None:
    problems = page.evaluate(_A11Y_PROBLEMS)
    assert not problems, f"accessibility problems on {page.url}: {problems}"


def screenshot(page: Any, name: str) -> Path:
    """Check the page's basic accessibility, then keep a full-page screenshot (artifacts/console/<name>.png)."""
    check_accessibility(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- Staff and logging in through the console ---------------------------------------------------


def staff_with_second_factor(settings: Settings, role: Role) -> tuple[str, str]:
    """A staff user of ``role`` with TOTP enrolled (any role may enrol); returns (login, password)."""
    login = unique_login(role.value)
    password = make_staff(settings, login, role)
    if totp_secret(settings, login) is None:
        with engine_for(settings).begin() as connection:
            store.update_staff(connection, login, datetime.now(UTC), totp_secret=totp.new_secret())
    return login, password


def code_now(secret: str) -> str:
    return totp.code_at(secret, totp.time_step(datetime.now(UTC)))


def current_code(settings: Settings, login: str) -> str:
    secret = totp_secret(settings, login)
    assert secret is not None, f"{login} has no second factor"
    return code_now(secret)


def log_in(page: Any, settings: Settings, login: str, password: str, *, shots: str | None = None) -> None:
    """Log in through the login page: password first, then the TOTP code the page asks for."""
    page.goto("/")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(password)
    if shots:
        screenshot(page, f"{shots}-login")
    page.locator("form button[type=submit]").click()
    code = page.locator("input[name=totp_code]")
    code.wait_for(state="visible")
    code.fill(current_code(settings, login))
    if shots:
        screenshot(page, f"{shots}-login-code")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/#/dashboard")
    page.locator("#dash-ledger .card-body:not([aria-busy])").wait_for()


# --- Fixtures (import ``console_fixture`` and ``page_fixture`` into a test module) ----------


class ConsoleWorld:
    """The running service and console, the browser, and a small business world made through the API."""

    def __init__(self, settings: Settings, api_url: str, url: str, chromium: Any, world: Any) -> None:
        self.settings, self.api_url, self.url, self.chromium, self.world = settings, api_url, url, chromium, world


@pytest.fixture(scope="module", name="console")
def console_fixture(pg: Any, first_upgrade: Any) -> Iterator[ConsoleWorld]:
    require_chromium()
    from business_support import make_world, open_desk
    from server_support import serve

    if not pg.is_running():
        pg.start()
    # The appliance's document signing key (outgoing documents are signed with it).
    key_dir = Path(tempfile.mkdtemp(prefix="oson-console-"))
    signing_key = key_dir / "documents.key"
    signing_key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    settings = pg.settings(document_signing_key_file=signing_key)
    with open_desk(settings) as desk:
        world = make_world(desk)
        payment = desk.pay(world.client_wallet, world.partner_wallet, "1500.00", expect=201).json()
        world.payment = payment["operation"]["id"]  # type: ignore[attr-defined]
        world.client_balance = desk.balance(world.client_wallet)  # type: ignore[attr-defined]
    try:
        with serve(settings) as api_url, serve_console(api_url) as url, browser() as chromium:
            yield ConsoleWorld(settings, api_url, url, chromium, world)
    finally:
        shutil.rmtree(key_dir, ignore_errors=True)


@pytest.fixture(name="page")
def page_fixture(console: ConsoleWorld) -> Iterator[Any]:
    """A fresh browser context (no session, no saved language) on the console; fails the test on any
    script error or Content-Security-Policy violation the page reports."""
    context = console.chromium.new_context(base_url=console.url, locale="en-GB", accept_downloads=True,
                                           viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    browser_page = context.new_page()
    problems: list[str] = []
    browser_page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    browser_page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
                    if message.type == "error" and not _expected_console_error(message.text) else None)
    try:
        yield browser_page
    finally:
        context.close()
    assert not problems, "the console reported errors:\n" + "\n".join(problems)


def _expected_console_error(text: str) -> bool:
    """Chromium logs every non-2xx fetch; the API's refusals (401, 403, 422) are part of the tests."""
    return "Failed to load resource: the server responded with a status of 4" in text


@contextmanager
def api_session(console: ConsoleWorld, role: Role) -> Iterator[httpx.Client]:
    """An httpx client of the service logged in as a new staff user of ``role`` (to prepare records)."""
    login, password = staff_with_second_factor(console.settings, role)
    with httpx.Client(base_url=console.api_url, timeout=30) as client:
        answer = client.post("/api/auth/login", json={"login": login, "password": password,
                                                      "totp_code": current_code(console.settings, login)})
        answer.raise_for_status()
        client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        yield client
