# ruff: noqa: RUF001  (labels in Kazakh and Russian: Cyrillic on purpose)
"""The back-office case lists for search (``POST /api/search/{list}``): documents, incidents, AML cases,
suspicious-transaction reports and disputes. Registered with the generic list engine (service/listing.py).
"""

from __future__ import annotations

from oson_operator.service.listing import Column, ListSpec, Sort, register
from oson_operator.service.listing import ColumnType as T


def _label(kk: str, ru: str, en: str) -> dict[str, str]:
    return {"kk": kk, "ru": ru, "en": en}


INCIDENT_CATEGORIES = ("vulnerability_exploitation", "unauthorized_access", "denial_of_service", "malware",
                       "unauthorized_transfer", "stability_threat", "other")

DOCUMENTS = register(ListSpec(
    name="documents",
    title=_label("Электрондық құжаттар", "Электронные документы", "Electronic documents"),
    source="(SELECT d.id, d.number, d.direction, d.status, d.refusal_code, d.counterparty, d.doc_type, d.file_name, "
           "d.size, d.content_sha256, d.recorded_at, d.recorded_by, d.retain_until, d.deleted_at "
           "FROM oson.document d) t",
    columns=(
        Column("id", T.UUID, label=_label("Идентификатор", "Идентификатор", "ID")),
        Column("number", T.INTEGER, label=_label("Нөмірі", "Номер", "Number")),
        Column("direction", T.ENUM, choices=("outgoing", "incoming"), label=_label("Бағыты", "Направление",
                                                                                    "Direction")),
        Column("status", T.ENUM, choices=("sent", "accepted", "refused"), label=_label("Мәртебесі", "Статус",
                                                                                        "Status")),
        Column("refusal_code", T.TEXT, nullable=True, label=_label("Бас тарту себебі", "Причина отказа",
                                                                   "Refusal")),
        Column("counterparty", T.TEXT, label=_label("Контрагент", "Контрагент", "Counterparty")),
        Column("doc_type", T.ENUM, choices=("register", "statement", "notice", "other"),
               label=_label("Түрі", "Вид", "Type")),
        Column("file_name", T.TEXT, label=_label("Файл", "Файл", "File")),
        Column("size", T.INTEGER, label=_label("Көлемі", "Размер", "Size")),
        Column("content_sha256", T.TEXT, sortable=False, label=_label("SHA-256", "SHA-256", "SHA-256")),
        Column("recorded_at", T.TIMESTAMP, label=_label("Тіркелген", "Зарегистрирован", "Recorded at")),
        Column("recorded_by", T.TEXT, label=_label("Тіркеген", "Кем", "Recorded by")),
        Column("retain_until", T.TIMESTAMP, label=_label("Сақтау мерзімі", "Хранить до", "Kept until")),
        Column("deleted_at", T.TIMESTAMP, nullable=True, label=_label("Жойылған", "Удалён", "Deleted at")),
    ),
    key="id",
    default_sort=Sort("recorded_at", "desc"),
    time_column="recorded_at",
))

INCIDENTS = register(ListSpec(
    name="incidents",
    title=_label("АҚ инциденттері", "Инциденты ИБ", "IS incidents"),
    source="(SELECT i.id, i.number, i.title, i.category, i.status, i.detected_at, i.recorded_by, "
           "i.response_plan_at, i.nbk_reported_at, i.nbk_reference FROM oson.incident i) t",
    columns=(
        Column("id", T.UUID, label=_label("Идентификатор", "Идентификатор", "ID")),
        Column("number", T.INTEGER, label=_label("Нөмірі", "Номер", "Number")),
        Column("title", T.TEXT, label=_label("Атауы", "Наименование", "Title")),
        Column("category", T.ENUM, choices=INCIDENT_CATEGORIES, label=_label("Санаты", "Категория", "Category")),
        Column("status", T.ENUM, choices=("open", "contained", "resolved", "closed"),
               label=_label("Мәртебесі", "Статус", "Status")),
        Column("detected_at", T.TIMESTAMP, label=_label("Анықталған", "Обнаружен", "Detected at")),
        Column("recorded_by", T.TEXT, label=_label("Тіркеген", "Кем", "Recorded by")),
        Column("response_plan_at", T.TIMESTAMP, nullable=True,
               label=_label("Шаралар жоспары", "План мер", "Response plan at")),
        Column("nbk_reported_at", T.TIMESTAMP, nullable=True,
               label=_label("ҰБ-ға жіберілген", "Отправлен в НБ", "Reported to NBK at")),
        Column("nbk_reference", T.TEXT, nullable=True, label=_label("ҰБ нөмірі", "Номер НБ", "NBK reference")),
    ),
    key="id",
    default_sort=Sort("detected_at", "desc"),
    time_column="detected_at",
))

