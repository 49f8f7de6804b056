"""Payments stop planning SQL anew in every transaction: the event's canonical form and the balance update.

A profile of the payments benchmark showed PostgreSQL planning the same statements again in every
payment, for a fifth of its CPU:

- ``oson.event_canonical`` and ``oson.event_micros`` (0002) were declared IMMUTABLE, but their bodies
  call functions that are only STABLE (``concat_ws``; ``EXTRACT`` on a timestamptz). PostgreSQL does
  not inline a SQL function whose body is less immutable than its declaration, so the event chain
  trigger called them as functions, and a SQL function called that way is parsed and planned in every
  transaction. Declared STABLE they are inlined into the trigger's expression, whose plan the session
  keeps. They produce the same bytes, so every stored hash stays valid.
- ``oson.post_transfer`` (0007) updated the balances with a join on ``unnest`` of the postings. A
  generic plan cannot know how many postings the arrays hold, so PostgreSQL judged its generic plan too
  dear and planned the statement in every call. The payer's and payee's postings are now summed in
  the function and both wallets updated by one statement on their two ids, whose generic plan is kept.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from alembic.script import ScriptDirectory

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_FUNCTIONS = (
    "oson.event_micros(timestamptz)",
    "oson.event_canonical(bigint, smallint, bigint, timestamptz, timestamptz, timestamptz, text, text, text, text, "
    "text, text, text, jsonb)",
)

# The whole function, as 0007 wrote it except for the balance update (CREATE OR REPLACE keeps its grants).
POST_TRANSFER = """
CREATE OR REPLACE FUNCTION oson.post_transfer(
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
    payer_delta bigint := 0;
    payee_delta bigint := 0;
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
    -- No statement over the whole arrays: PostgreSQL cannot know their length, trusts no generic
    -- plan for such a statement and plans it anew in every call. The two locked wallets are updated
    -- together; any other account's posting (the commission income: not a wallet) on its own.
    FOR i IN 1 .. cardinality(p_accounts) LOOP
        IF p_accounts[i] = p_payer THEN
            payer_delta := payer_delta + p_amounts[i];
        ELSIF p_accounts[i] = p_payee THEN
            payee_delta := payee_delta + p_amounts[i];
        ELSE
            UPDATE oson.account SET balance = balance + p_amounts[i] WHERE id = p_accounts[i] AND kind = 'wallet';
        END IF;
    END LOOP;
    UPDATE oson.account SET balance = balance + CASE WHEN id = p_payer THEN payer_delta ELSE payee_delta END
        WHERE id IN (p_payer, p_payee);
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


def _post_transfer_of_0007() -> str:
    """0007's definition of oson.post_transfer, read from that migration (for the downgrade)."""
    script = ScriptDirectory.from_config(op.get_context().config)
    functions: str = script.get_revision("0007").module.FUNCTIONS_SQL  # type: ignore[union-attr]
    definition = functions[functions.index("CREATE FUNCTION oson.post_transfer("):]
    return definition.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    for function in EVENT_FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} STABLE")
    op.execute(POST_TRANSFER)
    op.execute("UPDATE oson.app_meta SET value = '0009', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute(_post_transfer_of_0007())
    for function in EVENT_FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} IMMUTABLE")
    op.execute("UPDATE oson.app_meta SET value = '0008', updated_at = now() WHERE key = 'schema_version'")
