-- Deep reorgs (docs/transactions.md, "Reorgs deeper than the confirmation depth"): the hash of the block whose
-- receipt a tx was reconciled from, so the reorg watcher can tell when that block is no longer canonical and
-- re-read the receipt. Null for txs reconciled before this migration (the watcher reads their receipt once).
ALTER TABLE tx ADD COLUMN mined_block_hash TEXT NULL;
-- The watcher reads the reconciled txs of a signer in its look-back window (Pipeline:ReorgWatchBlocks) every block.
CREATE INDEX tx_reconciled ON tx(chain_name, signer_address, state, mined_block);
