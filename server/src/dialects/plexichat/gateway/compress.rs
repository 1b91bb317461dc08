//! Gateway compression (§1.13). Outbound, after IDENTIFY `compress: true`: one zlib stream per
//! connection, each frame compressed and sync-flushed (ends in `00 00 FF FF`), sent BINARY.
//! Inbound: a BINARY frame starting like a zlib header is one complete zlib message, inflated on
//! its own, at most [`MAX_INFLATED`] bytes.

use flate2::write::ZlibEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};
use std::io::Write;

/// The reference's `max_decompressed_size`.
pub const MAX_INFLATED: usize = 256 * 1024;

/// Whether `b` starts with a zlib header (`78 01|5E|9C|DA`).
pub fn is_zlib(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == 0x78 && matches!(b[1], 0x01 | 0x5E | 0x9C | 0xDA)
}

/// Inflates one complete zlib message (None: corrupt, truncated or over [`MAX_INFLATED`]).
pub fn inflate(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(MAX_INFLATED + 1);
    match Decompress::new(true).decompress_vec(input, &mut out, FlushDecompress::Finish) {
        Ok(Status::StreamEnd) if out.len() <= MAX_INFLATED => Some(out),
        _ => None,
    }
}

/// The outbound zlib stream of one connection.
pub struct Deflater {
    z: ZlibEncoder<Vec<u8>>,
}

impl Default for Deflater {
    fn default() -> Self {
        Self {
            z: ZlibEncoder::new(Vec::new(), Compression::default()),
        }
    }
}

impl Deflater {
    /// `text` compressed and sync-flushed onto the stream (`flush` is a zlib sync flush).
    pub fn frame(&mut self, text: &[u8]) -> Vec<u8> {
        // Writing into a Vec cannot fail.
        let _ = self.z.write_all(text).and_then(|_| self.z.flush());
        std::mem::take(self.z.get_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_of_frames_inflates_back() {
        let mut d = Deflater::default();
        let mut z = Decompress::new(true);
        for text in [r#"{"op":0,"t":"READY"}"#, &"x".repeat(100_000), "{}"] {
            let f = d.frame(text.as_bytes());
            assert!(f.ends_with(&[0, 0, 0xFF, 0xFF]));
            let mut out = Vec::with_capacity(text.len() + 64);
            z.decompress_vec(&f, &mut out, FlushDecompress::Sync)
                .unwrap();
            assert_eq!(out, text.as_bytes());
        }
    }

    #[test]
    fn inflate_caps_and_rejects() {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
        std::io::Write::write_all(&mut e, br#"{"op":1,"d":null}"#).unwrap();
        let ok = e.finish().unwrap();
        assert!(is_zlib(&ok));
        assert_eq!(inflate(&ok).unwrap(), br#"{"op":1,"d":null}"#);
        assert_eq!(inflate(&ok[..ok.len() - 3]), None);
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
        std::io::Write::write_all(&mut e, &vec![b' '; MAX_INFLATED + 1]).unwrap();
        assert_eq!(inflate(&e.finish().unwrap()), None);
    }
}
