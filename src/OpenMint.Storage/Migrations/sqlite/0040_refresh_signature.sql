-- Refresh API signatures already used for a POST (docs/api.md, metadata refresh auth): a signature creates at
-- most one refresh. Kept until its timestamp leaves the tolerance window, after which it cannot verify anyway.
CREATE TABLE refresh_signature (
    signature   TEXT PRIMARY KEY,        -- 0x + r + s + v, lower case, v as 00/01
    expires_at  INTEGER NOT NULL          -- unix seconds
);
CREATE INDEX refresh_signature_expiry ON refresh_signature(expires_at);
