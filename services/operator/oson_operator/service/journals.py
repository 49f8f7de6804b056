"""The internal accounting journals (§14.1(7)): general journal, account journal, turnover sheet.

Every entry of the ledger appears in the general journal of its operational day; the sign
convention is the ledger's (an entry is the change of the balance as the account holder sees it):
a positive entry is shown as credit, a negative one as debit, so total debit = total credit for any
whole set of operations. The turnover sheet's closing balance = opening + credit - debit.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import Connection

from oson_operator.domain.errors import NotFound
from oson_operator.domain.messages import Language
from oson_operator.domain.money import format_amount
from oson_operator.domain.records_text import TEXT, t
from oson_operator.output import Document, OutColumn, Section
from oson_operator.service.period import Period
from oson_operator.storage import journals as store


def _money(tiyn: int) -> str:
    return format_amount(tiyn)


def _kind_names(lang: Language) -> dict[str, str]:
    """Operation and account kinds as shown in ``lang`` (the database puts them in the rows)."""
    return {key: t(key, lang) for key in TEXT}


def _params(period: Period, lang: Language) -> tuple[tuple[str, str], ...]:
    return ((t("period", lang), period.label(t("whole_ledger", lang))),)


def general_journal(conn: Connection, period: Period, lang: Language) -> Document:
    rows = store.journal_text_rows(conn, period.day_from, period.day_to, _kind_names(lang))
    count, debit, credit = store.ledger_sums(conn, period.day_from, period.day_to)
    columns = (OutColumn(t("entry", lang), True), OutColumn(t("day", lang)), OutColumn(t("time", lang)),
               OutColumn(t("operation", lang)), OutColumn(t("kind", lang)), OutColumn(t("receipt", lang), True),
               OutColumn(t("account", lang)), OutColumn(t("account_kind", lang)), OutColumn(t("debit", lang), True),
               OutColumn(t("credit", lang), True))
    totals = (t("total", lang), "", "", "", "", "", f"{t('entries', lang)}: {count}", "", _money(debit),
              _money(credit))
    section = Section(t("general_journal", lang), columns, rows, totals, note=t("sign_note", lang))
    return Document(t("general_journal", lang), (section,), _params(period, lang), lang, landscape=True)


def account_journal(conn: Connection, account_id: str, period: Period, lang: Language) -> Document:
    if not store.account_exists(conn, account_id):
        raise NotFound("ACCOUNT_NOT_FOUND")
    opening = store.balance_before(conn, account_id, period.day_from)
    lines = store.journal_lines(conn, period.day_from, period.day_to, account_id)
    columns = (OutColumn(t("entry", lang), True), OutColumn(t("day", lang)), OutColumn(t("time", lang)),
               OutColumn(t("operation", lang)), OutColumn(t("kind", lang)), OutColumn(t("debit", lang), True),
               OutColumn(t("credit", lang), True), OutColumn(t("balance", lang), True))
    rows = [(t("opening", lang), "", "", "", "", "", "", _money(opening))]
    balance = opening
    for line in lines:
        balance += line.amount
        rows.append((str(line.entry_id), line.operational_day.isoformat(), line.created_at.astimezone(UTC).isoformat(),
                     line.operation_id, t(line.operation_kind, lang),
                     _money(-line.amount) if line.amount < 0 else "", _money(line.amount) if line.amount > 0 else "",
                     _money(balance)))
    debit = sum(-line.amount for line in lines if line.amount < 0)
    credit = sum(line.amount for line in lines if line.amount > 0)
    totals = (t("closing", lang), "", "", "", "", _money(debit), _money(credit), _money(balance))
    section = Section(f"{t('account', lang)} {account_id}", columns, tuple(rows), totals, note=t("sign_note", lang))
    return Document(t("account_journal", lang), (section,),
                    (*_params(period, lang), (t("account", lang), account_id)), lang, landscape=True)


def turnover_sheet(conn: Connection, period: Period, lang: Language) -> Document:
    lines = store.turnover(conn, period.day_from, period.day_to)
    columns = (OutColumn(t("account", lang)), OutColumn(t("account_kind", lang)), OutColumn(t("holder", lang)),
               OutColumn(t("opening", lang), True), OutColumn(t("debit", lang), True),
               OutColumn(t("credit", lang), True), OutColumn(t("closing", lang), True))
    rows = tuple((line.account_id, t(line.account_kind, lang), line.holder or "", _money(line.opening),
                  _money(line.debit), _money(line.credit), _money(line.closing)) for line in lines)
    totals = (t("total", lang), f"{t('accounts', lang)}: {len(lines)}", "",
              _money(sum(x.opening for x in lines)), _money(sum(x.debit for x in lines)),
              _money(sum(x.credit for x in lines)), _money(sum(x.closing for x in lines)))
    section = Section(t("turnover_sheet", lang), columns, rows, totals, note=t("sign_note", lang))
    return Document(t("turnover_sheet", lang), (section,), _params(period, lang), lang, landscape=True)
