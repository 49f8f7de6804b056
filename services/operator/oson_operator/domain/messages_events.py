"""Message catalog of the events codes (see oson_operator.domain.messages)."""

from __future__ import annotations

from collections.abc import Mapping

from oson_operator.domain.messages import Language

CATALOG: Mapping[str, Mapping[Language, str]] = {
    "EVENT_RANGE_INVALID": {
        "kk": "«from» уақыты «to» уақытынан ерте болуы керек",
        "ru": "Время «from» должно быть раньше времени «to»",
        "en": "'from' must be earlier than 'to'",
    },
    "EVENT_CURSOR_INVALID": {
        "kk": "«cursor» мәні қате; алдыңғы беттің next_cursor мәнін беріңіз",
        "ru": "Неверное значение «cursor»; передайте next_cursor предыдущей страницы",
        "en": "Invalid 'cursor'; pass the next_cursor of the previous page",
    },
    "EVENT_KEY_UNUSABLE": {
        "kk": "Оқиғалар журналының кілті оқылмайды; әкімші OSON_EVENT_SIGNING_KEY_FILE параметрін тексеруі керек",
        "ru": "Ключ журнала событий не читается; администратору нужно проверить OSON_EVENT_SIGNING_KEY_FILE",
        "en": "The event-log key cannot be read; an administrator must check OSON_EVENT_SIGNING_KEY_FILE",
    },
}
