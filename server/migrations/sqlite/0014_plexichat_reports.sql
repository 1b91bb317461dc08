-- `POST /reports/messages` and `/reports/users`: reports for the moderators. Kept even when the
-- reported message or user goes (no foreign keys on the targets); nothing reads them back over
-- the client API (the reference reviews them in its admin dashboard).
CREATE TABLE plexichat_reports (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('message', 'user')),
    reporter_id    TEXT NOT NULL,
    target_user_id TEXT,
    message_id     TEXT,
    room_id        TEXT,
    space_id       TEXT,
    reason         TEXT NOT NULL,
    category       TEXT NOT NULL,
    details        TEXT,
    -- JSON array of message ids
    evidence       TEXT NOT NULL DEFAULT '[]',
    status         TEXT NOT NULL DEFAULT 'open',
    created_at     INTEGER NOT NULL
);
CREATE INDEX plexichat_reports_created ON plexichat_reports(created_at);
