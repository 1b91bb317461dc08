//! HTML sanitising with the original's bleach allow-list: disallowed tags are stripped but
//! their text kept (script text included), disallowed attributes and URL schemes dropped,
//! comments removed.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const TAGS: &[&str] = &[
    "b", "i", "strong", "em", "a", "span", "p", "ul", "ol", "li", "br",
];

fn cleaner() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let mut b = ammonia::Builder::empty();
        b.tags(TAGS.iter().copied().collect::<HashSet<_>>())
            .generic_attributes(["class", "id"].into_iter().collect::<HashSet<_>>())
            .tag_attributes(HashMap::from([(
                "a",
                ["href", "title", "target"]
                    .into_iter()
                    .collect::<HashSet<_>>(),
            )]))
            .url_schemes(
                ["http", "https", "mailto"]
                    .into_iter()
                    .collect::<HashSet<_>>(),
            )
            .link_rel(None)
            .strip_comments(true)
            .clean_content_tags(HashSet::new());
        b
    })
}

/// The stored form of `content`.
pub fn clean(content: &str) -> String {
    cleaner().clean(content).to_string()
}

/// Marks content that sanitised to nothing but whitespace. The original stores such a message
/// (its blank check runs before sanitising) and shows it as it is, e.g. `""`; the core keeps no
/// blank messages, so the core text is this marker followed by the actual content, and other
/// dialects show an empty-looking message too.
const BLANK: char = '\u{200B}';

/// The text to store in the core for sanitised `content`.
pub fn stored(content: String) -> String {
    if content.trim().is_empty() {
        format!("{BLANK}{content}")
    } else {
        content
    }
}

/// The text messaging clients see for stored `content` (inverse of [`stored`]).
pub fn shown(content: String) -> String {
    match content.strip_prefix(BLANK) {
        Some(rest) if rest.trim().is_empty() => rest.to_owned(),
        _ => content,
    }
}

#[cfg(test)]
mod blank_tests {
    use super::*;

    #[test]
    fn blank_content_round_trips_through_the_core() {
        for c in ["", " ", "\n\t"] {
            let s = stored(c.to_owned());
            assert!(!s.trim().is_empty(), "the core accepts {s:?}");
            assert_eq!(shown(s), c);
        }
        assert_eq!(stored("<p>x</p>".into()), "<p>x</p>");
        assert_eq!(shown("\u{200B}text".into()), "\u{200B}text");
    }
}
