//! A TCP listener whose connections a handler can abort, so a simulator can drop a connection
//! without answering (the "connection reset" fault) even though axum owns the socket.
//!
//! Each accepted stream carries a shared [`ConnKill`] flag, handed to handlers through axum's
//! connect-info mechanism. Once the flag is set, the next read or write on the socket fails,
//! hyper closes the connection, and the socket is dropped with `SO_LINGER = 0`, so the peer sees
//! a TCP RST and no HTTP response at all.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The abort switch of one connection.
#[derive(Debug, Clone, Default)]
pub struct ConnKill(Arc<AtomicBool>);

impl ConnKill {
    /// Abort the connection: no (further) response bytes reach the peer.
    pub fn kill(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`ConnKill::kill`] was called.
    pub fn is_killed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Connected<IncomingStream<'_, SimListener>> for ConnKill {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.io().kill.clone()
    }
}

/// Wraps a [`TcpListener`]; every accepted stream gets its own [`ConnKill`].
#[derive(Debug)]
pub struct SimListener(pub TcpListener);

impl Listener for SimListener {
    type Io = SimStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((s, a)) => {
                    let _ = s.set_nodelay(true);
                    return (SimStream { inner: s, kill: ConnKill::default(), lingered: false }, a);
                }
                // Transient accept errors (peer gone before accept, fd pressure): wait briefly.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A TCP stream that fails all I/O once its [`ConnKill`] is set.
#[derive(Debug)]
pub struct SimStream {
    inner: TcpStream,
    kill: ConnKill,
    lingered: bool,
}

impl SimStream {
    fn check(&mut self) -> io::Result<()> {
        if self.kill.is_killed() {
            if !self.lingered {
                self.lingered = true;
                // Zero linger turns the close into an RST: the peer sees "connection reset".
                let _ = self.inner.set_zero_linger();
            }
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "simulated connection reset"));
        }
        Ok(())
    }
}

impl AsyncRead for SimStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.is_killed() {
            let _ = self.check();
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
