# ruff: noqa: RUF001  (labels in Kazakh and Russian: Cyrillic on purpose)
"""The core lists of the back office: participants, wallets, operations, ledger entries, events.

Participants and wallets can be shown as they were at a past time (``as_of``): status and
identification come from the change tables (the last change at or before the time; else the old
value of the first later change; else today's value), balances from the ledger entries up to then.
"""

from __future__ import annotations

from oson_operator.domain.access import Role
from oson_operator.service.listing import Column, ListSpec, Sort, register
from oson_operator.service.listing import ColumnType as T


def _label(kk: str, ru: str, en: str) -> dict[str, str]:
    return {"kk": kk, "ru": ru, "en": en}


PARTICIPANT_KINDS = ("individual", "legal_entity", "individual_entrepreneur", "partner", "partner_bank", "issuer")
IDENTIFICATION = ("unidentified", "simplified", "identified")
OPERATION_KINDS = ("issuance", "payment", "transfer", "return", "redemption")
ACCOUNT_KINDS = ("wallet", "specialized", "commission_income")


def _participant_field_at(field: str) -> str:
    """The value of a participant's ``field`` at ``:as_of``, from oson.participant_change."""
    return f"""coalesce(
        (SELECT c.new_value FROM oson.participant_change c WHERE c.participant_id = p.id AND c.field = '{field}'
           AND c.changed_at <= :as_of ORDER BY c.id DESC LIMIT 1),
        (SELECT c.old_value FROM oson.participant_change c WHERE c.participant_id = p.id AND c.field = '{field}'
           AND c.changed_at > :as_of ORDER BY c.id LIMIT 1),
        p.{field})"""


_PARTICIPANT_COMMON = ("p.id, p.kind, p.name, p.iin_bin, p.phone, p.email, p.birth_date, {identification} AS "
                       "identification, {status} AS status, p.legal_form, p.tariff, p.created_at, p.created_by")

PARTICIPANTS = register(ListSpec(
    name="participants",
    title=_label("Қатысушылар", "Участники", "Participants"),
    source="(SELECT " + _PARTICIPANT_COMMON.format(identification="p.identification", status="p.status")
           + " FROM oson.participant p) t",
    as_of_source="(SELECT " + _PARTICIPANT_COMMON.format(
        identification=_participant_field_at("identification"), status=_participant_field_at("status"))
        + " FROM oson.participant p WHERE p.created_at <= :as_of) t",
    columns=(
        Column("id", T.UUID, label=_label("Идентификатор", "Идентификатор", "ID")),
        Column("kind", T.ENUM, choices=PARTICIPANT_KINDS, label=_label("Түрі", "Вид", "Kind")),
        Column("name", T.TEXT, label=_label("Атауы", "Наименование", "Name")),
        Column("iin_bin", T.TEXT, label=_label("ЖСН/БСН", "ИИН/БИН", "IIN/BIN")),
        Column("phone", T.TEXT, nullable=True, label=_label("Телефон", "Телефон", "Phone")),
        Column("email", T.TEXT, nullable=True, label=_label("Email", "Email", "Email")),
        Column("birth_date", T.DATE, nullable=True, label=_label("Туған күні", "Дата рождения", "Birth date")),
        Column("identification", T.ENUM, nullable=True, choices=IDENTIFICATION,
               label=_label("Сәйкестендіру", "Идентификация", "Identification")),
        Column("status", T.ENUM, choices=("active", "suspended", "closed"),
               label=_label("Мәртебесі", "Статус", "Status")),
        Column("legal_form", T.ENUM, nullable=True, choices=("legal_entity", "individual_entrepreneur"),
               label=_label("Құқықтық нысаны", "Правовая форма", "Legal form")),
        Column("tariff", T.TEXT, nullable=True, label=_label("Тариф", "Тариф", "Tariff")),
        Column("created_at", T.TIMESTAMP, label=_label("Тіркелген", "Зарегистрирован", "Registered at")),
        Column("created_by", T.TEXT, label=_label("Тіркеген", "Кем зарегистрирован", "Registered by")),
    ),
    key="id",
    default_sort=Sort("created_at", "desc"),
    time_column="created_at",
))


# The wallet's state at :as_of is the effect of its last change at or before then.
_WALLET_CHANGE_AT = """LEFT JOIN LATERAL (
        SELECT c.action, c.reason, c.block_mode, c.blocked_until FROM oson.account_change c
        WHERE c.account_id = a.id AND c.changed_at <= :as_of ORDER BY c.id DESC LIMIT 1) ch ON TRUE"""
