-- Intake on several instances at once (docs/architecture.md, intake writer). Mirror of sqlite/0110_intake_sequence.sql.
-- mint_request ids come from mint_request_id_seq (the BIGSERIAL's own sequence, unused until now: ids were MAX(id) + 1
-- under one advisory lock that every writer took in turn).
SELECT setval('mint_request_id_seq', (SELECT COALESCE(MAX(id), 0) + 1 FROM mint_request), false);
-- At most one live (pending or succeeded) request per ERC721 token id of a collection: what intake checks, now also
-- enforced by the index, so concurrent writers cannot both accept one id (INSERT ... ON CONFLICT DO NOTHING skips the
-- second, which is then refused with the 409). ERC1155 rows (amount set) and by-quantity rows are not covered.
CREATE UNIQUE INDEX mint_request_live_token ON mint_request(collection_id, token_id)
    WHERE status IN ('pending', 'succeeded') AND by_quantity = false AND amount IS NULL;
