"""The information-security incident register (§13.5-13.11) on a moved clock: the 24-hour response plan,
the 48-hour card to the National Bank, overdue warnings, the append-only history and the card."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cases_support import Office, events_of, open_office, runtime_sql
from conftest import PostgresServer
from sqlalchemy.exc import DBAPIError

from oson_operator.domain.access import Role

DETECTED = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # 13:00 in Almaty


def record(office: Office, category: str = "unauthorized_access", **fields: Any) -> dict[str, Any]:
    body = {"title": "Admin console brute force", "description": "Repeated logins from 203.0.113.7",
            "category": category, "detected_at": DETECTED.isoformat(), "affected_assets": "operator console",
            **fields}
    return dict(office.post("/api/incidents", body, expect=201).json()["incident"])


def overdue_of(office: Office, incident_id: str) -> dict[str, str]:
    items = office.get("/api/incidents/overdue").json()["items"]
    return {i["item"]: i["state"] for i in items if i["incident_id"] == incident_id}


def move_to(office: Office, moment: datetime) -> None:
    office.clock.set(moment)
    office.relogin()


def test_deadlines_follow_the_clock(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), DETECTED + timedelta(hours=1)) as office:
        incident = record(office)
        deadlines = incident["deadlines"]
        assert deadlines["response_plan"]["due_at"] == "2026-05-05T08:00:00+00:00"
        assert deadlines["nbk_report"]["due_at"] == "2026-05-06T08:00:00+00:00"
        assert (deadlines["response_plan"]["state"], deadlines["nbk_report"]["state"]) == ("pending", "pending")
        assert overdue_of(office, incident["id"]) == {}

        move_to(office, DETECTED + timedelta(hours=20))  # four hours left: a warning
        assert overdue_of(office, incident["id"]) == {"response_plan": "due_soon"}
        move_to(office, DETECTED + timedelta(hours=25))
        assert overdue_of(office, incident["id"]) == {"response_plan": "overdue"}
        late = office.post(f"/api/incidents/{incident['id']}/response-plan",
                           {"response_plan": "Block the source; rotate admin passwords"}, expect=200)
        assert late.json()["incident"]["deadlines"]["response_plan"]["state"] == "done_late"
        assert overdue_of(office, incident["id"]) == {}

        move_to(office, DETECTED + timedelta(hours=49))
        assert overdue_of(office, incident["id"]) == {"nbk_report": "overdue"}
        office.post(f"/api/incidents/{incident['id']}/nbk-report", {"reference": "NBK-IS-2026-0042"}, expect=200)
        assert overdue_of(office, incident["id"]) == {}
        again = office.post(f"/api/incidents/{incident['id']}/nbk-report", {"reference": "NBK-IS-2026-0043"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "INCIDENT_ALREADY_REPORTED"


def test_other_incidents_are_not_reported_and_plans_in_time_are_done(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), DETECTED + timedelta(minutes=30)) as office:
        incident = record(office, category="other")
        assert incident["deadlines"]["nbk_report"] == {"required": False}
        office.post(f"/api/incidents/{incident['id']}/response-plan", {"response_plan": "Patch"}, expect=200)
        move_to(office, DETECTED + timedelta(days=3))
        assert overdue_of(office, incident["id"]) == {}
        shown = office.get(f"/api/incidents/{incident['id']}").json()["incident"]
        assert shown["deadlines"]["response_plan"]["state"] == "done"
        refused = office.post(f"/api/incidents/{incident['id']}/nbk-report", {"reference": "X"})
        assert refused.json()["error"]["code"] == "INCIDENT_NOT_REPORTABLE"
        # Reclassified into a §13.9 kind, it owes the card, already late.
        office.post(f"/api/incidents/{incident['id']}/category",
                    {"category": "malware", "note": "the patch revealed a web shell"}, expect=200)
        assert overdue_of(office, incident["id"]) == {"nbk_report": "overdue"}


def test_status_moves_forward_and_closing_needs_plan_and_report(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), DETECTED + timedelta(hours=2)) as office:
        incident = record(office, category="denial_of_service")
        path = f"/api/incidents/{incident['id']}"
        office.post(f"{path}/status", {"status": "contained", "note": "rate limit on the VIP"}, expect=200)
        backwards = office.post(f"{path}/status", {"status": "contained", "note": "again"})
        assert backwards.status_code == 409 and backwards.json()["error"]["code"] == "INCIDENT_STATUS_BACKWARDS"
        early = office.post(f"{path}/status", {"status": "closed", "note": "done"})
        assert early.json()["error"]["code"] == "INCIDENT_CLOSE_NEEDS_PLAN"
        office.post(f"{path}/response-plan", {"response_plan": "Rate limit; upstream filtering"}, expect=200)
        assert office.post(f"{path}/status", {"status": "closed", "note": "done"}).json()["error"]["code"] \
            == "INCIDENT_CLOSE_NEEDS_NBK_REPORT"
        office.post(f"{path}/nbk-report", {"reference": "NBK-1"}, expect=200)
        closed = office.post(f"{path}/status", {"status": "closed", "note": "done", "measures": "filters in place",
                                                "corrective_actions": "capacity test quarterly"}, expect=200)
        assert closed.json()["incident"]["status"] == "closed"
        office.post(f"{path}/status", {"status": "resolved", "note": "x"}, role=Role.AUDITOR, expect=403)
        history = office.get(path).json()["history"]
        assert [h["action"] for h in history] == ["record", "status", "response_plan", "nbk_report", "status"]
        assert [a for a, _ in events_of(running_pg.settings(), incident["id"])][:1] == ["incident.record"]
        # The history and the register are append-only for the service's own login.
        with pytest.raises(DBAPIError):
            runtime_sql(running_pg.settings(), "UPDATE oson.incident_step SET note = 'x' "
                        "WHERE incident_id = CAST(:id AS uuid)", id=incident["id"])
        with pytest.raises(DBAPIError):
            runtime_sql(running_pg.settings(), "DELETE FROM oson.incident WHERE id = CAST(:id AS uuid)",
                        id=incident["id"])
        assert closed.json()["incident"]["retain_until"] == "2031-05-04T08:00:00+00:00"


def test_the_incident_card(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), DETECTED + timedelta(hours=3)) as office:
        incident = record(office, category="unauthorized_transfer", title="Payment <script> injection")
        office.post(f"/api/incidents/{incident['id']}/response-plan", {"response_plan": "Freeze wallets"},
                    expect=200)
        path = f"/api/incidents/{incident['id']}/card"
        card = office.get(path).json()
        assert card["format"] == "oson.incident-card.v1"
        assert card["incident"]["category_clause"] == "§13.9.5"
        assert card["times"]["detected_at"] == "2026-05-04 13:00"  # Almaty time
        assert card["times"]["nbk_report_due"] == "2026-05-06 13:00"
        assert card["organization"]["bin"]
        html = office.get(path, format="html")
        assert html.headers["content-type"].startswith("text/html")
        assert "Payment &lt;script&gt; injection" in html.text and "<script>" not in html.text
        assert "@media print" in html.text
        assert office.get(path, format="html").content == html.content  # deterministic
        assert "print-preview" in office.get(path, format="print").text
        lines = list(csv.reader(io.StringIO(office.get(path, format="csv").content.decode("utf-8-sig"))))
        fields = {line[0]: line[1] for line in lines if len(line) == 2}
        assert fields["Urgent measures (§13.7)"] == "Freeze wallets"
        assert fields["Category (§13.9)"].startswith("§13.9.5 ")
        pdf = office.get(path, format="pdf")
        assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
        assert office.get(path, format="pdf").content == pdf.content
        actions = [a for a, _ in events_of(running_pg.settings(), incident["id"])]
        assert actions.count("incident.card") == 7
