-- Idempotency keys of the API's POSTs: the first answer, given again for 24 hours.
-- The answer is sealed with the master key, as some answers carry a signing secret.
CREATE TABLE idempotency_keys (
    api_key_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  BLOB NOT NULL,   -- SHA-256 of method, path and body
    created_at   INTEGER NOT NULL,
    status       INTEGER,         -- NULL while the first request runs
    content_type TEXT,
    response     BLOB,            -- sealed
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
