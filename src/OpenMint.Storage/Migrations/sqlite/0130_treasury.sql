-- Treasury top-ups (docs/transactions.md, "Treasury top-ups"): a chain may name a treasury wallet (where its key lives,
-- file:/path or env:VAR, never the key) that tops each minter wallet up to top_up_to_wei when its balance falls below
-- the chain's low_balance_wei. The treasury is a sender of its own: its own signer_lease row (lease, epoch) fences
-- every write below, as the minters' rows fence theirs.
ALTER TABLE chain ADD COLUMN treasury_key_ref TEXT NULL;
ALTER TABLE chain ADD COLUMN top_up_to_wei TEXT NULL;

-- One row per top-up (one nonce of the treasury), written with its first signed attempt BEFORE the broadcast.
CREATE TABLE top_up (
    id                INTEGER PRIMARY KEY,
    chain_name        TEXT NOT NULL,
    treasury_address  TEXT NOT NULL,              -- lower-case
    wallet_address    TEXT NOT NULL,              -- lower-case: the minter wallet topped up
    nonce             INTEGER NOT NULL,
    value_wei         TEXT NOT NULL,              -- decimal wei sent
    balance_wei       TEXT NOT NULL,              -- the wallet's balance when the dip was seen
    state             TEXT NOT NULL CHECK (state IN ('pending', 'done', 'abandoned')),
    mined_hash        TEXT NULL,
    mined_block       INTEGER NULL,
    last_error        TEXT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (chain_name, treasury_address, nonce)
);
-- Never two top-ups for one dip: one pending top-up per wallet, and one per treasury (its top-ups go one at a time).
CREATE UNIQUE INDEX top_up_pending_wallet ON top_up(chain_name, wallet_address) WHERE state = 'pending';
CREATE UNIQUE INDEX top_up_pending_treasury ON top_up(chain_name, treasury_address) WHERE state = 'pending';

-- One row per signed version of a top-up (the first, then fee bumps at the same nonce).
CREATE TABLE top_up_attempt (
    id                        INTEGER PRIMARY KEY,
    top_up_id                 INTEGER NOT NULL REFERENCES top_up(id),
    raw                       BLOB NOT NULL,
    hash                      TEXT NOT NULL UNIQUE,
    max_priority_fee_per_gas  TEXT NOT NULL,      -- decimal wei
    max_fee_per_gas           TEXT NOT NULL,
    created_at                TEXT NOT NULL,
    broadcast_at              TEXT NULL,          -- null: signed, not yet acknowledged by a node
    outcome                   TEXT NULL           -- SendOutcome of the last broadcast
);
CREATE INDEX top_up_attempt_top_up ON top_up_attempt(top_up_id, id);
