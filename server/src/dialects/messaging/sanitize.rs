//! HTML sanitising as the original's `bleach.clean(value, tags=…, attributes=…, strip=True)`.
//!
//! bleach tokenizes with html5lib and turns every disallowed tag into text *before* the tree
//! builder sees it (so the content of `<script>`, `<style>` or `<textarea>` is parsed as markup,
//! and a disallowed block-level start tag after the first tag becomes a newline); it keeps
//! character entities as they were written and escapes bare `&`; comments go; allowed
//! attributes stay in their order, `href` only with an allowed scheme. Chorus does the same in
//! two passes over html5ever: its tokenizer strips what bleach strips (`strip_tags`), then
//! ammonia builds the tree (implied end tags, nesting) and serialises it. So that entities keep
//! their spelling, every `&` travels through both passes as a placeholder and is written back
//! with bleach's rules (`restore`).

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const TAGS: &[&str] = &[
    "b", "i", "strong", "em", "a", "span", "p", "ul", "ol", "li", "br",
];
const PROTOCOLS: &[&str] = &["http", "https", "mailto"];
/// bleach's `HTML_TAGS_BLOCK_LEVEL`.
const BLOCK_LEVEL: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "dialog",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];
/// Stands for `&` between the passes: a noncharacter, which no text carries (one in the input
/// becomes U+FFFD).
const AMP: char = '\u{FDD0}';
/// The name `href` travels under through the tree-building pass: ammonia's own URL check
/// refuses values bleach keeps (`localhost:8000`, entity-written schemes it cannot see).
const HREF: &str = "data-chorus-href";

fn allowed_attr(tag: &str, attr: &str) -> bool {
    matches!(attr, "class" | "id") || (tag == "a" && matches!(attr, "href" | "title" | "target"))
}

/// The tree-building pass: ammonia with the same allow-list (it only ever sees allowed tags).
fn cleaner() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let mut b = ammonia::Builder::empty();
        b.tags(TAGS.iter().copied().collect::<HashSet<_>>())
            .generic_attributes(["class", "id"].into_iter().collect::<HashSet<_>>())
            .tag_attributes(HashMap::from([(
                "a",
                [HREF, "title", "target"]
                    .into_iter()
                    .collect::<HashSet<_>>(),
            )]))
            .url_schemes(PROTOCOLS.iter().copied().collect::<HashSet<_>>())
            .url_relative(ammonia::UrlRelative::PassThrough)
            .link_rel(None)
            .strip_comments(true)
            .clean_content_tags(HashSet::new());
        b
    })
}

/// The stored form of `content`.
pub fn clean(content: &str) -> String {
    let input: String = content
        .chars()
        .map(|c| match c {
            '&' => AMP,
            AMP => '\u{FFFD}',
            c => c,
        })
        .collect();
    let (body, tail) = split_open_tail(&input);
    let mut staged = strip_tags(body);
    push_text(&mut staged, tail);
    restore(&cleaner().clean(&staged).to_string())
}

/// An unterminated tag at the very end (`a <b`, `x <y z`) is text for bleach; html5lib would
/// drop it. Returns the input without it, and it.
fn split_open_tail(input: &str) -> (&str, &str) {
    let Some(lt) = input.rfind('<') else {
        return (input, "");
    };
    let tail = &input[lt..];
    let before = &input[..lt];
    let in_comment = before
        .rfind("<!--")
        .is_some_and(|c| before.rfind("-->").is_none_or(|e| e < c));
    if tail.contains('>') || in_comment {
        return (input, "");
    }
    let s = tail[1..].strip_prefix('/').unwrap_or(&tail[1..]);
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return (input, "");
    }
    // html5lib drops a tail with a quoted (or half-quoted) attribute value.
    let unquoted = !s.contains(['"', '\'']);
    let text = match s.find(|c: char| c.is_whitespace() || c == '/') {
        // `eof-in-tag-name`
        None => true,
        // A name followed by attributes that end abruptly; not after a bare name, `/` or `=`.
        Some(i) => {
            let rest = &s[i..];
            unquoted
                && !rest.trim().is_empty()
                && !rest.ends_with('/')
                && !rest.trim_end().ends_with('=')
        }
    };
    if text { (before, tail) } else { (input, "") }
}