AML_CASES = register(ListSpec(
    name="aml_cases",
    title=_label("КЖ/ТҚ істері", "Дела ПОД/ФТ", "AML cases"),
    source="(SELECT c.id, c.number, c.participant_id, p.name AS participant_name, c.kind, c.status, c.operation_id, "
           "c.opened_at, c.opened_by, c.released_at, c.released_by FROM oson.aml_case c "
           "JOIN oson.participant p ON p.id = c.participant_id) t",
    columns=(
        Column("id", T.UUID, label=_label("Идентификатор", "Идентификатор", "ID")),
        Column("number", T.INTEGER, label=_label("Нөмірі", "Номер", "Number")),
        Column("participant_id", T.UUID, label=_label("Қатысушы", "Участник", "Participant")),
        Column("participant_name", T.TEXT, label=_label("Қатысушы атауы", "Наименование участника",
                                                          "Participant name")),
        Column("kind", T.ENUM, choices=("list_match", "suspicious"), label=_label("Түрі", "Вид", "Kind")),
        Column("status", T.ENUM, choices=("frozen", "under_control", "open", "released", "closed"),
               label=_label("Мәртебесі", "Статус", "Status")),
        Column("operation_id", T.UUID, nullable=True, label=_label("Операция", "Операция", "Operation")),
        Column("opened_at", T.TIMESTAMP, label=_label("Ашылған", "Открыто", "Opened at")),
        Column("opened_by", T.TEXT, label=_label("Ашқан", "Кем открыто", "Opened by")),
        Column("released_at", T.TIMESTAMP, nullable=True, label=_label("Босатылған", "Снято", "Released at")),
        Column("released_by", T.TEXT, nullable=True, label=_label("Босатқан", "Кем снято", "Released by")),
    ),
    key="id",
    default_sort=Sort("opened_at", "desc"),
    time_column="opened_at",
))

AML_REPORTS = register(ListSpec(
    name="aml_reports",
    title=_label("Күдікті операциялар туралы хабарламалар", "Сообщения о подозрительных операциях",
                 "Suspicious-transaction reports"),
    source="(SELECT r.id, r.number, r.case_id, r.operation_id, r.reason, r.detected_at, r.due_at, r.status, "
           "r.sent_at, r.reference FROM oson.aml_report r) t",
    columns=(
        Column("id", T.UUID, label=_label("Идентификатор", "Идентификатор", "ID")),
        Column("number", T.INTEGER, label=_label("Нөмірі", "Номер", "Number")),
        Column("case_id", T.UUID, label=_label("Іс", "Дело", "Case")),
        Column("operation_id", T.UUID, nullable=True, label=_label("Операция", "Операция", "Operation")),
        Column("reason", T.TEXT, sortable=False, label=_label("Негізі", "Основание", "Reason")),
        Column("detected_at", T.TIMESTAMP, label=_label("Анықталған", "Выявлено", "Detected at")),
        Column("due_at", T.TIMESTAMP, label=_label("Мерзімі", "Срок", "Due at")),
        Column("status", T.ENUM, choices=("queued", "sent"), label=_label("Мәртебесі", "Статус", "Status")),
        Column("sent_at", T.TIMESTAMP, nullable=True, label=_label("Жіберілген", "Отправлено", "Sent at")),
        Column("reference", T.TEXT, nullable=True, label=_label("Нөмірі", "Номер", "Reference")),
    ),
    key="id",
    default_sort=Sort("due_at", "asc"),
    time_column="detected_at",
))

DISPUTES = register(ListSpec(
    name="disputes",
    title=_label("Жазбаша өтініштер", "Письменные обращения", "Written claims"),
    source="(SELECT d.id, d.number, d.claimant_name, d.participant_id, d.channel, d.subject, d.operation_id, "
           "d.received_at, d.due_at, d.status, d.answered_at, d.recorded_by FROM oson.dispute d) t",
    columns=(
        Column("id", T.UUID, label=_label("Идентификатор", "Идентификатор", "ID")),
        Column("number", T.INTEGER, label=_label("Нөмірі", "Номер", "Number")),
        Column("claimant_name", T.TEXT, label=_label("Өтініш беруші", "Заявитель", "Claimant")),
        Column("participant_id", T.UUID, nullable=True, label=_label("Қатысушы", "Участник", "Participant")),
        Column("channel", T.ENUM, choices=("post", "email", "in_person"), label=_label("Арна", "Канал", "Channel")),
        Column("subject", T.TEXT, label=_label("Тақырыбы", "Тема", "Subject")),
        Column("operation_id", T.UUID, nullable=True, label=_label("Операция", "Операция", "Operation")),
        Column("received_at", T.TIMESTAMP, label=_label("Алынған", "Получено", "Received at")),
        Column("due_at", T.TIMESTAMP, label=_label("Жауап мерзімі", "Срок ответа", "Answer due")),
        Column("status", T.ENUM, choices=("registered", "in_progress", "redirected", "answered"),
               label=_label("Мәртебесі", "Статус", "Status")),
        Column("answered_at", T.TIMESTAMP, nullable=True, label=_label("Жауап берілген", "Дан ответ",
                                                                       "Answered at")),
        Column("recorded_by", T.TEXT, label=_label("Тіркеген", "Кем", "Recorded by")),
    ),
    key="id",
    default_sort=Sort("received_at", "desc"),
    time_column="received_at",
))
