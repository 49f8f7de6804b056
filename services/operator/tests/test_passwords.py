"""The staff password policy and TOTP rules, as pure functions (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st

from oson_operator.domain import passwords, totp
from oson_operator.domain.passwords import (
    PASSWORD_CLASSES,
    PASSWORD_CONTAINS_LOGIN,
    PASSWORD_REUSED,
    PASSWORD_TOO_SHORT,
    character_classes,
    password_status,
    policy_violations,
)

passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("password", "classes"),
    [("abcdefgh", 1), ("abcdEFGH", 2), ("abcd1234", 2), ("abcD1234", 3), ("abc-1234", 3), ("aB1-", 4),
     ("Пароль2024", 3), ("ҚАЗАҚ-қазақ", 3), ("        ", 1)],  # noqa: RUF001 - Cyrillic on purpose
)
def test_character_classes(password: str, classes: int) -> None:
    assert character_classes(password) == classes


def test_a_good_password_passes() -> None:
    assert policy_violations("Steppe-2026", "aigerim") == []
    assert policy_violations("steppe-2026", "aigerim") == []  # lower, digit, symbol: three classes
    assert policy_violations("STEPPEwind7", "aigerim") == []


def test_each_rule_has_its_own_code_and_all_are_listed() -> None:
    assert policy_violations("Ab1-", "x") == [PASSWORD_TOO_SHORT]
    assert policy_violations("abcdefghij", "x") == [PASSWORD_CLASSES]
    assert policy_violations("Aigerim-2026", "aigerim") == [PASSWORD_CONTAINS_LOGIN]
    assert policy_violations("bob", "bob") == [PASSWORD_TOO_SHORT, PASSWORD_CLASSES, PASSWORD_CONTAINS_LOGIN]


def test_the_login_is_found_in_any_letter_case() -> None:
    assert PASSWORD_CONTAINS_LOGIN in policy_violations("xxAIGERIMxx-1", "Aigerim")
    assert PASSWORD_CONTAINS_LOGIN not in policy_violations("Aiger1m-xx-1", "aigerim")


def test_reuse_is_found_by_verifying_against_previous_hashes() -> None:
    history = [passwords.hash_password(f"Old-password-{n}") for n in range(7)]
    assert policy_violations("Old-password-3", "someone", history) == [PASSWORD_REUSED]
    assert policy_violations("Old-password-9", "someone", history) == []
    # Hashes made by the production hasher (other parameters) verify as well.
    assert policy_violations("Strong-pass-1", "someone", [PasswordHasher().hash("Strong-pass-1")]) == [
        PASSWORD_REUSED
    ]


def test_verify_password_fails_closed() -> None:
    stored = passwords.hash_password("Right-pass-1")
    assert passwords.verify_password(stored, "Right-pass-1")
    assert not passwords.verify_password(stored, "Wrong-pass-1")
    assert not passwords.verify_password(None, "Right-pass-1")
    assert not passwords.verify_password("not a hash", "Right-pass-1")


def test_expiry_warning_and_forced_change() -> None:
    def status(days: float, forced: bool = False) -> passwords.PasswordStatus:
        return password_status(T0, T0 + timedelta(days=days), forced=forced, max_age_days=60, warn_days=7)

    assert (status(0).expires_in_days, status(0).warning, status(0).must_change) == (60, False, False)
    assert (status(52).expires_in_days, status(52).warning) == (8, False)
    assert (status(53).expires_in_days, status(53).warning, status(53).must_change) == (7, True, False)
    assert (status(59.5).expires_in_days, status(59.5).warning) == (0, True)
    expired = status(60)
    assert (expired.expired, expired.warning, expired.must_change, expired.expires_in_days) == (True, False, True, 0)
    assert status(61).must_change
    assert status(1, forced=True).must_change
    assert status(0).expires_at == T0 + timedelta(days=60)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=97, max_codepoint=122), min_size=2, max_size=12))
def test_temporary_passwords_always_satisfy_the_policy(login: str) -> None:
    temporary = passwords.temporary_password(login)
    assert policy_violations(temporary, login) == []
    assert len(temporary) == 19


def test_tokens_are_long_and_stored_as_sha256() -> None:
    token = passwords.new_token()
    assert len(token) == 43
    assert passwords.token_digest(token) != token
    assert len(passwords.token_digest(token)) == 64
    assert passwords.new_token() != token


def test_totp_accepts_one_step_of_drift_and_reports_the_step() -> None:
    secret = totp.new_secret()
    now = T0 + timedelta(seconds=7)
    step = totp.time_step(now)
    assert totp.matching_step(secret, totp.code_at(secret, step), now) == step
    assert totp.matching_step(secret, totp.code_at(secret, step - 1), now) == step - 1
    assert totp.matching_step(secret, totp.code_at(secret, step + 1), now) == step + 1
    assert totp.matching_step(secret, totp.code_at(secret, step - 3), now) is None
    assert totp.matching_step(secret, "", now) is None
    assert totp.matching_step(secret, "12ab56", now) is None


def test_totp_replay_is_a_step_not_after_the_last_used_one() -> None:
    assert not totp.is_replay(100, None)
    assert totp.is_replay(100, 100)
    assert totp.is_replay(99, 100)
    assert not totp.is_replay(101, 100)


def test_provisioning_uri_names_the_issuer_and_login() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "aigerim", "OSON operator")
    assert uri.startswith("otpauth://totp/OSON%20operator:aigerim?")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
