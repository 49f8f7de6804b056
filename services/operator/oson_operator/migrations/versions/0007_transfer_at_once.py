"""A payment or transfer written in one statement: oson.post_transfer and oson.wallet_facts.

The service decides a payment on an unlocked read of the two wallets (the domain rules in Python:
which limits apply, the commission from the tariff). ``oson.post_transfer`` then, in one statement
(one round trip, committed with it): claims the idempotency key, locks both wallets in id order,
checks that nothing the decision rested on has changed (the wallets' and holders' facts, and the
balance and daily-total bounds the domain computed), inserts the operation, its entries and the new
balances, appends the event and stores the answer. When the key is taken or anything has changed it
raises OSN02 / OSN01 and writes nothing; the service then runs the full transaction instead.

SECURITY INVOKER (the default): the runtime login keeps exactly its own privileges, so it still
cannot change or delete events, operations or ledger entries.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _runtime_role() -> str:
    """The runtime login, quoted; passed by oson-operator-migrate from OSON_DATABASE_USER."""
    name = op.get_context().config.attributes["runtime_user"]
    return op.get_bind().dialect.identifier_preparer.quote(name)


FUNCTIONS_SQL = """
-- Everything about a wallet and its holder that a payment decision rests on, except the balance
-- (checked against bounds instead, since other payments move it all the time). ``aml``: an AML case
-- in force on the holder. A plain SQL expression, so PostgreSQL inlines it into the calling query.
CREATE FUNCTION oson.wallet_facts(a oson.account, p oson.participant, aml boolean) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT ROW(a.id, a.kind, a.status, a.block_mode, a.blocked_until, a.issuer_id, p.id, p.kind, p.status,
               p.identification, p.name, p.iin_bin, p.tariff, aml)::text
$$;

CREATE FUNCTION oson.post_transfer(
    p_actor text, p_key text, p_request_hash text,
    p_payer uuid, p_payer_facts text, p_payer_min_balance bigint, p_payer_max_debited bigint,
    p_payee uuid, p_payee_facts text, p_payee_max_balance bigint,
    p_operation uuid, p_kind text, p_amount bigint, p_commission bigint, p_details jsonb,
    p_request_id text, p_created_at timestamptz, p_day date, p_accounts uuid[], p_amounts bigint[],
    e_started_at timestamptz, e_ended_at timestamptz, e_action text, e_record_type text, e_record_id text,
    e_result text, e_source_address text, e_details jsonb,
    p_status integer, p_response text, p_marker text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    w record;
    locked integer := 0;
    debited bigint;
    receipt bigint;
BEGIN
    INSERT INTO oson.idempotency_key (actor, key, request_hash) VALUES (p_actor, p_key, p_request_hash)
        ON CONFLICT (actor, key) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'idempotency key already claimed' USING ERRCODE = 'OSN02';
    END IF;
    FOR w IN SELECT a.id, a.balance, oson.wallet_facts(a, p, EXISTS (
                 SELECT 1 FROM oson.aml_case c WHERE c.participant_id = p.id
                 AND c.status IN ('frozen', 'under_control'))) AS facts
             FROM oson.account a JOIN oson.participant p ON p.id = a.participant_id
             WHERE a.id IN (p_payer, p_payee) AND a.kind = 'wallet' ORDER BY a.id FOR NO KEY UPDATE OF a
    LOOP
        locked := locked + 1;
        IF w.id = p_payer THEN
            IF w.facts IS DISTINCT FROM p_payer_facts OR w.balance < p_payer_min_balance THEN
                RAISE EXCEPTION 'payer wallet changed since it was read' USING ERRCODE = 'OSN01';
            END IF;
        ELSIF w.facts IS DISTINCT FROM p_payee_facts OR w.balance > p_payee_max_balance THEN
            RAISE EXCEPTION 'payee wallet changed since it was read' USING ERRCODE = 'OSN01';
        END IF;
    END LOOP;
    IF locked <> 2 THEN
        RAISE EXCEPTION 'wallets not found' USING ERRCODE = 'OSN01';
    END IF;
    IF p_payer_max_debited IS NOT NULL THEN
        -- Exact now: the payer's lock orders every debit of this wallet.
        SELECT coalesce(sum(amount), 0) INTO debited FROM oson.operation
            WHERE payer_account = p_payer AND operational_day = p_day AND status = 'completed'
            AND kind IN ('payment', 'transfer', 'redemption');
        IF debited > p_payer_max_debited THEN
            RAISE EXCEPTION 'daily total changed since it was read' USING ERRCODE = 'OSN01';
        END IF;
    END IF;
    INSERT INTO oson.operation (id, kind, status, amount, commission, payer_account, payee_account,
        receipt_number, details, actor, request_id, created_at, operational_day)
    VALUES (p_operation, p_kind, 'completed', p_amount, p_commission, p_payer, p_payee,
        nextval('oson.receipt_number'), p_details, p_actor, p_request_id, p_created_at, p_day)
    RETURNING receipt_number INTO receipt;
    INSERT INTO oson.ledger_entry (operation_id, account_id, amount, created_at, operational_day)
        SELECT p_operation, v.account, v.amount, p_created_at, p_day
        FROM unnest(p_accounts, p_amounts) AS v(account, amount);
    UPDATE oson.account a SET balance = a.balance + v.amount
        FROM unnest(p_accounts, p_amounts) AS v(account, amount)
        WHERE a.id = v.account AND a.kind = 'wallet';
    INSERT INTO oson.event (started_at, ended_at, actor, action, record_type, record_id, result,
        source_address, request_id, details)
    VALUES (e_started_at, e_ended_at, p_actor, e_action, e_record_type, e_record_id, e_result,
        e_source_address, p_request_id, e_details);
    -- The answer was built before the receipt number existed: it replaces the (random) marker.
    UPDATE oson.idempotency_key
        SET status_code = p_status, response = replace(p_response, p_marker, receipt::text)::json
        WHERE actor = p_actor AND key = p_key;
    RETURN receipt;
END $$;
"""

SIGNATURE = ("oson.post_transfer(text, text, text, uuid, text, bigint, bigint, uuid, text, bigint, uuid, text, "
             "bigint, bigint, jsonb, text, timestamptz, date, uuid[], bigint[], timestamptz, timestamptz, text, "
             "text, text, text, text, jsonb, integer, text, text)")


def upgrade() -> None:
    op.execute(FUNCTIONS_SQL)
    role = _runtime_role()
    for function in (SIGNATURE, "oson.wallet_facts(oson.account, oson.participant, boolean)"):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {role}")
    op.execute("UPDATE oson.app_meta SET value = '0007', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
    op.execute("DROP FUNCTION oson.wallet_facts(oson.account, oson.participant, boolean)")
    op.execute("UPDATE oson.app_meta SET value = '0006', updated_at = now() WHERE key = 'schema_version'")
