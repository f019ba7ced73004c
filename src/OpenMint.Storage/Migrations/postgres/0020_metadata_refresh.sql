-- Metadata refreshes (docs/api.md section 2). One row per refresh and one per (refresh, token): the per-token
-- state lives in the store so a refresh survives restarts and resumes where it was.

-- seq orders refreshes by acceptance (newest first = seq DESC); refresh_id is the uuid clients see.
CREATE TABLE metadata_refresh (
    seq                 BIGSERIAL PRIMARY KEY,
    refresh_id          TEXT NOT NULL UNIQUE,
    project_id          TEXT NOT NULL REFERENCES project(id),
    collection_id       BIGINT NOT NULL REFERENCES collection(id),
    collection_address  TEXT NOT NULL,             -- lower-case
    token_count         BIGINT NOT NULL,
    succeeded           BIGINT NOT NULL DEFAULT 0, -- kept in the same transaction as refresh_token.state,
    failed              BIGINT NOT NULL DEFAULT 0, -- so summary counts always add up to token_count
    -- 'waiting': the base URI is not resolved yet; 'started': tokens may be fetched.
    start_state         TEXT NOT NULL CHECK (start_state IN ('waiting', 'started')),
    start_owner         TEXT NULL,                 -- worker instance resolving the base URI
    start_lease_until   TEXT NULL,
    base_uri            TEXT NULL,                 -- override or baseURI()/uri(id) read when the refresh started
    created_at          TEXT NOT NULL,
    started_at          TEXT NULL,
    completed_at        TEXT NULL
);
CREATE INDEX metadata_refresh_project ON metadata_refresh(project_id, seq);
CREATE INDEX metadata_refresh_collection ON metadata_refresh(collection_address, seq);
CREATE INDEX metadata_refresh_start ON metadata_refresh(start_state, seq);

-- state: pending -> claimed (lease_owner, lease_until) -> succeeded | failed. An expired lease makes the
-- token claimable again (an instance that died mid-fetch); a graceful stop releases its claims at once.
CREATE TABLE metadata_refresh_token (
    id                           BIGSERIAL PRIMARY KEY,
    refresh_seq                  BIGINT NOT NULL REFERENCES metadata_refresh(seq),
    token_id                     TEXT NOT NULL,    -- canonical decimal
    state                        TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'succeeded', 'failed')),
    lease_owner                  TEXT NULL,
    lease_until                  TEXT NULL,
    url                          TEXT NULL,
    response_status_code         INTEGER NULL,
    response_body                TEXT NULL,        -- capped
    error_code                   TEXT NULL,
    finished_at                  TEXT NULL,
    UNIQUE (refresh_seq, token_id)
);
CREATE INDEX metadata_refresh_token_queue ON metadata_refresh_token(state, id);
