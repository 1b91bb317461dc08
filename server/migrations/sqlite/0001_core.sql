-- Chorus core schema (SQLite). Times are milliseconds since the Unix epoch.
-- Modelled for all four dialects; later issues add operations, not tables, where they can.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('local', 'ip', 'external', 'bot', 'system')),
    avatar_url    TEXT,
    status        TEXT NOT NULL DEFAULT 'online',
    status_text   TEXT NOT NULL DEFAULT '',
    -- Plexichat global account permissions (dotted keys), JSON array
    global_permissions TEXT NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL
);

-- Local accounts: argon2id PHC strings.
CREATE TABLE credentials (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Session tokens, stored as SHA-256 hex of the token; usable by every dialect.
CREATE TABLE tokens (
    digest      TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    label       TEXT
);
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE spaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT,
    icon_url    TEXT,
    owner_id    TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);

-- permissions: JSON array of core permission names (core::permissions::Permissions::NAMES).
CREATE TABLE roles (
    id              TEXT PRIMARY KEY,
    space_id        TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    permissions     TEXT NOT NULL DEFAULT '[]',
    position        INTEGER NOT NULL DEFAULT 0,
    color           TEXT,
    hoist           INTEGER NOT NULL DEFAULT 0,
    mentionable     INTEGER NOT NULL DEFAULT 0,
    self_assignable INTEGER NOT NULL DEFAULT 0,
    is_default      INTEGER NOT NULL DEFAULT 0,
    description     TEXT,
    UNIQUE (space_id, name)
);

CREATE TABLE members (
    space_id      TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    nickname      TEXT,
    joined_at     INTEGER NOT NULL,
    timeout_until INTEGER,
    banned        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (space_id, user_id)
);

-- ord: the member's role order (OriginChats evaluates roles in order).
CREATE TABLE member_roles (
    space_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    role_id  TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    ord      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (space_id, user_id, role_id),
    FOREIGN KEY (space_id, user_id) REFERENCES members(space_id, user_id) ON DELETE CASCADE
);

CREATE TABLE rooms (
    id               TEXT PRIMARY KEY,
    space_id         TEXT REFERENCES spaces(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('text', 'voice', 'separator', 'forum', 'thread',
                                                   'broadcast', 'direct', 'group')),
    name             TEXT NOT NULL,
    topic            TEXT,
    position         INTEGER NOT NULL DEFAULT 0,
    parent_id        TEXT REFERENCES rooms(id) ON DELETE CASCADE,
    creator_id       TEXT REFERENCES users(id) ON DELETE SET NULL,
    is_public        INTEGER NOT NULL DEFAULT 1,
    locked           INTEGER NOT NULL DEFAULT 0,
    archived         INTEGER NOT NULL DEFAULT 0,
    max_members      INTEGER,
    slowmode_seconds INTEGER NOT NULL DEFAULT 0,
    -- dialect-specific extras (OriginChats icon/wallpaper, messaging preferences), JSON object
    extra            TEXT NOT NULL DEFAULT '{}',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX rooms_space ON rooms(space_id, position);
CREATE UNIQUE INDEX rooms_space_name ON rooms(space_id, name) WHERE space_id IS NOT NULL AND kind <> 'thread';

-- Membership of private rooms (DM, group, broadcast) and thread participants.
CREATE TABLE room_members (
    room_id   TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role      TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'moderator', 'admin', 'owner')),
    can_send  INTEGER NOT NULL DEFAULT 1,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members(user_id);

-- Per-room permission overrides for a role or a member (deny, then allow).
CREATE TABLE room_overrides (
    room_id     TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('role', 'member')),
    target_id   TEXT NOT NULL,
    allow       TEXT NOT NULL DEFAULT '[]',
    deny        TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (room_id, target_kind, target_id)
);

-- seq is the commit order; id the public id.
CREATE TABLE messages (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    room_id     TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    author_id   TEXT NOT NULL REFERENCES users(id),
    author_name TEXT,
    content     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    edited_at   INTEGER,
    deleted     INTEGER NOT NULL DEFAULT 0,
    reply_to    TEXT,
    forwarded_from TEXT,
    pinned      INTEGER NOT NULL DEFAULT 0,
    -- embeds, attachments, interaction, webhook ... JSON object
    extra       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX messages_room_seq ON messages(room_id, seq);

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE pins (
    room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    pinned_by  TEXT NOT NULL REFERENCES users(id),
    pinned_at  INTEGER NOT NULL,
    PRIMARY KEY (room_id, message_id)
);

CREATE TABLE read_states (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    last_read  TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
);

-- Every installation starts with one space, its @everyone role and a `general` room.
INSERT INTO spaces (id, name, description, created_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'Chorus', 'The default space', 0);

INSERT INTO roles (id, space_id, name, permissions, position, is_default, description)
VALUES ('00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000001', '@everyone',
        '["view_room","read_history","send_messages","add_reactions","edit_own","delete_own","change_nickname","attach_files","embed_links","use_external_emojis","create_invites","voice_connect","voice_speak","use_slash_commands"]',
        0, 1, 'Every member');

INSERT INTO rooms (id, space_id, kind, name, topic, position, created_at, updated_at)
VALUES ('00000000-0000-7000-8000-000000000003', '00000000-0000-7000-8000-000000000001', 'text',
        'general', 'General chat channel for everyone', 0, 0, 0);
