"""The controls the auditor's report judges: every §14.1 item (1-11) and every §XIII duty of the OSON rules.

Each control names where the appliance implements it (paths in this repository), the live evidence that
judges it (ids of ``appliance.audit.collect`` items) and the service routes the deployed operator service
must expose for it (read from its OpenAPI document through the public VIP). A duty that only people can
carry out (policies, training, reporting to management) is ``manual`` with the reason; it is never
reported as passed.
"""

from __future__ import annotations

from dataclasses import dataclass

# Evidence ids (appliance.audit.collect).
TLS = "tls.vip"
FIREWALL = "firewall.flows"
HARDENING = "hardening.hosts"
EVENTS = "events.chain"
BACKUPS = "backups.fresh"
BACKUP_JOBS = "backups.jobs"
BACKUP_VERIFY = "reports.backup_verify"
DRILL = "reports.power_loss_drill"
DURABILITY = "database.durability"
CLUSTER = "database.cluster"
API_AUTH = "api.unauthenticated"
CERTS = "certs.hosts"
OPENAPI = "api.openapi"

SERVICE = "services/operator/oson_operator"


@dataclass(frozen=True)
class Control:
    id: str
    section: str
    title: str
    requirement: str
    implemented_in: tuple[str, ...]
    evidence: tuple[str, ...] = ()
    # "METHOD /path" the deployed service must serve (from its OpenAPI document).
    routes: tuple[str, ...] = ()
    # Set for duties judged by people: the report says "manual" with this reason, never "pass".
    manual: str = ""


ITEMS_14_1: tuple[Control, ...] = (
    Control("14.1-1", "§14.1(1)", "Reliable storage that survives power loss",
            "Reliable storage, protection from unauthorized access, database integrity, full preservation of "
            "archive and database data if power is fully or partly lost on any equipment.",
            ("roles/postgresql", "roles/etcd", "roles/pgbackrest", "appliance/drills/lab_drills.py",
             "docs/drills.md"),
            evidence=(DURABILITY, CLUSTER, DRILL, BACKUPS)),
    Control("14.1-2", "§14.1(2)", "At least two access levels: administrator and user",
            "Multi-level access to data, functions, operations and reports with at least two levels.",
            (f"{SERVICE}/api/routers/auth.py", f"{SERVICE}/api/routers/staff.py", "services/operator/docs/access.md"),
            evidence=(API_AUTH,), routes=("POST /api/auth/login", "GET /api/staff")),
    Control("14.1-3", "§14.1(3)", "Completeness checks on required fields",
            "Completeness checks on the fields required to execute and register operations, with a message "
            "when one is empty.",
            (f"{SERVICE}/api/routers/operations.py", f"{SERVICE}/domain", "services/operator/docs/business.md"),
            routes=("POST /api/payments", "POST /api/transfers", "POST /api/participants")),
    Control("14.1-4", "§14.1(4)", "Search, sorting and past-date viewing",
            "Search by defined criteria (saving the query), sorting by any parameter, viewing data for past dates.",
            (f"{SERVICE}/api/routers/search.py",),
            routes=("POST /api/search/{list_name}", "POST /api/search/saved", "GET /api/search/saved/{query_id}/run")),
    Control("14.1-5", "§14.1(5)", "Data processed and stored by date and time",
            "Processing and storing data by date and time.",
            (f"{SERVICE}/storage", f"{SERVICE}/api/routers/events.py", "roles/postgresql/vars/main.yml"),
            evidence=(DURABILITY,), routes=("GET /api/events",)),
    Control("14.1-6", "§14.1(6)", "NBK report forms and reports on executed operations",
            "Automated generation of the payment organization's report forms for the National Bank and of "
            "reports on executed operations.",
            (f"{SERVICE}/api/routers/reports.py",),
            routes=("GET /api/reports/payment-services", "GET /api/reports/operations")),
    Control("14.1-7", "§14.1(7)", "Accounting journals in full or in part",
            "Internal accounting-system logs generated in full or in part (a date range or a single date).",
            (f"{SERVICE}/api/routers/journals.py",),
            routes=("GET /api/journals/general", "GET /api/journals/accounts/{account_id}")),
    Control("14.1-8", "§14.1(8)", "Backup and restore of accounting data",
            "Backup and restore of accounting data.",
            ("roles/pgbackrest", "appliance/backup.py", "playbooks/backup-verify.yml", "docs/backups.md"),
            evidence=(BACKUPS, BACKUP_JOBS, BACKUP_VERIFY)),
    Control("14.1-9", "§14.1(9)", "Output to screen, printer or file",
            "Output of documents to screen, printer or file.",
            (f"{SERVICE}/output", f"{SERVICE}/api/routers/incidents.py", f"{SERVICE}/api/routers/documents.py"),
            routes=("GET /api/incidents/{incident_id}/card", "GET /api/documents/{document_id}/content")),
    Control("14.1-10", "§14.1(10)", "Electronic document exchange",
            "Exchange of electronic documents.",
            (f"{SERVICE}/api/routers/documents.py",),
            routes=("POST /api/documents/outgoing", "POST /api/documents/incoming")),
    Control("14.1-11", "§14.1(11)", "Event records with start, user, record id, end and result",
            "Recording of events with start date/time, user, record ID, end date/time and result.",
            (f"{SERVICE}/api/routers/events.py", "services/operator/docs/event-log.md", "appliance/events.py"),
            evidence=(EVENTS,), routes=("GET /api/events", "GET /api/events/verify")),
)

