"""Messages of search, journals and reports, in Kazakh, Russian and English (see messages.py)."""

from __future__ import annotations

from collections.abc import Mapping

from oson_operator.domain.messages import Language

CATALOG: Mapping[str, Mapping[Language, str]] = {
    "LIST_UNKNOWN": {
        "kk": "«{list}» тізімі жоқ; бар тізімдер: {lists}",
        "ru": "Списка «{list}» нет; есть списки: {lists}",
        "en": "There is no list '{list}'; the lists are: {lists}",
    },
    "LIST_FORBIDDEN": {
        "kk": "«{list}» тізімі сіздің рөліңізге ашық емес",
        "ru": "Список «{list}» недоступен вашей роли",
        "en": "The list '{list}' is not open to your role",
    },
    "LIST_QUERY_INVALID": {
        "kk": "Іздеу сұрауы қате; төмендегі өрістерді түзетіңіз",
        "ru": "Поисковый запрос неверен; исправьте поля, указанные ниже",
        "en": "The search query is invalid; correct the fields listed below",
    },
    "LIST_FIELD_UNKNOWN": {
        "kk": "{field}: «{list}» тізімінде «{name}» өрісі жоқ; GET /api/search/lists өрістерді көрсетеді",
        "ru": "{field}: в списке «{list}» нет поля «{name}»; поля показывает GET /api/search/lists",
        "en": "{field}: the list '{list}' has no field '{name}'; GET /api/search/lists shows its fields",
    },
    "LIST_FIELD_NOT_FILTERABLE": {
        "kk": "{field}: «{name}» өрісі бойынша сүзуге болмайды",
        "ru": "{field}: по полю «{name}» нельзя фильтровать",
        "en": "{field}: the field '{name}' cannot be filtered on",
    },
    "LIST_FIELD_NOT_SORTABLE": {
        "kk": "{field}: «{name}» өрісі бойынша сұрыптауға болмайды",
        "ru": "{field}: по полю «{name}» нельзя сортировать",
        "en": "{field}: the field '{name}' cannot be sorted on",
    },
    "LIST_OPERATOR_INVALID": {
        "kk": "{field}: «{name}» өрісіне «{op}» операторы жарамсыз; рұқсат етілгендері: {operators}",
        "ru": "{field}: оператор «{op}» не подходит для поля «{name}»; допустимы: {operators}",
        "en": "{field}: the operator '{op}' does not apply to the field '{name}'; use one of: {operators}",
    },
    "LIST_VALUE_INVALID": {
        "kk": "{field}: мән қате ({reason})",
        "ru": "{field}: неверное значение ({reason})",
        "en": "{field}: invalid value ({reason})",
    },
    "LIST_RANGE_INVALID": {
        "kk": "{field}: «from» уақыты «to» уақытынан ерте болуы керек",
        "ru": "{field}: время «from» должно быть раньше времени «to»",
        "en": "{field}: 'from' must be earlier than 'to'",
    },
    "LIST_NO_TIME_RANGE": {
        "kk": "{field}: «{list}» тізімінде уақыт аралығы жоқ; сүзгілерді пайдаланыңыз",
        "ru": "{field}: у списка «{list}» нет диапазона времени; используйте фильтры",
        "en": "{field}: the list '{list}' has no time range; use filters instead",
    },
    "LIST_AS_OF_UNSUPPORTED": {
        "kk": "{field}: «{list}» тізімі өткен күйді көрсетпейді; «as_of» өрісін алып тастаңыз",
        "ru": "{field}: список «{list}» не показывает прошлое состояние; уберите «as_of»",
        "en": "{field}: the list '{list}' cannot show a past state; remove 'as_of'",
    },
    "LIST_CURSOR_INVALID": {
        "kk": "{field}: курсор қате немесе басқа сұрыптауға тиесілі; алдыңғы беттің next_cursor мәнін беріңіз",
        "ru": "{field}: курсор неверен или от другой сортировки; передайте next_cursor предыдущей страницы",
        "en": "{field}: the cursor is invalid or of another sort; pass the next_cursor of the previous page",
    },
    "SAVED_QUERY_NOT_FOUND": {
        "kk": "Сақталған сұрау табылмады (тек өз сұрауларыңыз көрінеді)",
        "ru": "Сохранённый запрос не найден (видны только ваши запросы)",
        "en": "Saved query not found (only your own saved queries are visible)",
    },
    "SAVED_QUERY_EXISTS": {
        "kk": "«{name}» атты сақталған сұрауыңыз бар; басқа ат таңдаңыз немесе алдымен оны жойыңыз",
        "ru": "У вас уже есть сохранённый запрос «{name}»; выберите другое имя или сначала удалите его",
        "en": "You already have a saved query named '{name}'; pick another name or delete that one first",
    },
    "PERIOD_INVALID": {
        "kk": "{field}: кезең қате ({reason})",
        "ru": "{field}: неверный период ({reason})",
        "en": "{field}: invalid period ({reason})",
    },
    "FORMAT_UNKNOWN": {
        "kk": "«{format}» пішімі жоқ; html, print, csv немесе pdf таңдаңыз",
        "ru": "Формата «{format}» нет; выберите html, print, csv или pdf",
        "en": "There is no format '{format}'; choose html, print, csv or pdf",
    },
    "ACCOUNT_NOT_FOUND": {
        "kk": "Шот табылмады",
        "ru": "Счёт не найден",
        "en": "Account not found",
    },
}
