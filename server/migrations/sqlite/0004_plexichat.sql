-- Plexichat dialect (issue 5): account fields the core does not model.
CREATE TABLE plexichat_accounts (
    user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email        TEXT UNIQUE COLLATE NOCASE,
    age_verified INTEGER NOT NULL DEFAULT 0,
    -- TOTP (base32 secret; enabled once confirmed) and SHA-256 hex of unused backup codes (JSON)
    totp_secret  TEXT,
    totp_enabled INTEGER NOT NULL DEFAULT 0,
    backup_codes TEXT NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL
);

-- Server invites (`POST /channels/{id}/invites`). max_age/max_uses 0: never expires / unlimited.
CREATE TABLE plexichat_invites (
    code       TEXT PRIMARY KEY,
    space_id   TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    inviter_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    max_age    INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL,
    temporary  INTEGER NOT NULL DEFAULT 0,
    uses       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX plexichat_invites_space ON plexichat_invites(space_id);

-- Incoming webhooks. Each posts as its own bot user (user_id), a member of the server.
CREATE TABLE plexichat_webhooks (
    id           TEXT PRIMARY KEY,
    space_id     TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    room_id      TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    creator_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    avatar_url   TEXT,
    token_digest TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

-- Applications and their bot accounts (`Authorization: Bot bot.<id>.<secret>`).
CREATE TABLE plexichat_applications (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT,
    bot_id      TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);
