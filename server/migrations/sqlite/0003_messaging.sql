-- Messaging dialect (django-realtime-chat-messaging): what the core does not model.

-- The integer user ids the protocol shows. JWT users keep the id of their token's claim
-- (user id "jwt:<n>"); every other user gets a number from 2^31 upwards on first sight.
CREATE TABLE messaging_users (
    num     INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE
);

-- Object permissions of GroupChat/Channel members (can_add_new_participants, can_send_messages ...).
CREATE TABLE messaging_room_perms (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    perm    TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id, perm)
);

CREATE TABLE messaging_read_receipts (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    reader_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    read_at    INTEGER NOT NULL,
    PRIMARY KEY (message_id, reader_id)
);

CREATE TABLE messaging_delivered (
    message_id   TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    delivered_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
);

CREATE TABLE messaging_notifications (
    id                TEXT PRIMARY KEY,
    message_id        TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    room_id           TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    notification_type TEXT NOT NULL CHECK (notification_type IN ('NEW_MESSAGE', 'REPLY', 'REACTION')),
    created_at        INTEGER NOT NULL
);
CREATE INDEX messaging_notifications_message ON messaging_notifications(message_id);

-- A notification is deleted once its last recipient acknowledged it.
CREATE TABLE messaging_notification_recipients (
    notification_id TEXT NOT NULL REFERENCES messaging_notifications(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX messaging_notification_recipients_user ON messaging_notification_recipients(user_id);
