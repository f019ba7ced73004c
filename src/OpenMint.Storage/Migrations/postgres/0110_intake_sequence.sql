-- Intake on several instances (docs/architecture.md): mint_request ids come from mint_request_id_seq (the BIGSERIAL's
-- own sequence, unused until now: ids were MAX(id) + 1 under one advisory lock), so writers need not take turns.
SELECT setval('mint_request_id_seq', (SELECT COALESCE(MAX(id), 0) + 1 FROM mint_request), false);
