-- PostgreSQL mirror of sqlite/0001_core.sql: same tables, columns and indexes, so the store's SQL is shared.
-- Differences: BIGINT/BIGSERIAL for ids and counters, BYTEA for blobs, BOOLEAN where the code binds a bool
-- on PostgreSQL (minting_enabled, by_quantity). Instants stay TEXT in OpenMint.Core.Time format, as in SQLite.

CREATE TABLE chain (
    name            TEXT PRIMARY KEY,
    chain_id        BIGINT NOT NULL,
    rpc_urls        TEXT NOT NULL,             -- JSON array of URLs
    minter_key_ref  TEXT NULL,                 -- file:/path or env:VAR, never the key
    confirmations   INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);

CREATE TABLE project (
    id                             TEXT PRIMARY KEY,
    name                           TEXT NOT NULL,
    owner_address                  TEXT NOT NULL,   -- lower-case
    mint_limit_per_minute          INTEGER NOT NULL DEFAULT 2000,
    refresh_requests_per_second    INTEGER NOT NULL DEFAULT 5,
    refresh_tokens_per_hour        INTEGER NOT NULL DEFAULT 30000,
    refresh_max_tokens_per_request INTEGER NOT NULL DEFAULT 1000,
    created_at                     TEXT NOT NULL
);

CREATE TABLE api_key (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES project(id),
    prefix       TEXT NOT NULL,        -- first characters of the secret, to find candidates
    secret_hash  BYTEA NOT NULL,       -- SHA-256 of the whole secret
    created_at   TEXT NOT NULL,
    revoked_at   TEXT NULL
);
CREATE INDEX api_key_prefix ON api_key(prefix);

CREATE TABLE collection (
    id                 BIGSERIAL PRIMARY KEY,
    chain_name         TEXT NOT NULL REFERENCES chain(name),
    address            TEXT NOT NULL,              -- lower-case
    project_id         TEXT NOT NULL REFERENCES project(id),
    kind               TEXT NOT NULL CHECK (kind IN ('erc721', 'erc1155')),
    variant            TEXT NOT NULL,              -- PresetVariant name
    base_uri_override  TEXT NULL,
    minting_enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at         TEXT NOT NULL,
    UNIQUE (chain_name, address)
);

-- One row per asset of a mint request. id orders rows by acceptance (newest first = id DESC).
CREATE TABLE mint_request (
    id                BIGSERIAL PRIMARY KEY,
    collection_id     BIGINT NOT NULL REFERENCES collection(id),
    project_id        TEXT NOT NULL,
    reference_id      TEXT NOT NULL,
    owner_address     TEXT NOT NULL,             -- lower-case
    token_id          TEXT NULL,                 -- requested id, or the minted id once known
    by_quantity       BOOLEAN NOT NULL,          -- ERC721 without token_id (mintBatchByQuantity)
    amount            TEXT NULL,                 -- ERC1155 only
    metadata          TEXT NULL,                 -- JSON object as given at mint
    status            TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    error_message     TEXT NULL,
    transaction_hash  TEXT NULL,
    activity_id       TEXT NULL,
    batch_id          BIGINT NULL,               -- set by the pipeline while planned/in flight
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (collection_id, reference_id)
);
CREATE INDEX mint_request_list ON mint_request(collection_id, id);
CREATE INDEX mint_request_status ON mint_request(collection_id, status, id);
CREATE INDEX mint_request_token ON mint_request(collection_id, token_id);
CREATE INDEX mint_request_queue ON mint_request(status, batch_id, collection_id, id);

-- What OpenMint knows of each minted (or indexed) token; served by the asset read API.
CREATE TABLE token (
    collection_id       BIGINT NOT NULL REFERENCES collection(id),
    token_id            TEXT NOT NULL,
    owner_address       TEXT NULL,
    metadata            TEXT NULL,               -- JSON object
    metadata_synced_at  TEXT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (collection_id, token_id)
);

-- Append-only: one row per status change of a mint request, written in the same store
-- transaction as the change. seq orders delivery; event_id is the uuid v7 sent to webhooks.
CREATE TABLE mint_event (
    seq              BIGSERIAL PRIMARY KEY,
    event_id         TEXT NOT NULL UNIQUE,
    project_id       TEXT NOT NULL,
    mint_request_id  BIGINT NOT NULL,
    status           TEXT NOT NULL,
    payload          TEXT NOT NULL,              -- imtbl_zkevm_mint_request_updated JSON
    created_at       TEXT NOT NULL
);
CREATE INDEX mint_event_project ON mint_event(project_id, seq);

-- Fixed-window counters shared by every instance through the store.
CREATE TABLE rate_window (
    scope         TEXT NOT NULL,                 -- e.g. mint:<project id>, refresh-tokens:<project id>
    window_start  BIGINT NOT NULL,               -- unix seconds
    used          BIGINT NOT NULL,
    PRIMARY KEY (scope, window_start)
);
