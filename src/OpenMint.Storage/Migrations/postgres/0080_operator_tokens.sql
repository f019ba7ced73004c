-- PostgreSQL mirror of sqlite/0080_operator_tokens.sql.
-- Operator tokens: sign-in to the dashboard (/dashboard). Only the SHA-256 of a token is kept, beside a clear
-- prefix that narrows the lookup, as for API keys. Instants are TEXT in OpenMint.Core.Time format.
CREATE TABLE operator_token (
    id            TEXT PRIMARY KEY,          -- uuid v7
    name          TEXT NULL,
    prefix        TEXT NOT NULL,
    token_hash    BYTEA NOT NULL,            -- SHA-256 of the whole token
    created_at    TEXT NOT NULL,
    revoked_at    TEXT NULL
);
CREATE INDEX operator_token_prefix ON operator_token(prefix);
