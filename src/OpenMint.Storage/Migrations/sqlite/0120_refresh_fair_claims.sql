-- Fair refresh claims (docs/architecture.md, "The refresh path"): a claim goes round the projects with started,
-- unfinished refreshes, least recently served first. served_order is when a refresh last had a turn (unix ms × 10,000
-- plus the turn's place in its claim), NULL until its first turn.
ALTER TABLE metadata_refresh ADD COLUMN served_order INTEGER NULL;
-- The refreshes a claim looks at: started and not completed (completed ones pile up; they are never scanned).
CREATE INDEX metadata_refresh_running ON metadata_refresh(seq) WHERE start_state = 'started' AND completed_at IS NULL;
-- One refresh's pending tokens in order, for a turn's lease; entries leave the index once claimed.
CREATE INDEX metadata_refresh_token_pending ON metadata_refresh_token(refresh_seq, id) WHERE state = 'pending';
