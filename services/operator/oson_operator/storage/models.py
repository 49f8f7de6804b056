"""Table models of schema ``oson`` (SQLModel). Migrations, not ``create_all``, create the tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text, func
from sqlmodel import Field, SQLModel

SCHEMA = "oson"
SCHEMA_VERSION_KEY = "schema_version"


class AppMeta(SQLModel, table=True):
    """Key/value facts about the installation; ``schema_version`` is kept up to date by migrations."""

    __tablename__ = "app_meta"
    __table_args__ = {"schema": SCHEMA}

    key: str = Field(sa_column=Column(Text, primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
