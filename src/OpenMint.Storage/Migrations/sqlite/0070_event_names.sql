-- The event log carries more than mint request events (docs/api.md, section 4). event_name NULL is
-- imtbl_zkevm_mint_request_updated (every row written before this script, and intake's creation events);
-- otherwise the event's name with its payload stored. For openmint_metadata_refresh_completed, mint_request_id
-- holds the refresh's seq (metadata_refresh.seq) and status is 'completed': one such event per refresh, which
-- the unique index below guarantees.
ALTER TABLE mint_event ADD COLUMN event_name TEXT NULL;
CREATE UNIQUE INDEX mint_event_named_subject ON mint_event(event_name, mint_request_id) WHERE event_name IS NOT NULL;
