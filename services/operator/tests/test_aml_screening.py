"""AML/CFT (§XVI) against the real database: list import, screening on registration and on import, the
freeze (debits refused, credits allowed), "under control" and its release, the STR deadline in working days."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from business_support import make_world
from cases_support import Office, b64, events_of, open_office
from conftest import PostgresServer

from oson_operator.domain.access import Role

FRIDAY = datetime(2026, 5, 8, 5, 0, tzinfo=UTC)  # 10:00 in Almaty


def tag() -> str:
    return uuid.uuid4().hex[:10]


def import_csv(office: Office, rows: list[str], expect: int = 201) -> Any:
    content = "\n".join(["name,birth_date,iin_bin,identifiers,reference", *rows]) + "\n"
    return office.post("/api/aml/lists", {"format": "csv", "content_base64": b64(content.encode()),
                                          "source": "authorized body", "list_date": "2026-05-01"},
                       expect=expect).json()


def cases_of(office: Office, participant_id: str) -> list[dict[str, Any]]:
    return list(office.get("/api/aml/cases", participant_id=participant_id).json()["cases"])


def release(office: Office, case_id: str, role: Role = Role.OPERATOR, expect: int | None = 200) -> Any:
    return office.post(f"/api/aml/cases/{case_id}/release", {
        "reason": "namesake: different person", "identity_evidence": "ID card 045612378 seen in the office",
        "confirmation_channel": "sms", "confirmation_reference": "SMS-7781"}, role=role, expect=expect)


def test_a_match_on_registration_freezes_debits_but_not_credits(running_pg: PostgresServer) -> None:
    surname = f"Ivanov{tag()}"
    with open_office(running_pg.settings(), FRIDAY) as office:
        desk = office.desk()
        world = make_world(desk, funds="5000.00")
        imported = import_csv(office, [f"{surname} Ivan Ivanovich,1980-02-01,,passport N1;id 2,KZ-TL-17"])
        assert imported["list"]["entries"] == 1 and imported["screened_participants"] >= 3
        # Same person, other word order, case and punctuation.
        client = desk.register("individual", name=f"IVANOVICH, ivan {surname.upper()}", birth_date="1980-02-01")
        desk.identify(client["id"], "identified")
        [case] = cases_of(office, client["id"])
        assert (case["kind"], case["status"], case["freezes_debits"]) == ("list_match", "frozen", True)
        assert case["details"]["matched_by"] == "name" and case["details"]["entry_reference"] == "KZ-TL-17"
        wallet = desk.wallet(client["id"], world.issuer)

        desk.issue(wallet, "1000.00")  # credits still come in (§16.2.7)
        refused = desk.pay(wallet, world.partner_wallet, "100.00")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "WALLET_FROZEN_AML"
        assert refused.json()["operation"]["status"] == "refused"
        assert desk.balance(wallet) == "1000.00"  # the credit arrived, the refused debit took nothing

        shown = office.get(f"/api/aml/cases/{case['id']}").json()
        assert [h["action"] for h in shown["history"]] == ["freeze", "report_queued"]
        assert shown["reports"][0]["status"] == "queued"
        assert [a for a, _ in events_of(running_pg.settings(), case["id"])] == ["aml.freeze", "aml.report_queued"]

        release(office, case["id"], role=Role.AUDITOR, expect=403)
        released = release(office, case["id"]).json()["case"]
        assert (released["status"], released["release_reason"]) == ("released", "namesake: different person")
        assert released["released_by"].startswith("staff:operator")
        assert desk.pay(wallet, world.partner_wallet, "100.00").status_code == 201
        history = office.get(f"/api/aml/cases/{case['id']}").json()["history"]
        assert history[-1]["action"] == "release"
        assert history[-1]["details"]["confirmation_channel"] == "sms"
        # A release clears the person against that entry: importing the same list again does not refreeze.
        again = import_csv(office, [f"{surname} Ivan Ivanovich,1980-02-01,,passport N1;id 2,KZ-TL-17"])
        assert [c["participant_id"] for c in again["cases_opened"]] == []
        assert desk.pay(wallet, world.partner_wallet, "100.00").status_code == 201


def test_an_import_screens_everyone_already_registered(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), FRIDAY) as office:
        desk = office.desk()
        name = f"Karimov{tag()} Timur"
        by_iin = desk.register("individual", name=f"Someone {tag()}")
        namesake = desk.register("individual", name=name, birth_date="1991-01-01")  # other birth date
        company = desk.register("legal_entity", name=f"Front {tag()} LLP")
        xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<persons>
  <person reference="A-1"><name>{name}</name><birth_date>01.02.1985</birth_date></person>
  <person reference="A-2"><name>Unknown {tag()}</name><iin_bin>{by_iin['iin_bin']}</iin_bin></person>
  <person reference="A-3"><name>{company['name'].upper()}</name></person>
</persons>"""
        result = office.post("/api/aml/lists", {"format": "xml", "content_base64": b64(xml.encode()),
                                                "source": "authorized body"}, expect=201).json()
        frozen = {c["participant_id"]: c["details"]["matched_by"] for c in result["cases_opened"]}
        assert frozen == {by_iin["id"]: "iin_bin", company["id"]: "name"}
        assert cases_of(office, namesake["id"]) == []
        # The same list again opens nothing new: the cases are in force already.
        again = office.post("/api/aml/lists", {"format": "xml", "content_base64": b64(xml.encode()),
                                               "source": "authorized body"}, expect=201).json()
        assert again["cases_opened"] == []
        current = office.get("/api/aml/lists/current").json()
        assert len(current["entries"]) == 3 and current["list"]["format"] == "xml"
        screened = office.post("/api/aml/screenings/operations", {"from": "2026-01-01T00:00:00Z",
                                                                  "to": "2027-01-01T00:00:00Z"}, expect=200).json()
        assert screened["cases_opened"] == []


