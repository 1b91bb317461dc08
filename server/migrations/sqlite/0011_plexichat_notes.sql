-- `/users/@me/notes`: each user's personal notes channel, a private core room with the user
-- as its only member, made on first use.
CREATE TABLE plexichat_notes (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE
);
