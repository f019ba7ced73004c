-- A request's events by request id: replacing a failed request writes out its creation event's payload before the row
-- goes (inside the intake writer's transaction), and the dashboard's request page lists its events. Both read
-- mint_event by mint_request_id, which no index covered: each was a scan of every event. The index costs intake about
-- 0.4 µs per event on SQLite (BENCHMARKS.md, "Single-asset intake, fourth session").
CREATE INDEX mint_event_request ON mint_event(mint_request_id);
