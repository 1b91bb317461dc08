//! Black-box tests: each test starts its own `chorus` process (its own port and data directory)
//! and talks to it over real sockets. Every frame a test client receives is validated against
//! the spec (`support::assert_valid_frame`).

mod support;

mod cross_dialect;
mod lifecycle;
mod limits;
mod messaging;
mod messaging_errors;
mod messaging_messages;
mod messaging_rooms;
mod originchats;
mod originchats_channels;
mod originchats_chat;
mod originchats_extras;
mod originchats_extras_unreads;
mod plexichat;
mod plexichat_gateway;
mod plexichat_gateway_extras;
mod plexichat_support;
mod plexichat_user_state;
mod reactions;
