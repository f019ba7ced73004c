-- PostgreSQL mirror of sqlite/0100_reorg_watch.sql.
ALTER TABLE tx ADD COLUMN mined_block_hash TEXT NULL;
CREATE INDEX tx_reconciled ON tx(chain_name, signer_address, state, mined_block);
