"""Participants (§2.1, §XI) and wallets (§3.3, §6.3, §16.8): registration, status changes, blocking."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from oson_operator.domain import rules
from oson_operator.domain.business import BusinessConfig
from oson_operator.domain.calendar import add_working_days, operational_day
from oson_operator.domain.clock import Clock
from oson_operator.domain.errors import Conflict, NotFound, Refusal
from oson_operator.domain.money import format_amount
from oson_operator.service.aml import screen_new_participant
from oson_operator.service.transaction import Command, Outcome, execute
from oson_operator.storage import registry
from oson_operator.storage.ledger import lock_wallets
from oson_operator.storage.registry import ParticipantRow, WalletRow

IDENTIFICATION_ORDER = {"unidentified": 0, "simplified": 1, "identified": 2}
WALLET_HOLDER_KINDS = {"individual", "legal_entity", "individual_entrepreneur", "partner"}


def participant_view(row: ParticipantRow) -> dict[str, Any]:
    return {
        "id": row.id, "kind": row.kind, "name": row.name, "iin_bin": row.iin_bin, "phone": row.phone,
        "email": row.email, "birth_date": row.birth_date.isoformat() if row.birth_date else None,
        "identification": row.identification, "status": row.status, "legal_form": row.legal_form,
        "tariff": row.tariff, "details": row.details, "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
    }


def wallet_view(row: WalletRow, now: datetime) -> dict[str, Any]:
    blocked = row.status == "blocked" and (row.blocked_until is None or row.blocked_until > now)
    return {
        "id": row.id, "participant_id": row.participant_id, "issuer_id": row.issuer_id, "currency": row.currency,
        "balance": format_amount(row.balance), "status": "blocked" if blocked else
        ("active" if row.status == "blocked" else row.status),
        "block_mode": row.block_mode if blocked else None, "block_reason": row.block_reason if blocked else None,
        "blocked_until": row.blocked_until.isoformat() if blocked and row.blocked_until else None,
        "created_at": row.created_at.isoformat(),
    }


class Registry:
    def __init__(self, engine: Engine, config: BusinessConfig, clock: Clock) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock

    def register(self, command: Command, fields: dict[str, Any]) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            kind = fields["kind"]
            birth: date | None = fields.get("birth_date")
            if kind == "individual":
                assert birth is not None
                rules.check_registration_age(birth, operational_day(now), bool(fields.get("representative_consent")))
            if kind == "partner" and fields["tariff"] not in self.config.tariffs:
                raise Refusal("TARIFF_UNKNOWN", params={"tariff": fields["tariff"]})
            core = {"kind", "name", "iin_bin", "phone", "email", "birth_date", "legal_form", "tariff"}
            details = {k: v for k, v in fields.items() if k not in core and v is not None}
            row = registry.insert_participant(
                conn, kind=kind, name=fields["name"], iin_bin=fields["iin_bin"], phone=fields.get("phone"),
                email=fields.get("email"), birth_date=birth,
                identification="unidentified" if kind == "individual" else None,  # §11.1.6
                legal_form=fields.get("legal_form"), tariff=fields.get("tariff"), details=details, now=now,
                actor=command.principal.actor)
            # §16.2.6: screened against the terrorist list on registration; a match freezes at once.
            screen_new_participant(conn, command, now, self.config.holidays, row.id)
            return Outcome(201, {"participant": participant_view(row)}, "participant", row.id)
        return execute(self.engine, command, work)

    def _participant(self, conn: Connection, participant_id: str, lock: bool = True) -> ParticipantRow:
        row = registry.get_participant(conn, participant_id, lock=lock)
        if row is None:
            raise NotFound("PARTICIPANT_NOT_FOUND", params={"participant_id": participant_id})
        return row

    def identify(self, command: Command, participant_id: str, level: str, method: str, evidence: str) -> Outcome:
        """Raise a client's identification (§11.1.8); the change and its evidence are recorded."""
        def work(conn: Connection) -> Outcome:
            row = self._participant(conn, participant_id)
            if row.kind != "individual" or row.identification is None:
                raise Refusal("IDENTIFICATION_INDIVIDUALS_ONLY")
            if IDENTIFICATION_ORDER[level] <= IDENTIFICATION_ORDER[row.identification]:
                raise Refusal("IDENTIFICATION_NOT_HIGHER", params={"current": row.identification})
            registry.change_participant(conn, participant_id, "identification", row.identification, level,
                                        f"{method}: {evidence}", self.clock.now(), command.principal.actor)
            updated = self._participant(conn, participant_id, lock=False)
            return Outcome(200, {"participant": participant_view(updated)}, "participant", participant_id)
        return execute(self.engine, command, work)

    def set_status(self, command: Command, participant_id: str, status: str, reason: str) -> Outcome:
        def work(conn: Connection) -> Outcome:
            row = self._participant(conn, participant_id)
            if row.status == status:
                raise Conflict("STATUS_UNCHANGED", params={"status": status})
            if row.status == "closed":
                raise Conflict("PARTICIPANT_CLOSED")
            registry.change_participant(conn, participant_id, "status", row.status, status, reason,
                                        self.clock.now(), command.principal.actor)
            updated = self._participant(conn, participant_id, lock=False)
            return Outcome(200, {"participant": participant_view(updated)}, "participant", participant_id)
        return execute(self.engine, command, work)

    def open_wallet(self, command: Command, participant_id: str, issuer_id: str) -> Outcome:
        def work(conn: Connection) -> Outcome:
            holder = self._participant(conn, participant_id, lock=False)
            if holder.kind not in WALLET_HOLDER_KINDS:
                raise Refusal("WALLET_HOLDER_KIND", params={"kind": holder.kind})
            if holder.status != "active":
                raise Refusal("PARTICIPANT_NOT_ACTIVE", params={"status": holder.status})
            issuer = registry.get_participant(conn, issuer_id)
            if issuer is None or issuer.kind != "issuer":
                raise Refusal("ISSUER_UNKNOWN", params={"issuer_id": issuer_id})
            if issuer.status != "active":
                raise Refusal("ISSUER_NOT_ACTIVE")
            now = self.clock.now()
            row = registry.insert_wallet(conn, participant_id, issuer_id, now, command.principal.actor)
            return Outcome(201, {"wallet": wallet_view(row, now)}, "wallet", row.id)
        return execute(self.engine, command, work)

    def _wallet(self, conn: Connection, wallet_id: str) -> rules.WalletState:
        wallet = lock_wallets(conn, [wallet_id]).get(wallet_id)
        if wallet is None:
            raise NotFound("WALLET_NOT_FOUND", params={"wallet_id": wallet_id})
        return wallet

    def _wallet_outcome(self, conn: Connection, wallet_id: str) -> Outcome:
        row = registry.get_wallet_row(conn, wallet_id)
        assert row is not None
        return Outcome(200, {"wallet": wallet_view(row, self.clock.now())}, "wallet", wallet_id)

    def block(self, command: Command, wallet_id: str, reason: str, mode: str) -> Outcome:
        """Block a wallet on one of the grounds of §6.3; ``debit`` mode still lets credits in."""
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            wallet = self._wallet(conn, wallet_id)
            if wallet.block_in_force(now) == mode and wallet.blocked_until is None:
                raise Conflict("WALLET_ALREADY_BLOCKED")
            registry.set_wallet_block(conn, wallet_id, status="blocked", mode=mode, reason=reason, until=None)
            registry.record_wallet_change(conn, wallet_id, "block", reason, mode, None, now, command.principal.actor)
            return self._wallet_outcome(conn, wallet_id)
        return execute(self.engine, command, work)

    def aml_block(self, command: Command, wallet_id: str, working_days: int) -> Outcome:
        """Block without giving reasons for up to 5 working days (§16.8); it ends by itself."""
        def work(conn: Connection) -> Outcome:
            if working_days > self.config.aml_block_max_working_days:
                raise Refusal("AML_BLOCK_TOO_LONG", params={"days": self.config.aml_block_max_working_days})
            now = self.clock.now()
            self._wallet(conn, wallet_id)
            until = add_working_days(now, working_days, self.config.holidays)
            registry.set_wallet_block(conn, wallet_id, status="blocked", mode="full", reason="aml_16_8", until=until)
            registry.record_wallet_change(conn, wallet_id, "aml_block", "aml_16_8", "full", until, now,
                                          command.principal.actor)
            return self._wallet_outcome(conn, wallet_id)
        return execute(self.engine, command, work)

    def unblock(self, command: Command, wallet_id: str, reason: str) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            wallet = self._wallet(conn, wallet_id)
            if wallet.block_in_force(now) is None:
                raise Conflict("WALLET_NOT_BLOCKED")
            registry.set_wallet_block(conn, wallet_id, status="active", mode=None, reason=None, until=None)
            registry.record_wallet_change(conn, wallet_id, "unblock", reason, None, None, now,
                                          command.principal.actor)
            return self._wallet_outcome(conn, wallet_id)
        return execute(self.engine, command, work)
