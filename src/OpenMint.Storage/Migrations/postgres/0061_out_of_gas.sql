-- PostgreSQL mirror of sqlite/0061_out_of_gas.sql.
ALTER TABLE mint_request ADD COLUMN gas_limit_floor BIGINT NULL;
