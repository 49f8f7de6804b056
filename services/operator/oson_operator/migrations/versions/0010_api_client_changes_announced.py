"""Every change to an API client is announced on the channel ``oson_api_client_changed``.

The service keeps the API clients it verified recently and trusts them without a database read
(``api/client_cache.py``); each of its processes listens on this channel and drops a client the
moment it changes (blocked, new secret, marked dormant or used, deleted). The payload is the
client id. PostgreSQL sends the notification when the changing transaction commits, and not at
all when it rolls back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE FUNCTION oson.api_client_announce_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    PERFORM pg_notify('oson_api_client_changed', OLD.client_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER api_client_announce_change AFTER UPDATE OR DELETE ON oson.api_client
    FOR EACH ROW EXECUTE FUNCTION oson.api_client_announce_change();
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute("UPDATE oson.app_meta SET value = '0010', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute("DROP TRIGGER api_client_announce_change ON oson.api_client")
    op.execute("DROP FUNCTION oson.api_client_announce_change()")
    op.execute("UPDATE oson.app_meta SET value = '0009', updated_at = now() WHERE key = 'schema_version'")
