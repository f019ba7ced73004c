-- Webhooks (docs/api.md, section 4): endpoints, the delivery outbox, and the fan-out cursor over mint_event.
-- Instants are unix milliseconds (BIGINT): the delivery worker compares them on every claim.

-- secret: the whsec_ value (the HMAC key is the minimum needed to sign); previous_secret keeps signing
-- beside it until previous_secret_until after a rotation.
CREATE TABLE webhook_endpoint (
    id                     TEXT PRIMARY KEY,          -- uuid v7
    project_id             TEXT NOT NULL REFERENCES project(id),
    url                    TEXT NOT NULL,
    events                 TEXT NULL,                 -- comma-separated event names; NULL: every event
    secret                 TEXT NOT NULL,
    previous_secret        TEXT NULL,
    previous_secret_until  BIGINT NULL,
    enabled                INTEGER NOT NULL,          -- 0/1
    disabled_reason        TEXT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX webhook_endpoint_project ON webhook_endpoint(project_id);

-- One row per (endpoint, event): the outbox. Written by the fan-out in one transaction with the cursor below.
-- ordering_key groups the events of one mint request: a later one waits while an earlier one is pending.
CREATE TABLE webhook_delivery (
    id                INTEGER PRIMARY KEY,
    endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoint(id) ON DELETE CASCADE,
    event_seq         BIGINT NOT NULL,
    event_id          TEXT NOT NULL,
    event_name        TEXT NOT NULL,
    ordering_key      TEXT NOT NULL,
    payload           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          INTEGER NOT NULL,
    next_attempt_at   BIGINT NOT NULL,
    lease_until       BIGINT NULL,                    -- an instance is sending it until then
    queued_at         BIGINT NOT NULL,                -- start of the retry horizon (reset by redrive)
    last_status_code  INTEGER NULL,
    last_error        TEXT NULL,
    delivered_at      BIGINT NULL,
    UNIQUE (endpoint_id, event_seq)
);
CREATE INDEX webhook_delivery_due ON webhook_delivery(endpoint_id, status, next_attempt_at);
CREATE INDEX webhook_delivery_order ON webhook_delivery(endpoint_id, ordering_key, event_seq);

-- The fan-out's position in mint_event: every event up to last_seq has its deliveries queued. It only moves
-- over a committed prefix of the log, so it is also the catch-up feed's high-water mark.
CREATE TABLE webhook_fanout (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq  BIGINT NOT NULL
);
INSERT INTO webhook_fanout (id, last_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM mint_event;
