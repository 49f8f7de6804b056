# ruff: noqa: RUF001  (Kazakh and Russian on purpose)
"""Titles and column names of journals and reports, in Kazakh, Russian and English."""

from __future__ import annotations

from oson_operator.domain.messages import DEFAULT_LANGUAGE, Language

TEXT: dict[str, dict[str, str]] = {
    "general_journal": {"kk": "Жалпы журнал", "ru": "Общий журнал", "en": "General journal"},
    "account_journal": {"kk": "Шот журналы", "ru": "Журнал по счёту", "en": "Account journal"},
    "turnover_sheet": {"kk": "Айналым ведомосы", "ru": "Оборотная ведомость", "en": "Turnover sheet"},
    "services_report": {
        "kk": "Көрсетілген төлем қызметтері туралы есеп (қызмет түрі және қатысушы санаты бойынша)",
        "ru": "Отчёт об оказанных платёжных услугах (по видам услуг и категориям участников)",
        "en": "Payment services rendered (by type of service and category of participant)"},
    "operations_report": {"kk": "Орындалған операциялар туралы есеп", "ru": "Отчёт об исполненных операциях",
                          "en": "Executed operations"},
    "period": {"kk": "Кезең", "ru": "Период", "en": "Period"},
    "whole_ledger": {"kk": "барлық жазбалар", "ru": "все записи", "en": "the whole ledger"},
    "organization": {"kk": "Төлем ұйымы", "ru": "Платёжная организация", "en": "Payment organization"},
    "account": {"kk": "Шот", "ru": "Счёт", "en": "Account"},
    "account_kind": {"kk": "Шот түрі", "ru": "Вид счёта", "en": "Account kind"},
    "holder": {"kk": "Иесі", "ru": "Владелец", "en": "Holder"},
    "entry": {"kk": "Жазба", "ru": "Запись", "en": "Entry"},
    "time": {"kk": "Уақыты", "ru": "Время", "en": "Time"},
    "day": {"kk": "Операциялық күн", "ru": "Операционный день", "en": "Operational day"},
    "operation": {"kk": "Операция", "ru": "Операция", "en": "Operation"},
    "kind": {"kk": "Түрі", "ru": "Вид", "en": "Kind"},
    "receipt": {"kk": "Чек", "ru": "Чек", "en": "Receipt"},
    "debit": {"kk": "Дебет", "ru": "Дебет", "en": "Debit"},
    "credit": {"kk": "Кредит", "ru": "Кредит", "en": "Credit"},
    "balance": {"kk": "Қалдық", "ru": "Остаток", "en": "Balance"},
    "opening": {"kk": "Кезең басындағы қалдық", "ru": "Остаток на начало", "en": "Opening balance"},
    "closing": {"kk": "Кезең соңындағы қалдық", "ru": "Остаток на конец", "en": "Closing balance"},
    "total": {"kk": "Барлығы", "ru": "Итого", "en": "Total"},
    "entries": {"kk": "Жазбалар", "ru": "Записи", "en": "Entries"},
    "accounts": {"kk": "Шоттар", "ru": "Счета", "en": "Accounts"},
    "service": {"kk": "Қызмет түрі", "ru": "Вид услуги", "en": "Type of service"},
    "category": {"kk": "Қатысушы санаты", "ru": "Категория участника", "en": "Category of participant"},
    "count": {"kk": "Саны", "ru": "Количество", "en": "Count"},
    "amount": {"kk": "Сомасы, ₸", "ru": "Сумма, ₸", "en": "Amount, KZT"},
    "commission": {"kk": "Комиссия, ₸", "ru": "Комиссия, ₸", "en": "Commission, KZT"},
    "status": {"kk": "Мәртебесі", "ru": "Статус", "en": "Status"},
    "reason": {"kk": "Бас тарту себебі", "ru": "Причина отказа", "en": "Refusal reason"},
    "payer": {"kk": "Төлеуші шоты", "ru": "Счёт плательщика", "en": "Payer account"},
    "payee": {"kk": "Алушы шоты", "ru": "Счёт получателя", "en": "Payee account"},
    "by_service": {"kk": "Қызмет түрлері бойынша", "ru": "По видам услуг", "en": "By type of service"},
    "summary": {"kk": "Қорытынды", "ru": "Сводка", "en": "Summary"},
    "sign_note": {
        "kk": "Кредит — шот иесі тұрғысынан қалдықтың өсуі, дебет — азаюы; дебет жиыны кредит жиынына тең.",
        "ru": "Кредит — увеличение остатка с точки зрения владельца счёта, дебет — уменьшение; "
              "итог дебета равен итогу кредита.",
        "en": "Credit increases the balance as the account holder sees it, debit decreases it; "
              "total debit equals total credit."},
    # values
    "issuance": {"kk": "Шығару", "ru": "Выпуск", "en": "Issuance"},
    "payment": {"kk": "Төлем", "ru": "Платёж", "en": "Payment"},
    "transfer": {"kk": "Аударым", "ru": "Перевод", "en": "Transfer"},
    "return": {"kk": "Қайтару", "ru": "Возврат", "en": "Return"},
    "redemption": {"kk": "Өтеу", "ru": "Погашение", "en": "Redemption"},
    "individual": {"kk": "Жеке тұлға", "ru": "Физическое лицо", "en": "Individual"},
    "legal_entity": {"kk": "Заңды тұлға", "ru": "Юридическое лицо", "en": "Legal entity"},
    "individual_entrepreneur": {"kk": "Жеке кәсіпкер", "ru": "Индивидуальный предприниматель",
                                "en": "Individual entrepreneur"},
    "partner": {"kk": "Серіктес", "ru": "Партнёр", "en": "Partner"},
    "partner_bank": {"kk": "Серіктес банк", "ru": "Банк-партнёр", "en": "Partner bank"},
    "issuer": {"kk": "Эмитент", "ru": "Эмитент", "en": "Issuer"},
    "none": {"kk": "Белгісіз", "ru": "Не определена", "en": "Not known"},
    "wallet": {"kk": "Әмиян", "ru": "Кошелёк", "en": "Wallet"},
    "specialized": {"kk": "Арнайы шот", "ru": "Специальный счёт", "en": "Specialized account"},
    "commission_income": {"kk": "Комиссиялық кіріс", "ru": "Комиссионный доход", "en": "Commission income"},
    "completed": {"kk": "Орындалды", "ru": "Исполнена", "en": "Completed"},
    "refused": {"kk": "Бас тартылды", "ru": "Отказ", "en": "Refused"},
}


def t(key: str, language: Language | str = DEFAULT_LANGUAGE) -> str:
    """The text of ``key``; an unknown key is shown as itself (never fails a report)."""
    texts = TEXT.get(key)
    if texts is None:
        return key
    return texts.get(language) or texts[DEFAULT_LANGUAGE]