_ORGANIZATIONAL = ("an organizational duty of the operator's staff; the appliance holds no evidence of it. "
                   "The auditor checks the operator's documents")

DUTIES_XIII: tuple[Control, ...] = (
    Control("13.1", "§13.1", "Authentication methods and extra confirmation",
            "Several authentication methods and extra transaction confirmation (SMS code or one-time password).",
            (f"{SERVICE}/api/routers/auth.py", "services/operator/docs/access.md"),
            evidence=(API_AUTH,), routes=("POST /api/auth/totp/enroll", "POST /api/auth/totp/confirm")),
    Control("13.2-1", "§13.2(1)", "Information security management system",
            "Organize an ISMS; coordinate threat identification, countering attacks, incident investigation.",
            ("docs/audit.md",), manual=_ORGANIZATIONAL + " (ISMS charter, roles)."),
    Control("13.2-2", "§13.2(2)", "Methodological support for information security",
            "Provide methodological support for information security.",
            ("docs/audit.md",), manual=_ORGANIZATIONAL + " (IS methodology documents)."),
    Control("13.2-3", "§13.2(3)", "IS management, assurance and control tools in place",
            "Select, implement and apply IS management, assurance and control methods, tools and mechanisms.",
            ("roles/hardening", "firewall", "roles/apache", "roles/haproxy", "roles/pki"),
            evidence=(HARDENING, FIREWALL, TLS, CERTS)),
    Control("13.2-4", "§13.2(4)", "Collect and store IS-incident information",
            "Collect, consolidate, store and process IS-incident information.",
            (f"{SERVICE}/api/routers/incidents.py",),
            evidence=(EVENTS,), routes=("POST /api/incidents", "GET /api/incidents")),
    Control("13.2-5", "§13.2(5)", "Analyse IS-incident information",
            "Analyse the IS-incident information.",
            (f"{SERVICE}/api/routers/incidents.py",), routes=("GET /api/incidents",),
            manual="analysis is done by the security staff; the register it is based on is checked live above"),
    Control("13.2-6", "§13.2(6)", "Automated IS process; supporting systems work correctly",
            "Automate the IS process and ensure the supporting software and hardware work correctly.",
            ("roles/hardening", "appliance/audit", "appliance/events.py", "appliance/backup.py"),
            evidence=(HARDENING, EVENTS, BACKUP_JOBS, CLUSTER)),
    Control("13.2-7", "§13.2(7)", "Restricted use of privileged accounts",
            "Restrict the use of privileged accounts.",
            ("roles/hardening", f"{SERVICE}/api/routers/staff.py", "services/operator/docs/access.md"),
            evidence=(HARDENING, API_AUTH)),
    Control("13.2-8", "§13.2(8)", "Staff awareness",
            "Run staff awareness activities.", ("docs/audit.md",),
            manual=_ORGANIZATIONAL + " (training records)."),
    Control("13.2-9", "§13.2(9)", "Monitoring the state of the ISMS",
            "Monitor the state of the ISMS.", ("appliance/audit", "docs/audit.md"),
            evidence=(HARDENING, TLS, FIREWALL, EVENTS),
            manual="this report is one input of the monitoring; its regular review is a staff duty"),
    Control("13.2-10", "§13.2(10)", "Yearly ISMS report to management",
            "Report the ISMS state to management periodically, at least once a year.", ("docs/audit.md",),
            manual=_ORGANIZATIONAL + " (the yearly report; this audit report can be attached to it)."),
    Control("13.3", "§13.3", "IS risk acceptance criteria",
            "Manage IS risk through acceptable-level criteria for information assets.", ("docs/audit.md",),
            manual=_ORGANIZATIONAL + " (risk register and criteria)."),
    Control("13.4", "§13.4", "Risk minimization plan",
            "Draw up a minimization action plan when IS risks arise.", ("docs/audit.md",),
            manual=_ORGANIZATIONAL + " (risk treatment plans)."),
    Control("13.5", "§13.5", "Incident information combined, systematized and stored",
            "Combine, systematize and store incident information from IS monitoring.",
            (f"{SERVICE}/api/routers/incidents.py", f"{SERVICE}/api/routers/events.py"),
            evidence=(EVENTS,), routes=("GET /api/incidents", "GET /api/events")),
    Control("13.6", "§13.6", "Incident information kept at least 5 years",
            "Keep incident information for at least five years unless law requires longer.",
            (f"{SERVICE}/api/routers/incidents.py", "roles/pgbackrest/defaults/main.yml", "docs/backups.md"),
            evidence=(EVENTS, BACKUPS),
            manual="the database keeps incidents without expiry and the event log is append-only; that no record "
                   "older than 5 years is missing is checked by sampling the register"),
    Control("13.7", "§13.7", "Urgent measures within 24 hours",
            "Within 24 h of detection, set out the urgent measures to eliminate the incident.",
            (f"{SERVICE}/api/routers/incidents.py",),
            routes=("POST /api/incidents/{incident_id}/response-plan", "GET /api/incidents/overdue")),
    Control("13.8", "§13.8", "IS incident register",
            "Keep an IS incident register with each incident, measures taken and corrective actions proposed.",
            (f"{SERVICE}/api/routers/incidents.py",),
            routes=("POST /api/incidents", "GET /api/incidents", "GET /api/incidents/{incident_id}")),
    Control("13.9", "§13.9", "Incident categories reported to the National Bank",
            "Classify incidents into the six categories reported to the National Bank.",
            (f"{SERVICE}/api/routers/incidents.py",),
            routes=("POST /api/incidents/{incident_id}/category",)),
    Control("13.10", "§13.10", "Incident card to the National Bank within 48 hours",
            "Report to the National Bank as soon as possible and within 48 h, one incident card per incident.",
            (f"{SERVICE}/api/routers/incidents.py",),
            routes=("GET /api/incidents/{incident_id}/card", "POST /api/incidents/{incident_id}/nbk-report",
                    "GET /api/incidents/overdue")),
    Control("13.11", "§13.11", "Cards sent through the National Bank's exchange platform",
            "Send processed incidents electronically through the National Bank's IS event and incident "
            "exchange platform.",
            (f"{SERVICE}/api/routers/incidents.py",), routes=("GET /api/incidents/{incident_id}/card",),
            manual="the appliance produces the card (JSON, HTML, CSV); staff submit it on the National Bank's "
                   "platform, which the appliance has no interface to"),
)

CONTROLS: tuple[Control, ...] = ITEMS_14_1 + DUTIES_XIII


def by_id() -> dict[str, Control]:
    return {control.id: control for control in CONTROLS}
