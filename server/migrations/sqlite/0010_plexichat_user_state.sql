-- Plexichat per-user state the other dialects do not share (read markers live in the core's
-- read_states table).

-- `/users/@me/settings`: a free-form string key/value store (at most 100 keys per user).
CREATE TABLE plexichat_settings (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- `/users/@me/messaging-settings` (absent row: the defaults).
CREATE TABLE plexichat_messaging_settings (
    user_id                   TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    read_receipts_enabled     INTEGER NOT NULL DEFAULT 1,
    typing_indicators_enabled INTEGER NOT NULL DEFAULT 1,
    compact_messages_enabled  INTEGER NOT NULL DEFAULT 0,
    allow_dms_from            TEXT NOT NULL DEFAULT 'everyone'
                              CHECK (allow_dms_from IN ('everyone', 'friends', 'none')),
    auto_create_dms           INTEGER NOT NULL DEFAULT 1
);

-- `/users/@me/notifications` (mentions). room_id lets a channel ack mark them read.
CREATE TABLE plexichat_notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    link       TEXT,
    sender_id  TEXT,
    room_id    TEXT,
    read       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX plexichat_notifications_user ON plexichat_notifications(user_id, created_at);

-- `/relationships`: one row per side. status is how user_id sees other_id.
CREATE TABLE plexichat_relationships (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    other_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status     TEXT NOT NULL
               CHECK (status IN ('friend', 'pending_outgoing', 'pending_incoming', 'blocked')),
    message    TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, other_id)
);
CREATE INDEX plexichat_relationships_other ON plexichat_relationships(other_id);
