"""The TLS policy judge on testssl.sh findings: weak settings, RSA key exchange and incomplete scans fail."""

from __future__ import annotations

from appliance.audit import tls

GOOD = [
    {"id": "SSLv2", "severity": "OK", "finding": "not offered"},
    {"id": "SSLv3", "severity": "OK", "finding": "not offered"},
    {"id": "TLS1", "severity": "INFO", "finding": "not offered"},
    {"id": "TLS1_1", "severity": "INFO", "finding": "not offered"},
    {"id": "TLS1_2", "severity": "OK", "finding": "offered"},
    {"id": "TLS1_3", "severity": "OK", "finding": "offered with final"},
    *({"id": list_id, "severity": "OK", "finding": "not offered"} for list_id in tls.WEAK_CIPHER_LISTS),
    {"id": "cipherlist_STRONG", "severity": "OK", "finding": "offered"},
    {"id": "PFS", "severity": "OK", "finding": "offered"},
    {"id": "cipher_xc02b", "severity": "INFO",
     "finding": "xc02b   ECDHE-ECDSA-AES128-GCM-SHA256     ECDH 253   AESGCM      128      TLS_ECDHE_ECDSA_WITH_AES"},
    {"id": "cipher_x1303", "severity": "INFO",
     "finding": "x1303   TLS_CHACHA20_POLY1305_SHA256      ECDH 253   ChaCha20    256      TLS_CHACHA20_POLY1305"},
    {"id": "HSTS_time", "severity": "OK", "finding": "730 days (=63072000 seconds) > 15552000 seconds"},
]


def _with(finding_id: str, finding: str) -> list[dict[str, str]]:
    return [({**f, "finding": finding} if f["id"] == finding_id else f) for f in GOOD]


def test_policy_findings_pass() -> None:
    problems, summary = tls.judge(GOOD)
    assert problems == []
    assert summary["suites"] == "ECDHE-ECDSA-AES128-GCM-SHA256 TLS_CHACHA20_POLY1305_SHA256"


def test_an_old_protocol_or_weak_cipher_list_fails() -> None:
    assert tls.judge(_with("TLS1", "offered (deprecated)"))[0] == [
        "TLS1 is offered (offered (deprecated)); only TLSv1.2 and TLSv1.3 are allowed"]
    problems, _ = tls.judge(_with("cipherlist_3DES_IDEA", "offered"))
    assert problems == ["3DES and IDEA ciphers are offered (cipherlist_3DES_IDEA: offered)"]


def test_rsa_key_exchange_and_cbc_suites_fail_one_by_one() -> None:
    findings = [*GOOD,
                {"id": "cipher_x9c", "severity": "INFO",
                 "finding": "x9c     AES128-GCM-SHA256                 RSA        AESGCM      128      TLS_RSA_WITH"},
                {"id": "cipher_xc013", "severity": "INFO",
                 "finding": "xc013   ECDHE-RSA-AES128-SHA              ECDH 253   AES         128      TLS_ECDHE_RSA"}]
    assert tls.judge(findings)[0] == [
        "AES128-GCM-SHA256: key exchange RSA has no forward secrecy (only ECDHE is allowed)",
        "ECDHE-RSA-AES128-SHA: AES is not an AEAD cipher (CBC and stream ciphers are not allowed)",
    ]


def test_missing_or_short_hsts_fails() -> None:
    missing = [f for f in GOOD if f["id"] != "HSTS_time"] + [
        {"id": "HSTS", "severity": "LOW", "finding": "not offered"}]
    assert tls.judge(missing)[0] == ["no Strict-Transport-Security header (not offered)"]
    short = _with("HSTS_time", "1 days (=86400 seconds) < 15552000 seconds")
    assert tls.judge(short)[0] == ["HSTS max-age 86400 s is shorter than a year (31536000 s)"]


def test_an_incomplete_scan_never_passes() -> None:
    problems, _ = tls.judge([f for f in GOOD if f["id"] not in ("TLS1_1", "HSTS_time", "cipher_xc02b",
                                                                   "cipher_x1303")])
    assert "testssl did not report TLS1_1: the scan is incomplete" in problems
    assert "testssl did not report HSTS: the scan is incomplete" in problems
    assert "testssl listed no offered cipher suite (-e): the scan is incomplete" in problems
    assert tls.judge([{"id": "scanProblem", "severity": "FATAL", "finding": "can't connect"}])[0][0] == (
        "testssl could not complete the scan: can't connect")
