-- `/auth/sessions`: what Plexichat knows about each session token it issued. The token itself
-- stays in the core's tokens table (every dialect authenticates with it); revoking deletes it
-- there, which drops this row too.
CREATE TABLE plexichat_sessions (
    digest        TEXT PRIMARY KEY REFERENCES tokens(digest) ON DELETE CASCADE,
    -- the snowflake before the token's dot
    id            TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ip_address    TEXT,
    user_agent    TEXT,
    created_at    INTEGER NOT NULL,
    last_activity INTEGER NOT NULL
);
CREATE INDEX plexichat_sessions_user ON plexichat_sessions(user_id);
