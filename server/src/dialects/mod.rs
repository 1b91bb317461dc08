//! One adapter per wire dialect: decode frames, call the core, render core events.
//! No storage or permission logic lives here.

pub mod reactions;

use crate::hub::{DialectId, Renderer};
use std::sync::Arc;

/// Hub index of each dialect's renderer.
pub const REACTIONS: DialectId = 0;

/// Protocol names an extra listener may be bound to.
pub const SERVABLE: &[&str] = &["reactions"];

/// The renderers, indexed by `DialectId`.
pub fn renderers() -> Vec<Arc<dyn Renderer>> {
    vec![Arc::new(reactions::ReactionsRenderer)]
}
