"""Time-based one-time codes (RFC 6238, via pyotp): the second factor of staff logins.

A code is accepted for its own 30-second step and one step either side (clock drift), and a step
that was already used is refused, so a code seen over someone's shoulder cannot be replayed.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, login: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (usually shown as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=issuer)


def time_step(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of one step (tests and the test support use it to log in)."""
    return pyotp.TOTP(secret).at(step * STEP_SECONDS)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The step whose code ``code`` is (within the drift window), or None."""
    candidate = (code or "").strip()
    if not candidate.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = time_step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), candidate):
            return step
    return None


def is_replay(step: int, last_used_step: int | None) -> bool:
    """A code of a step at or before the last accepted one has been used (or superseded) already."""
    return last_used_step is not None and step <= last_used_step
