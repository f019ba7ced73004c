-- PostgreSQL mirror of sqlite/0090_chain_minters.sql: one row per minter wallet of a chain (its key reference
-- only), the old single minter_key_ref copied in; and the per-chain low-balance threshold.
CREATE TABLE chain_minter (
    chain_name  TEXT NOT NULL REFERENCES chain(name) ON DELETE CASCADE,
    key_ref     TEXT NOT NULL,
    position    INTEGER NOT NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (chain_name, key_ref)
);

INSERT INTO chain_minter (chain_name, key_ref, position, added_at)
SELECT name, minter_key_ref, 0, created_at FROM chain WHERE minter_key_ref IS NOT NULL;

ALTER TABLE chain ADD COLUMN low_balance_wei TEXT NULL;
