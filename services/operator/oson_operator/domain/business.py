"""Business configuration: MCI per year, limits (§6.1), tariffs (§8.2), receipt header (§5.4.12)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oson_operator.domain.money import TIYN_PER_TENGE, percent_of

LimitHolder = Literal["unidentified", "simplified", "identified", "legal_entity", "individual_entrepreneur"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    per_operation: int | None = Field(None, ge=1, description="MCI")
    per_day: int | None = Field(None, ge=1, description="MCI per operational day")
    balance: int | None = Field(None, ge=1, description="MCI stored")


class Tariff(_Strict):
    title: str
    percent: Decimal = Field(ge=0, le=100)
    fixed: Decimal = Field(ge=0, description="tenge")

    def commission(self, amount_tiyn: int) -> int:
        return percent_of(amount_tiyn, self.percent) + int(self.fixed * TIYN_PER_TENGE)


class OperatorInfo(_Strict):
    name: str
    bin: str = Field(pattern=r"^\d{12}$")
    phones: list[str] = Field(min_length=1)


class BusinessConfig(_Strict):
    mci_by_year: dict[int, int]
    operator_max_per_operation: Decimal = Field(gt=0, description="tenge")
    limits: dict[LimitHolder, Limits]
    tariffs: dict[str, Tariff]
    operator: OperatorInfo
    holidays: list[date] = []
    aml_block_max_working_days: int = Field(5, ge=1, le=5)

    def mci(self, day: date) -> int:
        """The MCI in force on ``day``; a year without a value is a configuration error, said clearly."""
        try:
            return self.mci_by_year[day.year]
        except KeyError:
            raise BusinessConfigError(
                f"no MCI value for {day.year}: add it under mci_by_year in the business configuration"
            ) from None

    def mci_tiyn(self, mci_count: int, day: date) -> int:
        return mci_count * self.mci(day) * TIYN_PER_TENGE

    def operator_max_tiyn(self) -> int:
        return int(self.operator_max_per_operation * TIYN_PER_TENGE)

    def tariff(self, code: str) -> Tariff:
        try:
            return self.tariffs[code]
        except KeyError:
            raise BusinessConfigError(f"tariff {code!r} is not configured") from None


class BusinessConfigError(Exception):
    """The business configuration is missing something; the message says what."""


def _defaults() -> dict[str, object]:
    text = resources.files("oson_operator").joinpath("data/business-defaults.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def load_business_config(path: Path | None = None) -> BusinessConfig:
    """Built-in defaults, with the top-level keys of ``path`` (if given) replacing them."""
    values = _defaults()
    if path is not None:
        try:
            override = yaml.safe_load(path.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise BusinessConfigError(f"cannot read business configuration {path}: {exc}") from None
        if not isinstance(override, dict):
            raise BusinessConfigError(f"{path}: expected a mapping of settings")
        values.update(override)
    try:
        return BusinessConfig.model_validate(values)
    except ValidationError as exc:
        where = path or "the built-in defaults"
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BusinessConfigError(f"invalid business configuration in {where}: {problems}") from None
