"""Routes: regulator and operations reports (§14.1(6), §14.1(9)).

``GET /api/reports`` lists the reports; ``GET /api/reports/payment-services`` (the payment
organization's report for the National Bank: services rendered by type of service and category of
participant, with counts and sums) and ``GET /api/reports/operations`` (executed operations with
totals) take ``day`` or ``from`` and ``to`` (at most 366 days) and ``format`` = json|html|print|csv|pdf.
Same data and parameters give the same bytes; each generation is an event with their SHA-256.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from oson_operator.api.context import request_context
from oson_operator.api.routers.journals import DAY, FORMAT, FROM, TO, respond
from oson_operator.api.security import require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.records_text import t
from oson_operator.service import reports
from oson_operator.service.period import MAX_REPORT_DAYS, period_of
from oson_operator.service.publish import ALL_FORMATS

router = APIRouter(prefix="/api/reports", tags=["reports"])

_readers = require_roles(Role.ADMIN, Role.OPERATOR, Role.AUDITOR)


@router.get("", summary="The reports and the formats they come in")
def list_reports(request: Request, principal: Principal = Depends(_readers)) -> dict[str, Any]:
    language = request_context(request).language
    return {"reports": [
        {"name": "payment-services", "title": t("services_report", language), "formats": list(ALL_FORMATS)},
        {"name": "operations", "title": t("operations_report", language), "formats": list(ALL_FORMATS)},
    ]}


@router.get("/payment-services", summary="Payment services rendered by type and participant category (NBK)")
def payment_services(request: Request, day: date | None = DAY, day_from: date | None = FROM,
                     day_to: date | None = TO, fmt: str = FORMAT,
                     principal: Principal = Depends(_readers)) -> Response:
    period = period_of(day, day_from, day_to, required=True, max_days=MAX_REPORT_DAYS)
    return respond(request, principal, "report", "payment-services", period.parameters(),
                   lambda conn, lang: reports.payment_services(conn, period, lang), fmt)


@router.get("/operations", summary="Executed operations of a period, with totals")
def operations(request: Request, day: date | None = DAY, day_from: date | None = FROM, day_to: date | None = TO,
               fmt: str = FORMAT, principal: Principal = Depends(_readers)) -> Response:
    period = period_of(day, day_from, day_to, required=True, max_days=MAX_REPORT_DAYS)
    return respond(request, principal, "report", "operations", period.parameters(),
                   lambda conn, lang: reports.executed_operations(conn, period, lang), fmt)
