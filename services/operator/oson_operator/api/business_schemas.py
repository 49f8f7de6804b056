"""Request models of the business API. Unknown fields are refused; amounts are decimal strings in tenge."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from oson_operator.domain.money import parse_amount

Amount = Annotated[
    int,
    BeforeValidator(parse_amount),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$", "examples": ["1500.00"],
                    "description": "tenge, at most two decimals"}),
]
IinBin = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="IIN or BIN, 12 digits")]
Phone = Annotated[str, Field(pattern=r"^\+7[0-9]{10}$", description="mobile number, +7XXXXXXXXXX")]
Text = Annotated[str, Field(min_length=1, max_length=300)]
Id = Annotated[str, Field(pattern=r"^[0-9a-fA-F-]{36}$", description="UUID")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BankAccount(Strict):
    iban: str = Field(pattern=r"^KZ[0-9]{2}[0-9A-Z]{16}$", description="Kazakhstan IBAN, 20 characters")
    bik: str = Field(pattern=r"^[A-Z0-9]{8,11}$")


class IndividualRegistration(Strict):
    """A client who is an individual (§11.1): registered as unidentified."""

    kind: Literal["individual"]
    name: Text
    iin_bin: IinBin
    phone: Phone
    birth_date: date
    resident: bool
    public_offer_accepted: Literal[True] = Field(description="§11.1: the client accepts the public offer")
    personal_data_consent: Literal[True] = Field(description="§11.1: consent to processing and transfer")
    representative_consent: bool = Field(False, description="required from 14 to 18 (§2.1)")
    email: str | None = Field(None, max_length=200)


class BusinessClientRegistration(Strict):
    """A client that is a legal entity or an individual entrepreneur (§11.2)."""

    kind: Literal["legal_entity", "individual_entrepreneur"]
    name: Text
    iin_bin: IinBin
    phone: Phone
    legal_address: Text
    head_name: Text
    kyc_questionnaire: Text = Field(description="reference of the KYC questionnaire")
    documents: list[Text] = Field(min_length=1, description="references of the supporting documents")
    email: str | None = Field(None, max_length=200)


class PartnerRegistration(Strict):
    """A partner (merchant) accepting e-money (§11.3)."""

    kind: Literal["partner"]
    legal_form: Literal["legal_entity", "individual_entrepreneur"]
    name: Text
    iin_bin: IinBin
    phone: Phone
    legal_address: Text
    tariff: Text = Field(description="tariff code of §8.2, e.g. oson_merchants")
    bank_account: BankAccount
    agreement_number: Text
    kyc_questionnaire: Text
    email: str | None = Field(None, max_length=200)


class PartnerBankRegistration(Strict):
    kind: Literal["partner_bank"]
    name: Text
    iin_bin: IinBin
    bik: str = Field(pattern=r"^[A-Z0-9]{8,11}$")
    license_number: Text
    agreement_number: Text


class IssuerRegistration(Strict):
    kind: Literal["issuer"]
    name: Text
    iin_bin: IinBin
    issuer_type: Literal["national_bank", "bank", "kazpost"]
    license_number: Text
    agreement_number: Text


Registration = Annotated[
    IndividualRegistration | BusinessClientRegistration | PartnerRegistration | PartnerBankRegistration
    | IssuerRegistration,
    Field(discriminator="kind"),
]
REGISTRATION_TAGS = frozenset({"individual", "legal_entity", "individual_entrepreneur", "partner", "partner_bank",
                               "issuer"})


class IdentificationRequest(Strict):
    level: Literal["simplified", "identified"]
    method: Literal["remote_interbank", "video_session", "video_recording", "in_person"]
    evidence: Text = Field(description="reference of the documents / session that prove it (§11.1.8)")


class StatusRequest(Strict):
    status: Literal["active", "suspended", "closed"]
    reason: Text


class WalletOpenRequest(Strict):
    participant_id: Id
    issuer_id: Id


BlockReason = Literal["loss_or_theft", "client_breach", "rules_violation", "seizure", "dispute", "agreement"]


class BlockRequest(Strict):
    """§6.3 grounds. ``debit`` blocks outgoing operations only (incoming credits still allowed)."""

    reason: BlockReason
    mode: Literal["full", "debit"] = "full"


class AmlBlockRequest(Strict):
    working_days: int = Field(ge=1, le=5, description="§16.8: at most 5 working days, no reasons given")


class UnblockRequest(Strict):
    reason: Text


class IssuanceRequest(Strict):
    wallet_id: Id
    amount: Amount = Field(description="money received, tenge")
    money_reference: Text = Field(description="reference of the money received at the specialized account")


class PaymentRequest(Strict):
    payer_wallet_id: Id
    payee_wallet_id: Id
    amount: Amount
    purpose: Text = Field(description="§6.4: the nature of the legal relationship behind the payment")


class RedemptionRequest(Strict):
    wallet_id: Id
    amount: Amount
    bank_account: BankAccount


class Authorization(Strict):
    authorized_by: Literal["operator", "issuer"]
    reference: Text


class Applications(Strict):
    client: Text = Field(description="reference of the client's signed paper application")
    partner: Text = Field(description="reference of the partner's signed paper application")


class ReturnRequest(Strict):
    original_operation_id: Id
    case: Literal["wrong_execution", "technical_failure", "consumer_protection", "cancelled_sale",
                  "wrong_recipient", "unauthorized_use"]
    amount: Amount | None = Field(None, description="default: what is left of the original amount")
    authorization: Authorization
    grounds: Text
    recipient_order: Text | None = Field(None, description="wrong_recipient: the recipient's order (§5.5.3)")
    applications: Applications | None = Field(None, description="cancelled_sale: both applications (§5.5.4)")
