"""Information-security incidents (§13.5-13.11): the categories of §13.9, statuses, the card of §13.10."""

from __future__ import annotations

from typing import Literal

# §13.9: the six kinds reported to the National Bank; "other" is registered (§13.8) but not reported.
CATEGORIES: dict[str, tuple[str, str]] = {
    "vulnerability_exploitation": ("13.9.1", "Exploitation of vulnerabilities in application or system software"),
    "unauthorized_access": ("13.9.2", "Unauthorized access to an information system"),
    "denial_of_service": ("13.9.3", "Denial of service of an information system or data network"),
    "malware": ("13.9.4", "Server infection with malware or malicious code"),
    "unauthorized_transfer": ("13.9.5", "Unauthorized transfer of e-money or money caused by IS control failures"),
    "stability_threat": ("13.9.6", "Incident that threatens the organization's stability"),
    "other": ("13.8", "Other incident (registered, not reported to the National Bank)"),
}
Category = Literal["vulnerability_exploitation", "unauthorized_access", "denial_of_service", "malware",
                   "unauthorized_transfer", "stability_threat", "other"]
Status = Literal["open", "contained", "resolved", "closed"]
STATUS_ORDER: dict[str, int] = {"open": 0, "contained": 1, "resolved": 2, "closed": 3}


def reportable(category: str) -> bool:
    """Whether §13.10 asks for a card to the National Bank within 48 hours."""
    return category != "other"


def transition_allowed(current: str, target: str) -> bool:
    """Statuses only move forward (a reopened incident is a new one, linked in its description)."""
    return STATUS_ORDER[target] > STATUS_ORDER[current]
