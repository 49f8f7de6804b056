"""Messages of documents, incidents, AML and disputes, in Kazakh, Russian and English (see messages.py)."""

from __future__ import annotations

from collections.abc import Mapping

from oson_operator.domain.messages import Language

CATALOG: Mapping[str, Mapping[Language, str]] = {}
