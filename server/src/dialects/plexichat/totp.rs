//! RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s steps) and base32 secrets.

use hmac::{KeyInit, Mac};

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn unbase32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = B32.iter().position(|x| *x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The 6-digit code of `secret` for time step `counter`.
pub fn hotp(secret: &[u8], counter: u64) -> String {
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[h.len() - 1] & 0x0f) as usize;
    let n = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]) % 1_000_000;
    format!("{n:06}")
}

/// The time step of a moment (ms).
pub fn step(now_ms: i64) -> u64 {
    (now_ms.max(0) / 30_000) as u64
}

/// The step (within ±1 of now) whose code is `code`.
pub fn check(secret_b32: &str, code: &str, now_ms: i64) -> Option<u64> {
    let secret = unbase32(secret_b32)?;
    let now = step(now_ms);
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|s| hotp(&secret, *s) == code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc_6238_vector() {
        // RFC 6238 appendix B, SHA1, T = 59 s → 94287082 (8 digits) → 287082.
        let secret = b"12345678901234567890";
        assert_eq!(super::hotp(secret, 1), "287082");
        let b = super::base32(secret);
        assert_eq!(super::unbase32(&b).unwrap(), secret);
    }
}