_WALLET_STATUS_AT = """CASE ch.action WHEN 'block' THEN 'blocked' WHEN 'aml_block' THEN 'blocked'
        WHEN 'close' THEN 'closed' ELSE 'active' END"""

_WALLET_COLUMNS = ("a.id, a.participant_id, p.name AS participant_name, p.kind AS participant_kind, "
                   "{identification} AS identification, a.issuer_id, a.currency::text AS currency, "
                   "{balance} AS balance, {status} AS status, {mode} AS block_mode, {reason} AS block_reason, "
                   "{until} AS blocked_until, a.created_at")

WALLETS = register(ListSpec(
    name="wallets",
    title=_label("Әмияндар", "Кошельки", "Wallets"),
    source="(SELECT " + _WALLET_COLUMNS.format(
        identification="p.identification", balance="a.balance", status="a.status", mode="a.block_mode",
        reason="a.block_reason", until="a.blocked_until")
        + " FROM oson.account a JOIN oson.participant p ON p.id = a.participant_id WHERE a.kind = 'wallet') t",
    as_of_source="(SELECT " + _WALLET_COLUMNS.format(
        identification=_participant_field_at("identification"),
        balance="(SELECT coalesce(sum(e.amount), 0) FROM oson.ledger_entry e WHERE e.account_id = a.id "
                "AND e.created_at <= :as_of)",
        status=_WALLET_STATUS_AT, mode="ch.block_mode", reason="CASE WHEN ch.action IN ('block', 'aml_block') "
        "THEN ch.reason END", until="ch.blocked_until")
        + " FROM oson.account a JOIN oson.participant p ON p.id = a.participant_id " + _WALLET_CHANGE_AT
        + " WHERE a.kind = 'wallet' AND a.created_at <= :as_of) t",
    columns=(
        Column("id", T.UUID, label=_label("Әмиян", "Кошелёк", "Wallet")),
        Column("participant_id", T.UUID, label=_label("Қатысушы", "Участник", "Participant")),
        Column("participant_name", T.TEXT, label=_label("Қатысушы атауы", "Наименование участника",
                                                          "Participant name")),
        Column("participant_kind", T.ENUM, choices=PARTICIPANT_KINDS,
               label=_label("Қатысушы түрі", "Вид участника", "Participant kind")),
        Column("identification", T.ENUM, nullable=True, choices=IDENTIFICATION,
               label=_label("Сәйкестендіру", "Идентификация", "Identification")),
        Column("issuer_id", T.UUID, nullable=True, label=_label("Эмитент", "Эмитент", "Issuer")),
        Column("currency", T.TEXT, label=_label("Валюта", "Валюта", "Currency")),
        Column("balance", T.MONEY, label=_label("Қалдық", "Остаток", "Balance")),
        Column("status", T.ENUM, choices=("active", "blocked", "closed"),
               label=_label("Мәртебесі", "Статус", "Status")),
        Column("block_mode", T.ENUM, nullable=True, choices=("full", "debit"),
               label=_label("Бұғаттау түрі", "Вид блокировки", "Block mode")),
        Column("block_reason", T.TEXT, nullable=True,
               label=_label("Бұғаттау негізі", "Основание блокировки", "Block reason")),
        Column("blocked_until", T.TIMESTAMP, nullable=True,
               label=_label("Бұғатталған мерзімі", "Заблокирован до", "Blocked until")),
        Column("created_at", T.TIMESTAMP, label=_label("Ашылған", "Открыт", "Opened at")),
    ),
    key="id",
    default_sort=Sort("created_at", "desc"),
    time_column="created_at",
))

OPERATIONS = register(ListSpec(
    name="operations",
    title=_label("Операциялар", "Операции", "Operations"),
    source="""(SELECT o.id, o.kind, o.status, o.reason_code, o.amount, o.commission, o.payer_account,
        o.payee_account, o.original_operation, o.receipt_number, o.actor, o.request_id, o.created_at,
        o.operational_day FROM oson.operation o) t""",
    columns=(
        Column("id", T.UUID, label=_label("Операция", "Операция", "Operation")),
        Column("kind", T.ENUM, choices=OPERATION_KINDS, label=_label("Түрі", "Вид", "Kind")),
        Column("status", T.ENUM, choices=("completed", "refused"), label=_label("Мәртебесі", "Статус", "Status")),
        Column("reason_code", T.TEXT, nullable=True,
               label=_label("Бас тарту себебі", "Причина отказа", "Refusal reason")),
        Column("amount", T.MONEY, label=_label("Сомасы", "Сумма", "Amount")),
        Column("commission", T.MONEY, label=_label("Комиссия", "Комиссия", "Commission")),
        Column("payer_account", T.UUID, nullable=True, label=_label("Төлеуші", "Плательщик", "Payer")),
        Column("payee_account", T.UUID, nullable=True, label=_label("Алушы", "Получатель", "Payee")),
        Column("original_operation", T.UUID, nullable=True,
               label=_label("Бастапқы операция", "Исходная операция", "Original operation")),
        Column("receipt_number", T.INTEGER, nullable=True, label=_label("Чек нөмірі", "Номер чека", "Receipt")),
        Column("actor", T.TEXT, label=_label("Орындаушы", "Исполнитель", "Actor")),
        Column("request_id", T.TEXT, nullable=True, label=_label("Сұрау", "Запрос", "Request")),
        Column("created_at", T.TIMESTAMP, label=_label("Уақыты", "Время", "Time")),
        Column("operational_day", T.DATE, label=_label("Операциялық күн", "Операционный день", "Operational day")),
    ),
    key="id",
    default_sort=Sort("created_at", "desc"),
    time_column="created_at",
))

