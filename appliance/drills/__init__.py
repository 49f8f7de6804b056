"""Drills: a load of real payments, a failure injected under it, and a verdict on what survived.

Modules, one job each:

- ``api``: the operator service's HTTP API as drills use it (endpoints, staff sessions, API clients).
- ``load``: prepares wallets and sends payments, journaling every acknowledged one durably.
- ``verdict``: after a drill, proves nothing acknowledged is missing or duplicated, and the ledger
  and the event log verify.
- ``report``: signed drill reports (JSON signed with Ed25519, plus a readable HTML page).
- ``local``: a throwaway PostgreSQL and operator service on this machine.
- ``negative_control``: a drill on that local cluster with durability switched off, which must lose
  acknowledged payments (the verdict can fail), and its durable twin, which must not.
"""
