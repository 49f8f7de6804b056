"""The information-security incident card of §13.10 (one per incident): JSON, HTML, print, CSV, PDF.

The card's fields follow the register of §13.8 and the kinds of §13.9: who reports, the incident, when it
was detected, its category, the systems affected, the measures taken (§13.7), the corrective actions
proposed, and where it stands. Times are shown in Almaty time. Same incident, same bytes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from oson_operator.domain.business import BusinessConfig
from oson_operator.domain.calendar import ALMATY
from oson_operator.domain.case_deadlines import nbk_report_due, response_plan_due
from oson_operator.domain.incidents import CATEGORIES, reportable
from oson_operator.output.model import Document, OutColumn, Rendered, Section, render
from oson_operator.storage.incidents import IncidentRow

CARD_FORMAT = "oson.incident-card.v1"


def _local(value: datetime | None) -> str:
    return value.astimezone(ALMATY).strftime("%Y-%m-%d %H:%M") if value is not None else ""


def card(row: IncidentRow, history: list[dict[str, Any]], config: BusinessConfig) -> dict[str, Any]:
    clause, title = CATEGORIES[row.category]
    return {
        "format": CARD_FORMAT,
        "organization": {"name": config.operator.name, "bin": config.operator.bin,
                         "phones": list(config.operator.phones)},
        "incident": {
            "number": row.number, "id": row.id, "title": row.title, "description": row.description,
            "category": row.category, "category_clause": f"§{clause}", "category_title": title,
            "reportable_to_nbk": reportable(row.category), "affected_assets": row.affected_assets or "",
            "status": row.status,
        },
        "times": {
            "detected_at": _local(row.detected_at), "recorded_at": _local(row.recorded_at),
            "response_plan_due": _local(response_plan_due(row.detected_at)),
            "response_plan_at": _local(row.response_plan_at),
            "nbk_report_due": _local(nbk_report_due(row.detected_at)) if reportable(row.category) else "",
            "nbk_reported_at": _local(row.nbk_reported_at), "time_zone": "Asia/Almaty",
        },
        "response": {
            "response_plan": row.response_plan or "", "measures": row.measures or "",
            "corrective_actions": row.corrective_actions or "", "nbk_reference": row.nbk_reference or "",
        },
        "recorded_by": row.recorded_by,
        "history": [{"at": _local(datetime.fromisoformat(h["at"])), "action": h["action"], "status": h["status"],
                     "note": h["note"] or "", "by": h["by"]} for h in history],
    }


_LABELS = {
    "organization": "Payment organization", "number": "Card / incident number", "title": "Incident",
    "description": "Description", "category_title": "Category (§13.9)", "affected_assets": "Systems affected",
    "status": "Status", "detected_at": "Detected", "recorded_at": "Registered",
    "response_plan_due": "Response plan due (24 h, §13.7)", "response_plan_at": "Response plan set",
    "nbk_report_due": "Card due to the National Bank (48 h, §13.10)", "nbk_reported_at": "Sent to the National Bank",
    "response_plan": "Urgent measures (§13.7)", "measures": "Measures taken (§13.8)",
    "corrective_actions": "Corrective actions proposed (§13.8)", "nbk_reference": "National Bank platform reference",
    "recorded_by": "Registered by",
}


def _rows(document: dict[str, Any]) -> list[tuple[str, ...]]:
    incident, times, response = document["incident"], document["times"], document["response"]
    organization = document["organization"]
    category = f"{incident['category_clause']} {incident['category_title']}"
    values = [
        ("organization", f"{organization['name']}, BIN {organization['bin']}"),
        ("number", str(incident["number"])), ("title", incident["title"]),
        ("description", incident["description"]), ("category_title", category),
        ("affected_assets", incident["affected_assets"]), ("status", incident["status"]),
        ("detected_at", times["detected_at"]), ("recorded_at", times["recorded_at"]),
        ("response_plan_due", times["response_plan_due"]), ("response_plan_at", times["response_plan_at"]),
        ("nbk_report_due", times["nbk_report_due"]), ("nbk_reported_at", times["nbk_reported_at"]),
        ("response_plan", response["response_plan"]), ("measures", response["measures"]),
        ("corrective_actions", response["corrective_actions"]), ("nbk_reference", response["nbk_reference"]),
        ("recorded_by", document["recorded_by"]),
    ]
    return [(_LABELS[key], value) for key, value in values]


def card_document(document: dict[str, Any]) -> Document:
    """The card for the shared renderers (output/): HTML, print, CSV and PDF."""
    number = str(document["incident"]["number"])
    fields = Section("Card", (OutColumn("Field"), OutColumn("Value")), tuple(_rows(document)))
    history = Section("History", (OutColumn("Time"), OutColumn("Step"), OutColumn("Status"), OutColumn("Note"),
                                  OutColumn("By")),
                      tuple((h["at"], h["action"], h["status"], h["note"], h["by"]) for h in document["history"]))
    return Document(title=f"Information-security incident card No. {number}", sections=(fields, history),
                    parameters=(("Format", CARD_FORMAT), ("Time zone", "Asia/Almaty")), language="en",
                    footer="National Bank form of §13.10; one card per incident")


def render_card(document: dict[str, Any], fmt: str) -> Rendered:
    """``json`` (canonical: sorted keys) or one of the output module's formats (html, print, csv, pdf)."""
    if fmt == "json":
        body = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2).encode()
        return Rendered(body, "application/json", "json")
    return render(card_document(document), fmt)
