"""Routes: accounting journals, full or for dates (§14.1(7)), to screen, printer and file (§14.1(9)).

``GET /api/journals/general``, ``/turnover`` and ``/accounts/{account_id}`` take ``day`` (one
operational day, Asia/Almaty), or ``from``/``to`` (inclusive; either may be left open), or nothing
(the whole ledger), and ``format`` = json|html|print|csv|pdf. Each generation is an event with the
SHA-256 of the bytes (also in the ``X-Content-SHA256`` header).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Connection

from oson_operator.api.context import request_context
from oson_operator.api.security import audit_for, require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import NotFound
from oson_operator.domain.messages import Language
from oson_operator.output import Document
from oson_operator.service import journals
from oson_operator.service.period import Period, period_of
from oson_operator.service.publish import check_format, publish

router = APIRouter(prefix="/api/journals", tags=["journals"])

_readers = require_roles(Role.ADMIN, Role.OPERATOR, Role.AUDITOR)
FORMAT_HELP = "json (default), html (screen), print (A4 print layout), csv or pdf"


def respond(request: Request, principal: Principal, kind: str, name: str, parameters: dict[str, object],
            build: Callable[[Connection, Language], Document], fmt: str) -> Response:
    """Build the document in one snapshot, publish it (event with its hash) and answer with its bytes."""
    check_format(fmt)
    engine = request.app.state.engine
    language = request_context(request).language
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        document = build(connection, language)
    rendered, digest = publish(engine, audit_for(request, principal.actor), kind, name, parameters, document, fmt)
    disposition = "inline" if fmt in ("json", "html", "print") else "attachment"
    suffix = "-".join(str(v) for v in parameters.values() if v is not None) or "all"
    headers = {"X-Content-SHA256": digest,
               "Content-Disposition": f'{disposition}; filename="{name}-{suffix}.{rendered.extension}"'}
    return Response(rendered.body, media_type=rendered.media_type, headers=headers)


def _period(day: date | None, day_from: date | None, day_to: date | None) -> Period:
    return period_of(day, day_from, day_to)


# Shared with the reports routes.
DAY = Query(None, description="one operational day (YYYY-MM-DD)")
FROM = Query(None, alias="from", description="first operational day, included")
TO = Query(None, alias="to", description="last operational day, included")
FORMAT = Query("json", alias="format", description=FORMAT_HELP)


@router.get("/general", summary="General journal: every ledger entry with its operation")
def general(request: Request, day: date | None = DAY, day_from: date | None = FROM, day_to: date | None = TO,
            fmt: str = FORMAT, principal: Principal = Depends(_readers)) -> Response:
    period = _period(day, day_from, day_to)
    return respond(request, principal, "journal", "general", period.parameters(),
                   lambda conn, lang: journals.general_journal(conn, period, lang), fmt)


@router.get("/turnover", summary="Turnover sheet: per account, opening balance, debit, credit, closing balance")
def turnover(request: Request, day: date | None = DAY, day_from: date | None = FROM, day_to: date | None = TO,
             fmt: str = FORMAT, principal: Principal = Depends(_readers)) -> Response:
    period = _period(day, day_from, day_to)
    return respond(request, principal, "journal", "turnover", period.parameters(),
                   lambda conn, lang: journals.turnover_sheet(conn, period, lang), fmt)


@router.get("/accounts/{account_id}", summary="One account's (wallet's) journal with opening and closing balance")
def account(account_id: str, request: Request, day: date | None = DAY, day_from: date | None = FROM,
            day_to: date | None = TO, fmt: str = FORMAT, principal: Principal = Depends(_readers)) -> Response:
    try:
        account_id = str(UUID(account_id))
    except ValueError:
        raise NotFound("ACCOUNT_NOT_FOUND") from None
    period = _period(day, day_from, day_to)
    return respond(request, principal, "journal", "account", {"account": account_id, **period.parameters()},
                   lambda conn, lang: journals.account_journal(conn, account_id, period, lang), fmt)
