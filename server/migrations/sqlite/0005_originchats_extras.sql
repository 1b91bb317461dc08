-- OriginChats extras (originchats2): per-user last-read markers for unreads_*.
CREATE TABLE originchats_unreads (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    last_read  TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
);
