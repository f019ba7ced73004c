-- Creation events stop storing their payload. At creation every field of the
-- imtbl_zkevm_mint_request_updated payload is either a constant (status pending, no transaction,
-- no error, updated_at = created_at) or a column of mint_request that never changes afterwards
-- (reference, owner, amount, metadata presence, created_at; token_id unless minted by quantity),
-- so MintEventLog rebuilds it exactly from the row, its collection and its chain. Intake wrote
-- ~600 bytes of JSON per accepted asset for it. A payload IS NULL row is always a creation event;
-- before a failed request is replaced (its row deleted), its creation event's payload is written
-- out. Events of later status changes keep their payload.
-- SQLite cannot drop NOT NULL in place: the table is rebuilt with the same rows and indexes.
CREATE TABLE mint_event_new (
    seq              INTEGER PRIMARY KEY,
    event_id         TEXT NOT NULL UNIQUE,
    project_id       TEXT NOT NULL,
    mint_request_id  INTEGER NOT NULL,
    status           TEXT NOT NULL,
    payload          TEXT NULL,                  -- NULL: creation event, rebuilt by MintEventLog
    created_at       TEXT NOT NULL
);
INSERT INTO mint_event_new (seq, event_id, project_id, mint_request_id, status, payload, created_at)
    SELECT seq, event_id, project_id, mint_request_id, status, payload, created_at FROM mint_event;
DROP TABLE mint_event;
ALTER TABLE mint_event_new RENAME TO mint_event;
CREATE INDEX mint_event_project ON mint_event(project_id, seq);
