-- PostgreSQL mirror of sqlite/0120_refresh_fair_claims.sql.
ALTER TABLE metadata_refresh ADD COLUMN served_order BIGINT NULL;
CREATE INDEX metadata_refresh_running ON metadata_refresh(seq) WHERE start_state = 'started' AND completed_at IS NULL;
CREATE INDEX metadata_refresh_token_pending ON metadata_refresh_token(refresh_seq, id) WHERE state = 'pending';
