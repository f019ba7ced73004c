-- Out of gas (docs/transactions.md): a mined mint that ran out of gas puts its requests back in the queue once,
-- with the gas limit the next tx carrying them must have at least; a request that already has one fails instead.
ALTER TABLE mint_request ADD COLUMN gas_limit_floor INTEGER NULL;
