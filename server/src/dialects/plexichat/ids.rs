//! Ids on the wire. Plexichat ids are strings of digits (snowflakes); core ids are UUIDv7. A
//! UUID is sent as its 128-bit value in decimal: digits only, reversible without a lookup, and
//! ordered like the ids themselves (UUIDv7 starts with its millisecond timestamp). Ids that are
//! not UUIDs (IP users of the reaction chat) are sent as they are.

/// The wire form of a core id.
pub fn wire(core: &str) -> String {
    match uuid::Uuid::try_parse(core) {
        Ok(u) => u.as_u128().to_string(),
        Err(_) => core.to_owned(),
    }
}

/// The core id for a wire id (None: not an id this server issued).
pub fn core(wire: &str) -> Option<String> {
    if wire.is_empty() || !wire.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    wire.parse::<u128>()
        .ok()
        .map(|n| uuid::Uuid::from_u128(n).to_string())
}

/// The core id of a wire id given in a JSON body as a string or an integer (the reference
/// accepts both).
pub fn from_json(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => core(s),
        serde_json::Value::Number(n) => core(&n.to_string()),
        _ => None,
    }
}

/// A new snowflake: milliseconds since 2024-01-01 in the high bits, 22 random bits below.
pub fn snowflake() -> u64 {
    const EPOCH: i64 = 1_704_067_200_000;
    let ms = (crate::core::ids::now_ms() - EPOCH).max(0) as u64;
    let random = (uuid::Uuid::new_v4().as_u128() as u64) & ((1 << 22) - 1);
    (ms << 22) | random
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let id = crate::core::ids::MessageId::generate().0;
        let w = wire(&id);
        assert!(w.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(core(&w).unwrap(), id);
        assert_eq!(wire("ip:1.2.3.4"), "ip:1.2.3.4");
        assert_eq!(core("12a"), None);
    }
}
