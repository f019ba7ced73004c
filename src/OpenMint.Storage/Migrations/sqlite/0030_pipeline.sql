-- Minting pipeline: planned calls (batch), one row per nonce use (tx), one per signed version
-- (tx_attempt), and one lease row per (chain, signer) naming the single writer of that signer.
-- A signed attempt is written here BEFORE it is broadcast, in the same store transaction that
-- assigns its nonce and links its requests (mint_request.batch_id).

CREATE TABLE signer_lease (
    chain_name        TEXT NOT NULL,
    signer_address    TEXT NOT NULL,              -- lower-case
    owner_instance    TEXT NULL,                  -- the process holding the lease
    lease_expires_at  TEXT NULL,
    heartbeat_at      TEXT NULL,
    next_nonce        INTEGER NULL,               -- null until reconciled with the chain
    paused_reason     TEXT NULL,                  -- e.g. insufficient funds; shown on pending requests
    paused_since      TEXT NULL,
    PRIMARY KEY (chain_name, signer_address)
);

CREATE TABLE batch (
    id             INTEGER PRIMARY KEY,
    collection_id  INTEGER NOT NULL REFERENCES collection(id),
    method         TEXT NOT NULL,                 -- MintMethod name
    entries        TEXT NOT NULL,                 -- JSON: entries in call order, each with its request ids
    calldata       BLOB NOT NULL,
    gas_estimate   INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE tx (
    id              INTEGER PRIMARY KEY,
    chain_name      TEXT NOT NULL,
    signer_address  TEXT NOT NULL,
    nonce           INTEGER NOT NULL,
    batch_id        INTEGER NOT NULL REFERENCES batch(id),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'mined', 'done', 'abandoned')),
    mined_hash      TEXT NULL,
    mined_block     INTEGER NULL,
    last_error      TEXT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (chain_name, signer_address, nonce)
);
CREATE INDEX tx_open ON tx(chain_name, signer_address, state, nonce);

CREATE TABLE tx_attempt (
    id                        INTEGER PRIMARY KEY,
    tx_id                     INTEGER NOT NULL REFERENCES tx(id),
    kind                      TEXT NOT NULL CHECK (kind IN ('mint', 'cancel')),
    raw                       BLOB NOT NULL,
    hash                      TEXT NOT NULL UNIQUE,
    max_priority_fee_per_gas  TEXT NOT NULL,      -- decimal wei
    max_fee_per_gas           TEXT NOT NULL,
    gas_limit                 INTEGER NOT NULL,
    created_at                TEXT NOT NULL,
    broadcast_at              TEXT NULL,          -- null: signed, not yet acknowledged by a node
    outcome                   TEXT NULL           -- SendOutcome of the last broadcast
);
CREATE INDEX tx_attempt_tx ON tx_attempt(tx_id, id);
