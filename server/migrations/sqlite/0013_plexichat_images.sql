-- Profile images uploaded over Plexichat (`POST /users/@me/avatar`, `POST /servers/{id}/icon`):
-- which core attachment is the current image of a user or server, served publicly at
-- `/api/v1/avatars/{users|servers}/{id}`. Only attachments listed here are public that way.
CREATE TABLE plexichat_images (
    kind          TEXT NOT NULL CHECK (kind IN ('user', 'server')),
    owner_id      TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (kind, owner_id)
);
