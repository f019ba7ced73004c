-- PostgreSQL mirror of sqlite/0060_lease_epoch.sql. The fence is checked with FOR SHARE on the lease row inside the
-- writing statement, so a takeover (FOR UPDATE SKIP LOCKED) can never slip in between the check and the write.
ALTER TABLE signer_lease ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
