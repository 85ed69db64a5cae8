//! Lingering close: after the server has said its last word on a connection, it shuts
//! down its sending side and reads and discards what the client is still sending, up to a
//! byte budget and a deadline, before closing.
//!
//! Why: a server that answers early (413 for a body over the limit, 401, 415, 429 before
//! the body is read) and then closes with the rest of the body unread makes the kernel
//! send a TCP reset. The client, still writing its body, sees "broken pipe" or
//! "connection reset" instead of the answer, and OTLP clients retry such errors where a
//! 413 would have told them not to. Go's `net/http` waits after a half-close for the same
//! reason (`closeWriteAndWait`); reading the rest also keeps the reset from cutting the
//! answer short when the client is slow.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Bytes discarded at most after the answer; a client sending more gets the reset.
pub(super) const LINGER_MAX_BYTES: u64 = 64 << 20;
/// How long the rest of a body is waited for after the answer.
pub(super) const LINGER_MAX_TIME: Duration = Duration::from_secs(5);

/// A connection's byte stream whose shutdown lingers (see the module docs). Reading and
/// writing pass straight through.
pub(super) struct Lingering<I> {
    io: I,
    stop: CancellationToken,
    state: State,
}

enum State {
    Open,
    Draining { deadline: Pin<Box<tokio::time::Sleep>>, stopping: Pin<Box<WaitForCancellationFutureOwned>>, left: u64 },
    Closed,
}

impl<I> Lingering<I> {
    /// Wraps `io`; the receiver stopping (`stop`) cuts a lingering close short.
    pub(super) fn new(io: I, stop: CancellationToken) -> Self {
        Lingering { io, stop, state: State::Open }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Lingering<I> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<I> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Open => {
                    // Flushes what is buffered (the answer), then FIN (TLS: close_notify first).
                    let r = ready!(Pin::new(&mut this.io).poll_shutdown(cx));
                    if r.is_err() {
                        this.state = State::Closed;
                        return Poll::Ready(r);
                    }
                    this.state = State::Draining {
                        deadline: Box::pin(tokio::time::sleep(LINGER_MAX_TIME)),
                        stopping: Box::pin(this.stop.clone().cancelled_owned()),
                        left: LINGER_MAX_BYTES,
                    };
                }
                State::Draining { deadline, stopping, left } => {
                    if deadline.as_mut().poll(cx).is_ready() || stopping.as_mut().poll(cx).is_ready() {
                        this.state = State::Closed;
                        continue;
                    }
                    let mut scratch = [0u8; 8192];
                    let mut rb = ReadBuf::new(&mut scratch);
                    match ready!(Pin::new(&mut this.io).poll_read(cx, &mut rb)) {
                        Ok(()) if !rb.filled().is_empty() => {
                            *left = left.saturating_sub(rb.filled().len() as u64);
                            if *left == 0 {
                                this.state = State::Closed;
                            }
                        }
                        // End of stream (the client closed after reading the answer) or an error.
                        _ => this.state = State::Closed,
                    }
                }
                State::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// The server answers before reading a large upload and closes: with lingering the
    /// client finishes writing and reads the answer; the server's close reads the rest.
    #[tokio::test]
    async fn client_reads_the_answer_after_writing_everything() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut io = Lingering::new(tcp, CancellationToken::new());
            let mut head = [0u8; 16];
            io.read_exact(&mut head).await.expect("head");
            io.write_all(b"refused").await.expect("answer");
            io.shutdown().await.expect("lingering close");
        });
        let mut client = TcpStream::connect(addr).await.expect("connect");
        // Far more than the socket buffers hold: without lingering the server's close
        // with unread data resets the connection and this write fails.
        let upload = vec![7u8; 8 << 20];
        client.write_all(&upload).await.expect("the whole upload is taken");
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.expect("answer then end of stream");
        assert_eq!(answer, b"refused");
        drop(client);
        server.await.expect("server");
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_closes_is_dropped_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let _client = TcpStream::connect(addr).await.expect("connect");
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut io = Lingering::new(tcp, CancellationToken::new());
        let started = tokio::time::Instant::now();
        io.shutdown().await.expect("close");
        assert!(started.elapsed() >= LINGER_MAX_TIME);
    }
}