/// Text for the tree-building pass: `<` and `>` escaped, bleach's invisible characters as `?`.
fn push_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\u{1}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' => out.push('?'),
            c => out.push(c),
        }
    }
}

/// bleach's tokenizer pass: allowed tags (with their allowed attributes) stay, every other tag
/// becomes nothing (or a newline), comments and doctypes go.
struct Strip {
    out: RefCell<String>,
    seen_tag: Cell<bool>,
}

impl TokenSink for Strip {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut out = self.out.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                let seen = self.seen_tag.replace(true);
                if !TAGS.contains(&name) {
                    if tag.kind == TagKind::StartTag && seen && BLOCK_LEVEL.contains(&name) {
                        out.push('\n');
                    }
                    return TokenSinkResult::Continue;
                }
                out.push('<');
                if tag.kind == TagKind::EndTag {
                    out.push('/');
                }
                out.push_str(name);
                if tag.kind == TagKind::StartTag {
                    for attr in &tag.attrs {
                        let key: &str = &attr.name.local;
                        if !attr.name.ns.is_empty()
                            || !allowed_attr(name, key)
                            || (key == "href" && !uri_allowed(&attr.value))
                        {
                            continue;
                        }
                        out.push(' ');
                        out.push_str(if key == "href" { HREF } else { key });
                        out.push_str("=\"");
                        out.push_str(&attr.value.replace('"', "&quot;"));
                        out.push('"');
                    }
                }
                out.push('>');
            }
            Token::CharacterTokens(t) => push_text(&mut out, &t),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

fn strip_tags(input: &str) -> String {
    let tokenizer = Tokenizer::new(
        Strip {
            out: RefCell::new(String::with_capacity(input.len())),
            seen_tag: Cell::new(false),
        },
        TokenizerOpts::default(),
    );
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(input));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    tokenizer.sink.out.take()
}

/// Python's whitespace (`string.whitespace`).
fn py_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}')
}

/// The named entities, sorted (for bleach's prefix test).
fn entity_names() -> &'static [&'static str] {
    static N: OnceLock<Vec<&'static str>> = OnceLock::new();
    N.get_or_init(|| {
        let mut v: Vec<&'static str> = html5ever::data::NAMED_ENTITIES
            .keys()
            .map(|k| k.trim_start_matches('&'))
            .collect();
        v.sort_unstable();
        v
    })
}

fn is_entity_prefix(p: &str) -> bool {
    let names = entity_names();
    let i = names.partition_point(|n| *n < p);
    names.get(i).is_some_and(|n| n.starts_with(p))
}

/// bleach's `match_entity` on the text after an `&`: the entity name if one seems to follow.
fn match_entity(rest: &str) -> Option<String> {
    let end = |c: char| "<&=;".contains(c) || py_space(c) || c == AMP;
    let mut it = rest.chars().peekable();
    let mut possible = String::new();
    if it.peek() == Some(&'#') {
        possible.push('#');
        it.next();
        let hex = matches!(it.peek(), Some('x' | 'X'));
        if hex {
            possible.push(it.next().unwrap_or('x'));
        }
        while let Some(&c) = it.peek() {
            if end(c) {
                break;
            }
            it.next();
            if !(if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }) {
                break;
            }
            possible.push(c);
        }
    } else {
        while let Some(&c) = it.peek() {
            if end(c) {
                break;
            }
            it.next();
            possible.push(c);
            if !is_entity_prefix(&possible) {
                return None;
            }
        }
    }
    (!possible.is_empty() && it.peek() == Some(&';')).then_some(possible)
}

