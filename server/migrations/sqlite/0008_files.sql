-- Files (issue 8): attachments, custom emoji and webhooks, owned by the core and shared by every
-- dialect.

-- Uploaded files. The bytes live in <data_dir>/attachments/<file_name>; this is their metadata.
-- expires_at: milliseconds, NULL = never. A row whose expires_at has passed is gone for every
-- reader; the sweeper removes it and its file.
CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,
    uploader_id   TEXT NOT NULL,
    -- the room it was uploaded for (OriginChats `channel`, Plexichat `/channels/{id}`)
    room_id       TEXT,
    file_name     TEXT NOT NULL,
    original_name TEXT NOT NULL,
    mime_type     TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    width         INTEGER,
    height        INTEGER,
    permanent     INTEGER NOT NULL DEFAULT 0,
    -- set once a message uses it; unreferenced uploads may be swept early
    referenced    INTEGER NOT NULL DEFAULT 0,
    -- 0: never swept for being unreferenced (uploads whose dialect keeps them until deleted)
    sweep_unreferenced INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER
);
CREATE INDEX attachments_expiry ON attachments(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX attachments_uploader ON attachments(uploader_id, created_at);
CREATE INDEX attachments_hash ON attachments(uploader_id, sha256);
CREATE INDEX attachments_unreferenced ON attachments(created_at)
    WHERE referenced = 0 AND sweep_unreferenced = 1;

-- Which messages use which attachments. Kept by the triggers below, in the same transaction as
-- the message write, from the message's `extra.attachments` (a list of objects with an `id`).
CREATE TABLE message_attachments (
    message_id    TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
);
CREATE INDEX message_attachments_attachment ON message_attachments(attachment_id);

CREATE TRIGGER messages_link_attachments AFTER INSERT ON messages
WHEN NEW.extra LIKE '%"attachments"%' AND json_valid(NEW.extra)
     AND json_type(NEW.extra, '$.attachments') = 'array'
BEGIN
    INSERT OR IGNORE INTO message_attachments (message_id, attachment_id)
        SELECT NEW.id, a.id
        FROM json_each(NEW.extra, '$.attachments') AS j
        JOIN attachments AS a ON a.id = json_extract(j.value, '$.id');
    UPDATE attachments SET referenced = 1
        WHERE id IN (SELECT attachment_id FROM message_attachments WHERE message_id = NEW.id);
END;

-- Deleting a message deletes its attachments (they expire now; the sweeper removes the files).
CREATE TRIGGER messages_drop_attachments AFTER DELETE ON messages
BEGIN
    UPDATE attachments SET expires_at = 0
        WHERE id IN (SELECT attachment_id FROM message_attachments WHERE message_id = OLD.id);
    DELETE FROM message_attachments WHERE message_id = OLD.id;
END;

CREATE TRIGGER messages_soft_drop_attachments AFTER UPDATE OF deleted ON messages
WHEN NEW.deleted = 1 AND OLD.deleted = 0
BEGIN
    UPDATE attachments SET expires_at = 0
        WHERE id IN (SELECT attachment_id FROM message_attachments WHERE message_id = NEW.id);
END;

-- Custom emoji per space, with sequential numeric ids (OriginChats `"0"`, `"1"`, …). The image
-- lives in <data_dir>/emojis/<space_id>/<file_name>.
CREATE TABLE custom_emojis (
    space_id   TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    id         INTEGER NOT NULL,
    name       TEXT NOT NULL,
    file_name  TEXT NOT NULL,
    mime_type  TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (space_id, id)
);
CREATE UNIQUE INDEX custom_emojis_name ON custom_emojis(space_id, name COLLATE NOCASE);

-- Incoming webhooks of every dialect. Each posts as its own bot user (user_id), a member of the
-- space. Only a SHA-256 of the token is kept.
CREATE TABLE webhooks (
    id           TEXT PRIMARY KEY,
    space_id     TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    room_id      TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    creator_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    avatar_url   TEXT,
    token_digest TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
);
CREATE INDEX webhooks_room ON webhooks(room_id);
CREATE INDEX webhooks_space ON webhooks(space_id, created_at);

-- Plexichat's webhooks become core webhooks (the old table is left in place, unused).
INSERT INTO webhooks (id, space_id, room_id, creator_id, user_id, name, avatar_url, token_digest,
                      created_at)
SELECT id, space_id, room_id, creator_id, user_id, name, avatar_url, token_digest, created_at
FROM plexichat_webhooks;
