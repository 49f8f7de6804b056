"""The case registers are searchable with the generic search (§14.1(4)): incidents, documents, AML cases,
suspicious-transaction reports and disputes, filtered and sorted by their fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from cases_support import open_office
from conftest import PostgresServer

from oson_operator.domain.access import Role

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def test_case_lists_are_registered_and_searchable(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), NOW) as office:
        names = {spec["name"] for spec in office.get("/api/search/lists").json()["lists"]}
        assert {"incidents", "documents", "aml_cases", "aml_reports", "disputes"} <= names
        title = f"Search me {uuid.uuid4().hex[:8]}"
        incident = office.post("/api/incidents", {"title": title, "description": "d", "category": "malware"},
                               expect=201).json()["incident"]
        claimant = f"Claimant {uuid.uuid4().hex[:8]}"
        office.post("/api/disputes", {"claimant_name": claimant, "contact": "c", "channel": "post",
                                      "subject": "s", "claim": "c"}, expect=201)
        found = office.post("/api/search/incidents", {
            "filters": [{"field": "title", "op": "eq", "value": title},
                        {"field": "category", "op": "in", "value": ["malware", "other"]}],
            "sort": {"field": "detected_at", "direction": "desc"}}, role=Role.AUDITOR, expect=200).json()
        assert [row["id"] for row in found["rows"]] == [incident["id"]]
        assert found["rows"][0]["response_plan_at"] is None
        disputes = office.post("/api/search/disputes", {"filters": [
            {"field": "claimant_name", "op": "contains", "value": claimant[-8:]}]}, expect=200).json()
        assert [row["claimant_name"] for row in disputes["rows"]] == [claimant]
        assert disputes["rows"][0]["due_at"].startswith("2026-07-01T19:00")  # end of 1 July, Almaty
