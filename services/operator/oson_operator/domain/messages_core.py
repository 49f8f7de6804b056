"""Message catalog of the request, operation and refusal codes (see oson_operator.domain.messages)."""

from __future__ import annotations

from collections.abc import Mapping

from oson_operator.domain.messages import Language

CATALOG: Mapping[str, Mapping[Language, str]] = {
    # Request shape (§14.1(3)): one message per field.
    "FIELD_REQUIRED": {
        "kk": "«{field}» өрісі толтырылмаған",
        "ru": "Не заполнено поле «{field}»",
        "en": "Field '{field}' is required",
    },
    "FIELD_INVALID": {
        "kk": "«{field}» өрісінің мәні қате: {reason}",
        "ru": "Неверное значение поля «{field}»: {reason}",
        "en": "Field '{field}' is invalid: {reason}",
    },
    "FIELD_UNKNOWN": {
        "kk": "«{field}» өрісі белгісіз",
        "ru": "Неизвестное поле «{field}»",
        "en": "Field '{field}' is not allowed here",
    },
    "REQUEST_INVALID": {
        "kk": "Сұрау толық емес немесе қате",
        "ru": "Запрос неполон или содержит ошибки",
        "en": "The request is incomplete or invalid",
    },
    "MALFORMED_JSON": {
        "kk": "Сұрау денесі дұрыс JSON емес",
        "ru": "Тело запроса не является корректным JSON",
        "en": "The request body is not valid JSON",
    },
    "NOT_FOUND": {
        "kk": "Табылмады",
        "ru": "Не найдено",
        "en": "Not found",
    },
    "METHOD_NOT_ALLOWED": {
        "kk": "Бұл әдіске рұқсат жоқ",
        "ru": "Метод не разрешён",
        "en": "Method not allowed",
    },
    "INTERNAL_ERROR": {
        "kk": "Ішкі қате; сұрау идентификаторын қолдау қызметіне хабарлаңыз",
        "ru": "Внутренняя ошибка; сообщите идентификатор запроса в службу поддержки",
        "en": "Internal error; give the request id to support",
    },
    "DATABASE_UNAVAILABLE": {
        "kk": "Дерекқор қолжетімсіз; кейінірек қайталаңыз",
        "ru": "База данных недоступна; повторите позже",
        "en": "The database is unavailable; try again later",
    },
}
