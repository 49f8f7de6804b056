"""Repositories: the only place where the service reads and writes tables."""

from __future__ import annotations

from sqlmodel import Session, select

from oson_operator.storage.models import SCHEMA_VERSION_KEY, AppMeta


class AppMetaRepository:
    """Read access to ``oson.app_meta`` (the runtime login may only SELECT it)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, key: str) -> str | None:
        row = self._session.exec(select(AppMeta).where(AppMeta.key == key)).first()
        return row.value if row is not None else None

    def schema_version(self) -> str | None:
        return self.get(SCHEMA_VERSION_KEY)
