-- A batch's txs by batch id: the dashboard's request page looks up the txs that carried a request, and deleting a batch
-- (a removed wallet) checks tx's foreign key to it. Both scanned every tx. One index entry per tx, which is written once.
CREATE INDEX tx_batch ON tx(batch_id);
