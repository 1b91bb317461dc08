-- Bots and extensions (OriginChats §2.7, §2.11, §2.13, §4.4): polls (a core concept: the poll
-- message is an ordinary message), their votes, Web Push subscriptions and VAPID keys, and the
-- state of the built-in plugins.

CREATE TABLE polls (
    id                TEXT PRIMARY KEY,
    message_id        TEXT NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
    room_id           TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    question          TEXT NOT NULL,
    -- [{"id","text","emoji"?}] in display order
    options           TEXT NOT NULL,
    allow_multiselect INTEGER NOT NULL DEFAULT 0,
    expires_at        INTEGER,
    created_by        TEXT NOT NULL REFERENCES users(id),
    created_at        INTEGER NOT NULL,
    ended_at          INTEGER
);
-- The expiry sweep only looks at open polls with an expiry.
CREATE INDEX polls_open_expiry ON polls(expires_at) WHERE ended_at IS NULL AND expires_at IS NOT NULL;

CREATE TABLE poll_votes (
    poll_id   TEXT NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    option_id TEXT NOT NULL,
    voted_at  INTEGER NOT NULL,
    PRIMARY KEY (poll_id, user_id, option_id)
);

-- Web Push (RFC 8030/8291/8292): one row per browser subscription.
CREATE TABLE originchats_push_subscriptions (
    endpoint           TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    p256dh             TEXT NOT NULL,
    auth               TEXT NOT NULL,
    device_fingerprint TEXT NOT NULL,
    last_used          INTEGER NOT NULL
);
CREATE INDEX originchats_push_user ON originchats_push_subscriptions(user_id);

-- The server's VAPID key pair, generated on first start (one row).
CREATE TABLE originchats_vapid (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    private_key_pem TEXT NOT NULL,
    public_key_b64  TEXT NOT NULL,
    claims_email    TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

-- Users the welcome plugin has greeted (its `first_time_only`).
CREATE TABLE originchats_welcomed (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    welcomed_at INTEGER NOT NULL
);