def test_bad_list_files_are_refused_with_the_line(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), FRIDAY) as office:
        bad_date = import_csv(office, ["Somebody,1980-31-31,,,"], expect=422)
        assert bad_date["error"]["code"] == "AML_LIST_INVALID" and "line 2" in bad_date["error"]["message"]
        no_header = office.post("/api/aml/lists", {"format": "csv", "content_base64": b64(b"a,b\n1,2\n"),
                                                   "source": "x"}, expect=422).json()
        assert "'name'" in no_header["error"]["message"]
        entity = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><persons/>'
        office.post("/api/aml/lists", {"format": "xml", "content_base64": b64(entity), "source": "x"}, expect=422)


def test_under_control_and_the_str_deadline_in_working_days(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), FRIDAY) as office:
        desk = office.desk()
        world = make_world(desk, funds="5000.00")
        case = office.post("/api/aml/cases", {"participant_id": world.client, "reason": "split payments (§16.5)",
                                              "under_control": True}, expect=201).json()["case"]
        assert case["status"] == "under_control" and case["freezes_debits"] is True
        refused = desk.pay(world.client_wallet, world.partner_wallet, "100.00")
        assert refused.json()["error"]["code"] == "WALLET_FROZEN_AML"
        desk.issue(world.client_wallet, "100.00")  # credits pass
        [report] = office.get(f"/api/aml/cases/{case['id']}").json()["reports"]
        # Detected on Friday: due by the end of the next working day, Monday (Almaty midnight = 19:00 UTC).
        assert report["deadline"]["due_at"] == "2026-05-11T19:00:00+00:00"
        assert report["deadline"]["state"] == "pending"

        office.clock.set(datetime(2026, 5, 11, 15, 0, tzinfo=UTC))  # Monday 20:00 in Almaty
        office.relogin()
        due_soon = {r["id"]: r["deadline"]["state"] for r in office.get("/api/aml/reports/overdue").json()["reports"]}
        assert due_soon[report["id"]] == "due_soon"
        office.clock.set(datetime(2026, 5, 12, 3, 0, tzinfo=UTC))  # Tuesday morning
        office.relogin()
        late = {r["id"]: r["deadline"]["state"] for r in office.get("/api/aml/reports/overdue").json()["reports"]}
        assert late[report["id"]] == "overdue"
        sent = office.post(f"/api/aml/reports/{report['id']}/sent", {"reference": "AFM-2026-991"},
                           expect=200).json()["report"]
        assert (sent["status"], sent["deadline"]["state"]) == ("sent", "done_late")
        listed = office.get("/api/aml/reports/overdue").json()["reports"]
        assert report["id"] not in {r["id"] for r in listed}

        conflict = office.post("/api/aml/cases", {"participant_id": world.client, "reason": "again",
                                                  "under_control": True})
        assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "AML_CASE_IN_FORCE"
        released = release(office, case["id"]).json()["case"]
        assert released["status"] == "released" and released["released_at"] == "2026-05-12T03:00:00+00:00"
        desk.headers = office.headers[Role.OPERATOR]
        assert desk.pay(world.client_wallet, world.partner_wallet, "100.00").status_code == 201
        assert release(office, case["id"], expect=409).json()["error"]["code"] == "AML_CASE_STATUS"


def test_an_open_case_goes_under_control_or_is_closed(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), FRIDAY) as office:
        desk = office.desk()
        world = make_world(desk, funds="500.00")
        case = office.post("/api/aml/cases", {"participant_id": world.client, "reason": "doubtful authorization"},
                           expect=201).json()["case"]
        assert case["status"] == "open" and case["freezes_debits"] is False
        assert desk.pay(world.client_wallet, world.partner_wallet, "10.00").status_code == 201
        office.post(f"/api/aml/cases/{case['id']}/under-control", {"reason": "no answer from the client"},
                    expect=200)
        assert desk.pay(world.client_wallet, world.partner_wallet, "10.00").status_code == 422
        release(office, case["id"])
        other = office.post("/api/aml/cases", {"participant_id": world.partner, "reason": "checked, benign"},
                            expect=201).json()["case"]
        closed = office.post(f"/api/aml/cases/{other['id']}/close", {"reason": "explained by the partner"},
                             expect=200).json()["case"]
        assert closed["status"] == "closed"
        actions = [a for a, _ in events_of(running_pg.settings(), case["id"])]
        # Each step's own event (with its details) comes before the request's event, in one transaction.
        assert actions == ["aml.report_queued", "aml.case_open", "aml.under_control", "aml.case_under_control",
                           "aml.release", "aml.case_release"]
