-- One row per attempt number: a worker whose lease ran out cannot record a second
-- attempt n beside the one the next worker made.
DROP INDEX delivery_attempts_delivery;
CREATE UNIQUE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, number);
