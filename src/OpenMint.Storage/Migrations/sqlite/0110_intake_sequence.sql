-- Mirror of postgres/0110_intake_sequence.sql, which moves PostgreSQL's intake to mint_request_id_seq. SQLite has one
-- writer at a time and keeps taking MAX(id) + 1 inside it: nothing to change.
SELECT 1;
