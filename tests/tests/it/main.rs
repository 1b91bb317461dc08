//! Black-box tests: each test starts its own `chorus` process (its own port and data directory)
//! and talks to it over real sockets. Every frame a test client receives is validated against
//! the spec (`support::assert_valid_frame`).

mod support;

mod cross_dialect;
mod cross_dialect_matrix;
mod lifecycle;
mod limits;
mod messaging;
mod messaging_errors;
mod messaging_events;
mod messaging_messages;
mod messaging_rooms;
mod messaging_support;
mod originchats;
mod originchats_channels;
mod originchats_chat;
mod originchats_extras;
mod originchats_extras_unreads;
// bots
mod originchats_plugins;
mod originchats_polls;
mod originchats_push;
mod originchats_slash;
// threads helper
mod originchats_channels_more;
mod originchats_threads;
mod plexichat;
mod plexichat_account;
mod plexichat_audit;
mod plexichat_avatars;
mod plexichat_export;
mod plexichat_gateway;
mod plexichat_gateway_extras;
mod plexichat_notes;
mod plexichat_polls;
mod plexichat_reports;
mod plexichat_search;
mod plexichat_sessions;
mod plexichat_support;
mod plexichat_threads;
mod plexichat_user_state;
mod plexichat_voice_rest;
mod reactions;
// members, roles and moderation
mod originchats_members;
mod originchats_roles;
mod plexichat_moderation;
// files
mod files_support;
mod originchats_files;
mod originchats_webhooks;
mod plexichat_uploads;
mod tls;
