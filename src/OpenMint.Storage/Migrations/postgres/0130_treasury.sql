-- PostgreSQL mirror of sqlite/0130_treasury.sql: the chain's treasury (key reference only) and top-up target, one
-- top_up row per treasury nonce (one pending per wallet and per treasury) and its signed attempts, written before
-- the broadcast. Differences: BIGSERIAL/BIGINT for ids, nonces and blocks, BYTEA for the signed bytes.
ALTER TABLE chain ADD COLUMN treasury_key_ref TEXT NULL;
ALTER TABLE chain ADD COLUMN top_up_to_wei TEXT NULL;

CREATE TABLE top_up (
    id                BIGSERIAL PRIMARY KEY,
    chain_name        TEXT NOT NULL,
    treasury_address  TEXT NOT NULL,
    wallet_address    TEXT NOT NULL,
    nonce             BIGINT NOT NULL,
    value_wei         TEXT NOT NULL,
    balance_wei       TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'done', 'abandoned')),
    mined_hash        TEXT NULL,
    mined_block       BIGINT NULL,
    last_error        TEXT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (chain_name, treasury_address, nonce)
);
CREATE UNIQUE INDEX top_up_pending_wallet ON top_up(chain_name, wallet_address) WHERE state = 'pending';
CREATE UNIQUE INDEX top_up_pending_treasury ON top_up(chain_name, treasury_address) WHERE state = 'pending';

CREATE TABLE top_up_attempt (
    id                        BIGSERIAL PRIMARY KEY,
    top_up_id                 BIGINT NOT NULL REFERENCES top_up(id),
    raw                       BYTEA NOT NULL,
    hash                      TEXT NOT NULL UNIQUE,
    max_priority_fee_per_gas  TEXT NOT NULL,
    max_fee_per_gas           TEXT NOT NULL,
    created_at                TEXT NOT NULL,
    broadcast_at              TEXT NULL,
    outcome                   TEXT NULL
);
CREATE INDEX top_up_attempt_top_up ON top_up_attempt(top_up_id, id);
