"""Human messages for every machine-readable code, in Kazakh, Russian and English (§VII, §5.4.7).

Each module that raises coded errors keeps its own catalog (``CATALOG`` mapping code to the three
texts, ``str.format`` placeholders allowed); this module merges them and picks the language from
``Accept-Language``. A test checks that every code has all three languages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

Language = Literal["kk", "ru", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "ru"

Catalog = Mapping[str, Mapping[Language, str]]


def pick_language(accept_language: str | None) -> Language:
    """The best of kk/ru/en for an ``Accept-Language`` header (quality values honoured)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            candidate = (quality, -position, primary)
            if best is None or candidate > best:
                best = candidate  # type: ignore[assignment]
    return best[2] if best else DEFAULT_LANGUAGE


def catalog() -> dict[str, Mapping[Language, str]]:
    """All codes of all modules."""
    from oson_operator.domain import (
        messages_access,
        messages_cases,
        messages_core,
        messages_events,
        messages_records,
    )

    merged: dict[str, Mapping[Language, str]] = {}
    for module in (messages_core, messages_access, messages_events, messages_records, messages_cases):
        for code, texts in module.CATALOG.items():
            if code in merged:
                raise RuntimeError(f"message code {code} is defined twice")
            merged[code] = texts
    return merged


_CATALOG: dict[str, Mapping[Language, str]] | None = None


def translate(code: str, language: Language, **params: object) -> str:
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = catalog()
    texts = _CATALOG.get(code)
    if texts is None:
        return code
    template = texts.get(language) or texts[DEFAULT_LANGUAGE]
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template
