//! Black-box tests: each test starts its own `chorus` process (its own port and data directory)
//! and talks to it over real sockets. Every frame a test client receives is validated against
//! the spec (`support::assert_valid_frame`).

mod support;

mod lifecycle;
mod limits;
mod reactions;
