//! The TCP listener: a connection cap derived from the open-file limit, clean refusal over it,
//! and no crash or busy loop when the process runs out of file descriptors.
//!
//! - Every accepted connection holds a permit of a semaphore sized `max_connections`; the permit
//!   lives in the IO object, so it is released when the connection (or the WebSocket it was
//!   upgraded to) is dropped.
//! - Over the cap, the connection is answered `503 Service Unavailable` and closed.
//! - If `accept` still fails with EMFILE/ENFILE (descriptors used elsewhere), a reserved
//!   descriptor is released, the pending connection accepted and closed at once, the reserve
//!   reopened, and accepting pauses briefly, so the backlog does not spin the loop.

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Default number of descriptors kept back for the database, listeners, logs and the runtime.
pub const FD_RESERVE: usize = 64;

/// Raises the soft open-file limit to the hard limit; returns the resulting soft limit.
pub fn raise_nofile_limit() -> usize {
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
    }
}

/// The connection cap: `configured`, or the open-file limit minus `reserve`, whichever is lower.
pub fn connection_cap(configured: usize, nofile: usize, reserve: usize) -> usize {
    let derived = nofile.saturating_sub(reserve).max(1);
    if configured == 0 {
        derived
    } else {
        configured.min(derived)
    }
}

pub struct GuardedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    reserve: Option<std::fs::File>,
}

impl GuardedListener {
    pub fn new(inner: TcpListener, permits: Arc<Semaphore>) -> Self {
        Self {
            inner,
            permits,
            reserve: std::fs::File::open("/dev/null").ok(),
        }
    }
}

/// An accepted connection; holds its slot of the connection cap.
pub struct Guarded {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

/// The peer address of a connection (axum `ConnectInfo`).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, GuardedListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, GuardedListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

fn is_fd_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS) | Some(libc::ENOMEM)
    )
}

const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 31\r\nRetry-After: 5\r\n\r\nserver at connection capacity\r\n";

impl axum::serve::Listener for GuardedListener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => match self.permits.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let _ = stream.set_nodelay(true);
                        return (
                            Guarded {
                                stream,
                                _permit: permit,
                            },
                            addr,
                        );
                    }
                    Err(_) => {
                        tracing::warn!(%addr, "refusing a connection: at connection capacity");
                        tokio::spawn(async move {
                            let mut stream = stream;
                            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                                let _ = stream.write_all(REFUSAL).await;
                                let _ = stream.shutdown().await;
                            })
                            .await;
                        });
                    }
                },
                Err(e) if is_fd_exhaustion(&e) => {
                    tracing::error!(error = %e, "out of file descriptors: refusing a pending connection");
                    // Free the reserve, take the pending connection off the backlog, close it.
                    self.reserve = None;
                    if let Ok(Ok((stream, _))) =
                        tokio::time::timeout(Duration::from_millis(10), self.inner.accept()).await
                    {
                        drop(stream);
                    }
                    self.reserve = std::fs::File::open("/dev/null").ok();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                    ) {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
