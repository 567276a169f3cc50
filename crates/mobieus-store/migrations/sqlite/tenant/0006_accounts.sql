-- Web accounts: a member who registers in the browser has a password (argon2id, PHC
-- string); members made through the API or the CLI have none until an operator sets one.
ALTER TABLE users ADD COLUMN password_hash TEXT;

-- Logged-in browsers. The cookie holds the token; only its SHA-256 is kept here.
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed logins, for the throttle: by lower-cased username and client address.
CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    client   TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (username, client, at);
