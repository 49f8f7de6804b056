"""Reports (§14.1(6)): payment services rendered, for the National Bank, and executed operations.

A report is a function of the data and its parameters only: rows are in a fixed order and no
generation time is written, so generating it twice gives the same bytes (the event of each
generation carries their SHA-256).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC

from sqlalchemy import Connection

from oson_operator.domain.messages import Language
from oson_operator.domain.money import format_amount
from oson_operator.domain.records_text import t
from oson_operator.output import Document, OutColumn, Section
from oson_operator.service.period import Period
from oson_operator.storage import journals as store

REPORTS = ("payment-services", "operations")


def _params(period: Period, lang: Language) -> tuple[tuple[str, str], ...]:
    return ((t("organization", lang), "OSON"), (t("period", lang), period.label(t("whole_ledger", lang))))


def payment_services(conn: Connection, period: Period, lang: Language) -> Document:
    assert period.day_from is not None and period.day_to is not None
    lines = store.services_rendered(conn, period.day_from, period.day_to)
    money = (OutColumn(t("count", lang), True), OutColumn(t("amount", lang), True),
             OutColumn(t("commission", lang), True))
    detail = tuple((t(x.kind, lang), t(x.category, lang), str(x.count), format_amount(x.amount),
                    format_amount(x.commission)) for x in lines)
    count, amount, commission = (sum(x.count for x in lines), sum(x.amount for x in lines),
                                 sum(x.commission for x in lines))
    first = Section(t("services_report", lang), (OutColumn(t("service", lang)), OutColumn(t("category", lang)),
                                                 *money), detail,
                    (t("total", lang), "", str(count), format_amount(amount), format_amount(commission)))
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for x in lines:
        sums = by_kind[x.kind]
        sums[0] += x.count
        sums[1] += x.amount
        sums[2] += x.commission
    second = Section(t("by_service", lang), (OutColumn(t("service", lang)), *money),
                     tuple((t(k, lang), str(v[0]), format_amount(v[1]), format_amount(v[2]))
                           for k, v in sorted(by_kind.items())),
                     (t("total", lang), str(count), format_amount(amount), format_amount(commission)))
    return Document(t("services_report", lang), (first, second), _params(period, lang), lang)


def executed_operations(conn: Connection, period: Period, lang: Language) -> Document:
    assert period.day_from is not None and period.day_to is not None
    lines = store.operations_of_period(conn, period.day_from, period.day_to)
    columns = (OutColumn(t("time", lang)), OutColumn(t("receipt", lang), True), OutColumn(t("operation", lang)),
               OutColumn(t("kind", lang)), OutColumn(t("status", lang)), OutColumn(t("amount", lang), True),
               OutColumn(t("commission", lang), True), OutColumn(t("payer", lang)), OutColumn(t("payee", lang)),
               OutColumn(t("reason", lang)))
    rows = tuple((x.created_at.astimezone(UTC).isoformat(),
                  str(x.receipt_number) if x.receipt_number is not None else "", x.id,
                  t(x.kind, lang), t(x.status, lang), format_amount(x.amount), format_amount(x.commission),
                  x.payer_account or "", x.payee_account or "", x.reason_code or "") for x in lines)
    done = [x for x in lines if x.status == "completed"]
    totals = (t("total", lang), "", f"{t('completed', lang)}: {len(done)}", "", "",
              format_amount(sum(x.amount for x in done)), format_amount(sum(x.commission for x in done)), "", "",
              f"{t('refused', lang)}: {len(lines) - len(done)}")
    summary: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for x in lines:
        sums = summary[(x.kind, x.status)]
        sums[0] += 1
        sums[1] += x.amount
        sums[2] += x.commission
    second = Section(t("summary", lang), (OutColumn(t("kind", lang)), OutColumn(t("status", lang)),
                                          OutColumn(t("count", lang), True), OutColumn(t("amount", lang), True),
                                          OutColumn(t("commission", lang), True)),
                     tuple((t(k, lang), t(s, lang), str(v[0]), format_amount(v[1]), format_amount(v[2]))
                           for (k, s), v in sorted(summary.items())))
    first = Section(t("operations_report", lang), columns, rows, totals)
    return Document(t("operations_report", lang), (first, second), _params(period, lang), lang, landscape=True)
