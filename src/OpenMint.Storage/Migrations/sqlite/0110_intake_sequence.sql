-- Intake on several instances at once (docs/architecture.md, intake writer). PostgreSQL's mirror also moves its ids to
-- mint_request_id_seq; SQLite has one writer at a time and keeps taking MAX(id) + 1 inside it.
-- At most one live (pending or succeeded) request per ERC721 token id of a collection: what intake checks, now also
-- enforced by the index (ERC1155 rows, which carry an amount, and by-quantity rows are not covered).
CREATE UNIQUE INDEX mint_request_live_token ON mint_request(collection_id, token_id)
    WHERE status IN ('pending', 'succeeded') AND by_quantity = 0 AND amount IS NULL;
