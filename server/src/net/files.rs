//! Serving stored files over HTTP (attachments, emoji, server assets): streamed from disk, with
//! `Content-Length`, `Last-Modified`, `Accept-Ranges` and single-range requests (206/416), as
//! a static file server answers them.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` against a file of `len` bytes: Ok(None) without a usable
/// Range header, Err(()) for an unsatisfiable one.
fn parse_range(headers: &HeaderMap, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(v) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Several ranges: answer the whole file, as allowed.
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 || len == 0 {
            return Err(());
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<u64>().map_err(|_| ())?.min(len.saturating_sub(1))
        };
        if start >= len || end < start {
            return Err(());
        }
        (start, end)
    };
    Ok(Some(range))
}

/// The file at `path` as a response with `content_type` and `extra` headers. Err when the file
/// cannot be opened (the caller answers in its dialect's words).
pub async fn serve_file(
    path: &Path,
    content_type: &str,
    request: &HeaderMap,
    extra: &[(header::HeaderName, String)],
) -> std::io::Result<Response> {
    let mut file = tokio::fs::File::open(path).await?;
    let meta = file.metadata().await?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not a file",
        ));
    }
    let len = meta.len();
    let mut headers = HeaderMap::new();
    let mut set = |k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            headers.insert(k, v);
        }
    };
    set(header::CONTENT_TYPE, content_type);
    set(header::ACCEPT_RANGES, "bytes");
    if let Ok(modified) = meta.modified() {
        set(header::LAST_MODIFIED, &httpdate::fmt_http_date(modified));
    }
    for (k, v) in extra {
        set(k.clone(), v);
    }
    let (status, start, count) = match parse_range(request, len) {
        Ok(None) => (StatusCode::OK, 0, len),
        Ok(Some((a, b))) => {
            set(header::CONTENT_RANGE, &format!("bytes {a}-{b}/{len}"));
            (StatusCode::PARTIAL_CONTENT, a, b - a + 1)
        }
        Err(()) => {
            set(header::CONTENT_RANGE, &format!("bytes */{len}"));
            headers.remove(header::CONTENT_TYPE);
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response());
        }
    };
    set(header::CONTENT_LENGTH, &count.to_string());
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start)).await?;
    }
    let body = Body::from_stream(ReaderStream::with_capacity(file.take(count), 64 * 1024));
    Ok((status, headers, body).into_response())
}

/// The MIME type of a file by its extension (what a static file server sends).
pub fn mime_for_name(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("bmp") => "image/bmp",
        Some("html" | "htm") => "text/html",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(range: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::RANGE, HeaderValue::from_str(range).unwrap());
        m
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(&HeaderMap::new(), 10), Ok(None));
        assert_eq!(parse_range(&h("bytes=0-3"), 10), Ok(Some((0, 3))));
        assert_eq!(parse_range(&h("bytes=4-"), 10), Ok(Some((4, 9))));
        assert_eq!(parse_range(&h("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(&h("bytes=5-100"), 10), Ok(Some((5, 9))));
        assert_eq!(parse_range(&h("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(&h("bytes=0-1,3-4"), 10), Ok(None));
        assert_eq!(parse_range(&h("items=0-1"), 10), Ok(None));
    }
}
