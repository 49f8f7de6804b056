"""The register of written claims (§XVIII): the one-month answer deadline (§18.6) on a moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cases_support import Office, open_office
from conftest import PostgresServer

from oson_operator.domain.access import Role

RECEIVED = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)  # 31 January, 11:00 in Almaty


def claim(office: Office, **fields: Any) -> dict[str, Any]:
    body = {"claimant_name": "Aigerim S.", "contact": "aigerim@example.kz", "channel": "email",
            "subject": "Payment not received by the shop", "claim": "I paid 5 000 KZT on 30 January ...",
            "received_at": RECEIVED.isoformat(), **fields}
    return dict(office.post("/api/disputes", body, expect=201).json()["dispute"])


def overdue_ids(office: Office) -> set[str]:
    return {d["id"] for d in office.get("/api/disputes/overdue").json()["disputes"]}


def test_answer_due_in_one_month_and_overdue_list(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), RECEIVED + timedelta(hours=2)) as office:
        dispute = claim(office)
        # One month from 31 January is the end of 28 February (2026 is not a leap year), Almaty time.
        assert dispute["deadline"]["due_at"] == "2026-02-28T19:00:00+00:00"
        assert dispute["status"] == "registered" and dispute["id"] not in overdue_ids(office)
        office.post(f"/api/disputes/{dispute['id']}/status", {"status": "in_progress", "note": "asked the shop"},
                    expect=200)

        office.clock.set(datetime(2026, 2, 28, 18, 0, tzinfo=UTC))
        office.relogin()
        assert dispute["id"] not in overdue_ids(office)
        office.clock.set(datetime(2026, 2, 28, 19, 0, tzinfo=UTC))
        office.relogin()
        assert dispute["id"] in overdue_ids(office)

        no_text = office.post(f"/api/disputes/{dispute['id']}/status", {"status": "answered", "note": "x"})
        assert no_text.status_code == 422 and no_text.json()["error"]["code"] == "DISPUTE_ANSWER_REQUIRED"
        office.post(f"/api/disputes/{dispute['id']}/status", {"status": "answered", "note": "x", "answer": "..."},
                    role=Role.AUDITOR, expect=403)
        answered = office.post(f"/api/disputes/{dispute['id']}/status", {
            "status": "answered", "note": "letter sent", "answer": "The shop refunded 5 000 KZT on 2 March."},
            expect=200).json()["dispute"]
        assert answered["deadline"]["state"] == "done_late"
        assert dispute["id"] not in overdue_ids(office)
        reopened = office.post(f"/api/disputes/{dispute['id']}/status", {"status": "in_progress", "note": "again"})
        assert reopened.status_code == 409 and reopened.json()["error"]["code"] == "DISPUTE_STATUS"
        history = office.get(f"/api/disputes/{dispute['id']}").json()["history"]
        assert [h["action"] for h in history] == ["register", "in_progress", "answered"]


def test_claims_name_real_participants_and_operations(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), RECEIVED) as office:
        ghost = "00000000-0000-4000-8000-00000000ffff"
        unknown = office.post("/api/disputes", {
            "claimant_name": "X", "contact": "post: Almaty", "channel": "post", "subject": "s", "claim": "c",
            "operation_id": ghost})
        assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "DISPUTE_OPERATION_UNKNOWN"
        phone = office.post("/api/disputes", {"claimant_name": "X", "contact": "+77010000000", "channel": "phone",
                                              "subject": "s", "claim": "c"})
        assert phone.status_code == 422  # §18.4: calls are not written claims
        future = office.post("/api/disputes", {"claimant_name": "X", "contact": "c", "channel": "in_person",
                                               "subject": "s", "claim": "c",
                                               "received_at": (RECEIVED + timedelta(days=1)).isoformat()})
        assert future.json()["error"]["code"] == "DISPUTE_RECEIVED_IN_FUTURE"
        in_person = claim(office, channel="in_person", received_at=None)
        assert in_person["received_at"] == RECEIVED.isoformat()
        assert in_person["deadline"]["due_at"] == "2026-02-28T19:00:00+00:00"
