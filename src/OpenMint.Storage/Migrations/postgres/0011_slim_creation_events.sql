-- Creation events stop storing their payload (see the SQLite migration of the same number):
-- a payload IS NULL row is a creation event whose payload MintEventLog rebuilds from mint_request.
ALTER TABLE mint_event ALTER COLUMN payload DROP NOT NULL;
