-- Threads, channel structure and message lookups (threads helper).

-- Replies of a message (OriginChats message_replies) without scanning the room.
CREATE INDEX IF NOT EXISTS messages_reply_to ON messages(reply_to) WHERE reply_to IS NOT NULL;

-- Threads of a forum or channel, newest first.
CREATE INDEX IF NOT EXISTS rooms_parent ON rooms(parent_id, created_at) WHERE parent_id IS NOT NULL;

-- Members of the default space may open threads, as OriginChats' `create_thread: ["user"]` and
-- Discord-style servers allow by default (a core permission the first migration left out).
UPDATE roles
SET permissions = json_insert(permissions, '$[#]', 'create_threads')
WHERE id = '00000000-0000-7000-8000-000000000002'
  AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'create_threads');
