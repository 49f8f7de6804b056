"""The database connection budget of the roles' defaults: what the operator service may open through
HAProxy fits HAProxy's database limit, and that limit leaves PostgreSQL room for the connections that
do not pass through HAProxy. Otherwise a burst would be refused by PostgreSQL ("too many clients")
instead of waiting in HAProxy's queue."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from appliance.topology import HostRole, load_topology

ROOT = Path(__file__).resolve().parents[2]

# Connections to PostgreSQL that bypass HAProxy: the superuser slots PostgreSQL reserves (its default
# superuser_reserved_connections, 3), Patroni's own two (heartbeat and REST API), and pgBackRest's
# backup and archive sessions (2). Replication uses the separate max_wal_senders slots.
BYPASSING_HAPROXY = 3 + 2 + 2


def _defaults(role: str) -> dict[str, object]:
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("inventory", ["lab", "production", "vagrant"])
def test_the_operator_service_fits_haproxys_database_limit(inventory: str) -> None:
    operator, haproxy = _defaults("operator"), _defaults("haproxy")
    app_hosts = load_topology(ROOT / "inventory" / inventory / "topology.yml").hosts_with_role(HostRole.APP)
    # Per worker: the request threads' pool, the event-loop pool for API clients' payments, and one
    # connection listening for changes to API clients.
    per_worker = int(operator["operator_database_pool_size"]) + int(operator["operator_database_money_pool_size"]) + 1
    needed = len(app_hosts) * int(operator["operator_workers"]) * per_worker
    assert needed <= int(haproxy["haproxy_db_maxconn"]), (needed, haproxy["haproxy_db_maxconn"])


def test_haproxys_database_limit_leaves_postgresql_room_for_the_rest() -> None:
    limit = int(_defaults("haproxy")["haproxy_db_maxconn"])
    max_connections = int(_defaults("postgresql")["postgresql_max_connections"])
    assert limit + BYPASSING_HAPROXY <= max_connections, (limit, BYPASSING_HAPROXY, max_connections)
