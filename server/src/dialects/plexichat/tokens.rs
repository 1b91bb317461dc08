//! Plexichat token formats: sessions `<session_snowflake>.<43-char base64url>`, stored hashed in
//! the core's token table (so any dialect's tokens authenticate here too).

/// 32 random bytes.
fn random32() -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    out[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    out
}

/// Unpadded base64url.
pub fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        let chars = chunk.len() + 1;
        for i in 0..chars {
            s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    s
}

/// A new session token.
pub fn new_session_token() -> String {
    format!("{}.{}", super::ids::snowflake(), base64url(&random32()))
}

/// A new gateway session id (32 hex characters).
pub fn new_gateway_session_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_token_shape() {
        let t = super::new_session_token();
        let (id, secret) = t.split_once('.').unwrap();
        assert!(id.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(secret.len(), 43);
        assert_eq!(super::base64url(b"foob"), "Zm9vYg");
    }
}
