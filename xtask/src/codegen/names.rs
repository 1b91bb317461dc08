//! Rust names from wire names.

const KEYWORDS: [&str; 51] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// Splits `eventType`, `reply_to`, `room.add_members`, `image/*` into lower-case words.
fn words(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            cur.push(c.to_ascii_lowercase());
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `reply_to` → `ReplyTo`.
pub fn pascal(s: &str) -> String {
    let mut out: String = words(s)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if out.is_empty() {
        out.push_str("Empty");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `eventType` → `event_type`; keywords become raw identifiers (`r#type`).
pub fn rust_field(s: &str) -> String {
    let mut out = words(s).join("_");
    if out.is_empty() {
        out.push_str("field");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    match out.as_str() {
        "self" | "super" | "crate" => format!("{out}_"),
        k if KEYWORDS.contains(&k) => format!("r#{out}"),
        _ => out,
    }
}

/// An enum variant for a wire value: `added` → `Added`, `image/*` → `Image`.
pub fn variant_name(s: &str) -> String {
    pascal(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(pascal("reply_to"), "ReplyTo");
        assert_eq!(pascal("room.add_members"), "RoomAddMembers");
        assert_eq!(rust_field("eventType"), "event_type");
        assert_eq!(rust_field("type"), "r#type");
        assert_eq!(rust_field("self"), "self_");
        assert_eq!(rust_field("messageNew"), "message_new");
        assert_eq!(pascal("1st"), "V1st");
    }
}
