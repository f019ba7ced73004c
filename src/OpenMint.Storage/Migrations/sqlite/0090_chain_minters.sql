-- Several minter wallets per chain (docs/transactions.md, "Several wallets"): one row per wallet, holding only
-- where its key lives (file:/path or env:VAR), never the key. Each wallet has its own signer_lease row (lease,
-- nonces, notice) once a sender has run for it. chain.minter_key_ref stays as the first wallet's reference, so
-- readers of the old column keep working; existing single-minter chains become one-wallet chains here.
CREATE TABLE chain_minter (
    chain_name  TEXT NOT NULL REFERENCES chain(name) ON DELETE CASCADE,
    key_ref     TEXT NOT NULL,
    position    INTEGER NOT NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (chain_name, key_ref)
);

INSERT INTO chain_minter (chain_name, key_ref, position, added_at)
SELECT name, minter_key_ref, 0, created_at FROM chain WHERE minter_key_ref IS NOT NULL;

-- Below this balance (decimal wei) a wallet is reported low: a warning, a metric, a notice on pending requests.
ALTER TABLE chain ADD COLUMN low_balance_wei TEXT NULL;