/// bleach's `convert_entity`: the text of an entity name (numeric, or named without `;`).
fn convert_entity(name: &str) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let (digits, radix) = match num.strip_prefix(['x', 'X']) {
            Some(h) => (h, 16),
            None => (num, 10),
        };
        let cp = u32::from_str_radix(digits, radix).ok()?;
        return (cp > 0)
            .then(|| char::from_u32(cp))
            .flatten()
            .map(String::from);
    }
    // html5ever's table also lists every prefix of a name, as (0, 0).
    let (a, b) = html5ever::data::NAMED_ENTITIES
        .get(name)
        .filter(|(a, _)| *a != 0)?;
    let mut s = String::new();
    for cp in [*a, *b] {
        if cp != 0 {
            s.extend(char::from_u32(cp));
        }
    }
    Some(s)
}

/// bleach's `convert_entities` (placeholder form).
fn convert_entities(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find(AMP) {
        out.push_str(&rest[..i]);
        let after = &rest[i + AMP.len_utf8()..];
        match match_entity(after).and_then(|e| convert_entity(&e).map(|c| (e, c))) {
            Some((e, c)) => {
                out.push_str(&c);
                rest = skip_chars(after, e.chars().count() + 1);
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn skip_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[i..],
        None => "",
    }
}

/// bleach's `sanitize_uri_value`: no scheme, an anchor, or an allowed scheme.
fn uri_allowed(value: &str) -> bool {
    let normalized: String = convert_entities(value)
        .chars()
        // Backticks, whitespace and control characters go, and so does all that is not ASCII.
        .filter(|c| c.is_ascii() && *c != '`' && *c > ' ' && *c != '\u{7f}')
        .collect::<String>()
        .to_ascii_lowercase();
    // The old `urlsplit` bleach vendors: a scheme is what precedes the first `:` when it is
    // made of scheme characters and what follows is not a port number.
    if let Some(i) = normalized.find(':').filter(|i| *i > 0) {
        let (scheme, rest) = (&normalized[..i], &normalized[i + 1..]);
        let is_scheme = scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        let port = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit());
        if is_scheme && !port {
            return PROTOCOLS.contains(&scheme);
        }
    }
    true
}

/// Writes every placeholder back as bleach's serializer does: an entity that seems to follow
/// keeps its `&` (in attribute values only one that converts), anything else becomes `&amp;`.
/// Undoes what html5ever escapes and html5lib does not (U+00A0 as `&nbsp;`, `<`/`>` in
/// attribute values), quotes values as html5lib does, and renames `href` back.
fn restore(s: &str) -> String {
    let s = s.replace("&nbsp;", "\u{a0}");
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    let mut rest = s.as_str();
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            AMP => rest = restore_amp(&mut out, rest, false),
            '<' if !in_tag => {
                in_tag = true;
                out.push(c);
            }
            ' ' if in_tag && rest.starts_with(HREF) => {
                out.push_str(" href");
                rest = &rest[HREF.len()..];
            }
            // An attribute value: html5ever writes `"…"` with `&quot;` inside.
            '"' if in_tag => {
                let end = rest.find('"').unwrap_or(rest.len());
                let raw = rest[..end]
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">");
                rest = rest.get(end + 1..).unwrap_or("");
                // html5lib's `use_best_quote_char`.
                let quote = if raw.contains('"') && !raw.contains('\'') {
                    '\''
                } else {
                    '"'
                };
                let raw = if quote == '"' {
                    raw.replace('"', "&quot;")
                } else {
                    raw
                };
                out.push(quote);
                let mut value = raw.as_str();
                while let Some(i) = value.find(AMP) {
                    out.push_str(&value[..i]);
                    value = restore_amp(&mut out, &value[i + AMP.len_utf8()..], true);
                }
                out.push_str(value);
                out.push(quote);
            }
            '>' if in_tag => {
                in_tag = false;
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// One placeholder followed by `rest`: writes it, returns what is left of `rest`.
fn restore_amp<'a>(out: &mut String, rest: &'a str, in_value: bool) -> &'a str {
    match match_entity(rest).filter(|e| !in_value || convert_entity(e).is_some()) {
        Some(e) => {
            out.push('&');
            out.push_str(&e);
            out.push(';');
            skip_chars(rest, e.chars().count() + 1)
        }
        None => {
            out.push_str("&amp;");
            rest
        }
    }
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

#[cfg(test)]
mod bleach_vectors;