LEDGER_ENTRIES = register(ListSpec(
    name="ledger_entries",
    title=_label("Бухгалтерлік жазбалар", "Бухгалтерские записи", "Ledger entries"),
    source="""(SELECT e.id, e.operation_id, o.kind AS operation_kind, e.account_id, a.kind AS account_kind,
        e.amount, e.created_at, e.operational_day FROM oson.ledger_entry e
        JOIN oson.operation o ON o.id = e.operation_id JOIN oson.account a ON a.id = e.account_id) t""",
    columns=(
        Column("id", T.INTEGER, label=_label("Жазба", "Запись", "Entry")),
        Column("operation_id", T.UUID, label=_label("Операция", "Операция", "Operation")),
        Column("operation_kind", T.ENUM, choices=OPERATION_KINDS,
               label=_label("Операция түрі", "Вид операции", "Operation kind")),
        Column("account_id", T.UUID, label=_label("Шот", "Счёт", "Account")),
        Column("account_kind", T.ENUM, choices=ACCOUNT_KINDS, label=_label("Шот түрі", "Вид счёта", "Account kind")),
        Column("amount", T.MONEY, label=_label("Сомасы (+/-)", "Сумма (+/-)", "Amount (+/-)")),
        Column("created_at", T.TIMESTAMP, label=_label("Уақыты", "Время", "Time")),
        Column("operational_day", T.DATE, label=_label("Операциялық күн", "Операционный день", "Operational day")),
    ),
    key="id",
    default_sort=Sort("id", "desc"),
    time_column="created_at",
))

EVENTS = register(ListSpec(
    name="events",
    title=_label("Оқиғалар журналы", "Журнал событий", "Event log"),
    source="""(SELECT v.id, v.started_at, v.ended_at, v.recorded_at, v.actor, v.action, v.record_type,
        v.record_id, v.result, v.source_address, v.request_id, v.details, v.chain, v.chain_seq
        FROM oson.event v) t""",
    columns=(
        Column("id", T.INTEGER, label=_label("Оқиға", "Событие", "Event")),
        Column("started_at", T.TIMESTAMP, label=_label("Басталды", "Начало", "Started at")),
        Column("ended_at", T.TIMESTAMP, label=_label("Аяқталды", "Окончание", "Ended at")),
        Column("recorded_at", T.TIMESTAMP, label=_label("Жазылды", "Записано", "Recorded at")),
        Column("actor", T.TEXT, label=_label("Пайдаланушы", "Пользователь", "Actor")),
        Column("action", T.TEXT, label=_label("Әрекет", "Действие", "Action")),
        Column("record_type", T.TEXT, nullable=True, label=_label("Жазба түрі", "Тип записи", "Record type")),
        Column("record_id", T.TEXT, nullable=True, label=_label("Жазба", "Запись", "Record")),
        Column("result", T.TEXT, label=_label("Нәтиже", "Результат", "Result")),
        Column("source_address", T.TEXT, nullable=True, label=_label("Мекенжай", "Адрес", "Source address")),
        Column("request_id", T.TEXT, nullable=True, label=_label("Сұрау", "Запрос", "Request")),
        Column("details", T.JSON, label=_label("Толығырақ", "Подробности", "Details")),
        Column("chain", T.INTEGER, label=_label("Тізбек", "Цепочка", "Chain")),
        Column("chain_seq", T.INTEGER, label=_label("Нөмір", "Номер", "Sequence")),
    ),
    key="id",
    default_sort=Sort("started_at", "desc"),
    time_column="started_at",
    # The event log is read by administrators and auditors (as GET /api/events).
    roles=frozenset({Role.ADMIN, Role.AUDITOR}),
))
