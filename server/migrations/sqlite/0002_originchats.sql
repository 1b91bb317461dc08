-- OriginChats: the reference's default roles in the default space (its `user` role is the
-- space's @everyone). Core positions grow with authority; OriginChats positions are the reverse
-- (owner 0 … user 3), computed by the dialect.
INSERT OR IGNORE INTO roles (id, space_id, name, permissions, position, color, hoist, description)
VALUES
  ('00000000-0000-7000-8002-000000000001', '00000000-0000-7000-8000-000000000001', 'owner',
   '["administrator"]', 3, '#9400D3', 1, 'Server owner with ultimate permissions.'),
  ('00000000-0000-7000-8002-000000000002', '00000000-0000-7000-8000-000000000001', 'admin',
   '["administrator","manage_roles","manage_rooms","manage_members","manage_space","manage_messages","manage_threads","manage_nicknames","kick_members","ban_members","create_invites","manage_invites","mention_everyone","use_slash_commands"]',
   2, '#FF0000', 1, 'Administrator role with full permissions.'),
  ('00000000-0000-7000-8002-000000000003', '00000000-0000-7000-8000-000000000001', 'moderator',
   '["manage_messages","pin_messages","manage_threads","kick_members","manage_nicknames","voice_mute_members","voice_move_members","create_invites","use_slash_commands"]',
   1, '#FFFF00', 1, 'Moderator role with elevated permissions.');

-- Per-connection data the reference keeps per user: the OriginChats status text is in
-- users.status/status_text; nothing else is needed for the core slice.
