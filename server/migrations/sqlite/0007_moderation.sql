-- Users, roles and moderation (members helper): space bans with reason and actor, timeout
-- reasons, OriginChats role categories, space banners, and the audit log (modlog).

-- A ban keeps the member row (flagged `members.banned = 1`, roles kept for an unban); this
-- table says who banned, when and why.
CREATE TABLE space_bans (
    space_id  TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason    TEXT,
    banned_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    banned_at INTEGER NOT NULL,
    PRIMARY KEY (space_id, user_id)
);

ALTER TABLE members ADD COLUMN timeout_reason TEXT;
-- OriginChats groups self-assignable roles by category.
ALTER TABLE roles ADD COLUMN category TEXT;
ALTER TABLE spaces ADD COLUMN banner_url TEXT;
-- Set by the first update through any dialect (until then OriginChats shows its configured
-- name, icon and banner).
ALTER TABLE spaces ADD COLUMN updated_at INTEGER;

-- The moderation log: written by role, member, channel and server operations.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    space_id    TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    actor_id    TEXT,
    actor_name  TEXT,
    action      TEXT NOT NULL,
    category    TEXT NOT NULL,
    target_id   TEXT,
    target_name TEXT,
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_space ON audit_log(space_id, seq);

-- The OriginChats `user` role (the default space's @everyone) may stream and use voice
-- activity, as in the reference.
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'voice_stream', '$[#]', 'voice_activity')
WHERE id = '00000000-0000-7000-8000-000000000002';
