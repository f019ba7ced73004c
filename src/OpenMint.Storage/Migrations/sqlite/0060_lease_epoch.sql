-- Fencing (docs/transactions.md, "Lease and fencing"): the lease epoch grows by one each time the (chain, signer)
-- lease changes hands. Every write a sender makes for a nonce (attempt recorded, broadcast marked, replacement,
-- mined/unmined, completion) names the epoch it holds and is refused in the same statement when it moved, so an
-- instance that lost its lease (frozen, partitioned, slow) changes nothing.
ALTER TABLE signer_lease ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
