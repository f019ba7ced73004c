-- PostgreSQL mirror of sqlite/0030_pipeline.sql: same tables, columns, constraints and indexes, so the store's SQL is shared.
-- Differences: BIGINT/BIGSERIAL for ids, nonces, blocks and gas, BYTEA for calldata and signed bytes. Instants stay TEXT
-- in OpenMint.Core.Time format (fixed width, so they compare as text), fees stay decimal-wei TEXT, as in SQLite.
-- A signed attempt is written here BEFORE it is broadcast, in the same store transaction that assigns its nonce and
-- links its requests (mint_request.batch_id). The lease row is the single writer of one (chain, signer): it is taken
-- by a conditional UPDATE under a row lock, so two instances on one database can never both hold it.

CREATE TABLE signer_lease (
    chain_name        TEXT NOT NULL,
    signer_address    TEXT NOT NULL,              -- lower-case
    owner_instance    TEXT NULL,                  -- the process holding the lease
    lease_expires_at  TEXT NULL,
    heartbeat_at      TEXT NULL,
    next_nonce        BIGINT NULL,                -- null until reconciled with the chain
    paused_reason     TEXT NULL,                  -- e.g. insufficient funds; shown on pending requests
    paused_since      TEXT NULL,
    PRIMARY KEY (chain_name, signer_address)
);

CREATE TABLE batch (
    id             BIGSERIAL PRIMARY KEY,
    collection_id  BIGINT NOT NULL REFERENCES collection(id),
    method         TEXT NOT NULL,                 -- MintMethod name
    entries        TEXT NOT NULL,                 -- JSON: entries in call order, each with its request ids
    calldata       BYTEA NOT NULL,
    gas_estimate   BIGINT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE tx (
    id              BIGSERIAL PRIMARY KEY,
    chain_name      TEXT NOT NULL,
    signer_address  TEXT NOT NULL,
    nonce           BIGINT NOT NULL,
    batch_id        BIGINT NOT NULL REFERENCES batch(id),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'mined', 'done', 'abandoned')),
    mined_hash      TEXT NULL,
    mined_block     BIGINT NULL,
    last_error      TEXT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (chain_name, signer_address, nonce)
);
CREATE INDEX tx_open ON tx(chain_name, signer_address, state, nonce);

CREATE TABLE tx_attempt (
    id                        BIGSERIAL PRIMARY KEY,
    tx_id                     BIGINT NOT NULL REFERENCES tx(id),
    kind                      TEXT NOT NULL CHECK (kind IN ('mint', 'cancel')),
    raw                       BYTEA NOT NULL,
    hash                      TEXT NOT NULL UNIQUE,
    max_priority_fee_per_gas  TEXT NOT NULL,      -- decimal wei
    max_fee_per_gas           TEXT NOT NULL,
    gas_limit                 BIGINT NOT NULL,
    created_at                TEXT NOT NULL,
    broadcast_at              TEXT NULL,          -- null: signed, not yet acknowledged by a node
    outcome                   TEXT NULL           -- SendOutcome of the last broadcast
);
CREATE INDEX tx_attempt_tx ON tx_attempt(tx_id, id);
