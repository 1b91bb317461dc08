//! One adapter per wire dialect: decode frames, call the core, render core events.
//! No storage or permission logic lives here.

pub mod messaging;
pub mod plexichat;
// originchats
pub mod originchats;
pub mod reactions;

use crate::hub::{DialectId, Renderer};
use std::sync::Arc;

/// Hub index of each dialect's renderer.
pub const REACTIONS: DialectId = 0;
// messaging dialect
pub const MESSAGING: DialectId = 1;
/// Plexichat.
pub const PLEXICHAT: DialectId = 2;
// originchats
pub const ORIGINCHATS: DialectId = 3;

/// Protocol names an extra listener may be bound to.
pub const SERVABLE: &[&str] = &["reactions", "messaging", "originchats"];

/// The renderers, indexed by `DialectId`.
pub fn renderers() -> Vec<Arc<dyn Renderer>> {
    vec![
        Arc::new(reactions::ReactionsRenderer),
        // messaging dialect
        Arc::new(messaging::MessagingRenderer),
        // Plexichat
        Arc::new(plexichat::gateway::render::PlexichatRenderer),
        // originchats
        Arc::new(originchats::OriginChatsRenderer),
    ]
}
