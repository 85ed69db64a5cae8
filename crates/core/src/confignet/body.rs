//! Reading a request body under three bounds at once: its size, a deadline
//! (`read_timeout`), and the receiver's budget of bytes in flight, reserved as the bytes
//! arrive. Both receiver transports (OTLP/HTTP and gRPC) read bodies here, so a client
//! that sends headers and then trickles its body holds neither memory nor an admission
//! slot past the deadline, and a body of unknown length reserves only what it sent.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Default deadline for receiving a whole request body once its headers are in
/// (Switchyard; the Collector sets none, so Go's server waits forever).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Request bytes one receiver holds at once (being read, decoded or in the pipeline).
/// Shared by its gRPC and HTTP ports; a request that does not fit is refused before more
/// of it is read, with a retryable answer.
#[derive(Clone, Debug)]
pub struct BytesInFlight {
    sem: Arc<Semaphore>,
    limit_kib: u32,
}

impl BytesInFlight {
    /// A budget of `bytes`, counted in KiB.
    pub fn new(bytes: usize) -> Self {
        let limit_kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).max(1);
        BytesInFlight { sem: Arc::new(Semaphore::new(limit_kib as usize)), limit_kib }
    }

    /// The whole budget, in bytes (for messages).
    pub fn limit_bytes(&self) -> u64 {
        u64::from(self.limit_kib) * 1024
    }

    /// Reserves room for `bytes` now; more is added by [`read_body`] as the body arrives.
    /// `None` when the budget cannot hold them.
    pub fn reserve(&self, bytes: usize) -> Option<Reservation> {
        let mut r = Reservation { budget: self.clone(), permit: None, kib: 0 };
        r.grow_to(bytes).then_some(r)
    }

    /// Bytes reserved now, by every request together (the memory-used self-metric).
    pub fn used_bytes(&self) -> u64 {
        (u64::from(self.limit_kib)).saturating_sub(self.sem.available_permits() as u64) * 1024
    }

    /// KiB not reserved now (for tests and status pages).
    pub fn available_kib(&self) -> usize {
        self.sem.available_permits()
    }
}

/// Part of a [`BytesInFlight`] budget held by one request; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: BytesInFlight,
    permit: Option<OwnedSemaphorePermit>,
    kib: u32,
}

impl Reservation {
    /// Grows the reservation to cover `bytes`; `false` when the budget has no room left.
    /// Never waits: a client over budget is told to come back rather than held.
    pub fn grow_to(&mut self, bytes: usize) -> bool {
        let want = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).max(1);
        if want <= self.kib {
            return true;
        }
        if want > self.budget.limit_kib {
            return false;
        }
        match self.budget.sem.clone().try_acquire_many_owned(want - self.kib) {
            Ok(more) => {
                match &mut self.permit {
                    Some(p) => p.merge(more),
                    None => self.permit = Some(more),
                }
                self.kib = want;
                true
            }
            Err(_) => false,
        }
    }
}

/// Why a body was not read whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// More bytes than the limit.
    #[error("request body exceeds the limit of {0} bytes")]
    TooLarge(usize),
    /// The whole body did not arrive within the deadline.
    #[error("request body not received within {0:?} (read_timeout)")]
    Timeout(Duration),
    /// The receiver's bytes-in-flight budget is used up by other requests.
    #[error("too many bytes in flight: this receiver holds at most {0} MiB of requests at once; retry later")]
    InFlight(u64),
    /// The connection failed or the client reset the request.
    #[error("failed to read request body: {0}")]
    Read(String),
}

/// Reads `body` whole, within `timeout` when one is set. `size_hint` (a declared length) sizes the buffer; the
/// reservation grows with the bytes received. A body of several frames is joined in one
/// allocation of the declared length. A body that arrives in one frame is not copied, though
/// that frame may be a slice of the connection's read buffer and so hold more memory than
/// its length until its batch is exported: copying it cost 3–4% of HTTP max throughput to
/// save 0.8 MB of 33 MB (issue 16, `bench/results/grpc-copy-20261204.txt`; gRPC, whose
/// 256 requests in flight pinned twice their size, copies).
pub async fn read_body<B>(
    body: B,
    max_bytes: usize,
    timeout: Option<Duration>,
    reservation: &mut Reservation,
    size_hint: Option<usize>,
) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let read = collect(body, max_bytes, reservation, size_hint);
    match timeout {
        Some(t) => tokio::time::timeout(t, read).await.unwrap_or(Err(BodyError::Timeout(t))),
        None => read.await,
    }
}

async fn collect<B>(
    mut body: B,
    max_bytes: usize,
    reservation: &mut Reservation,
    size_hint: Option<usize>,
) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else { continue };
        if data.is_empty() {
            continue;
        }
        len = len.saturating_add(data.len());
        if len > max_bytes {
            return Err(BodyError::TooLarge(max_bytes));
        }
        if !reservation.grow_to(len) {
            return Err(BodyError::InFlight(reservation.budget.limit_bytes() >> 20));
        }
        if first.is_none() && buf.is_empty() {
            first = Some(data);
            continue;
        }
        if let Some(f) = first.take() {
            // The whole declared body: `buf` is empty, so this is its capacity.
            buf.reserve(size_hint.unwrap_or(0).clamp(len, max_bytes));
            buf.extend_from_slice(&f);
        }
        buf.extend_from_slice(&data);
    }
    Ok(match first {
        Some(f) => f,
        None => buf.freeze(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    fn chunks(parts: &[&'static [u8]]) -> impl hyper::body::Body<Data = Bytes, Error = std::io::Error> + Unpin {
        let frames: Vec<Result<hyper::body::Frame<Bytes>, std::io::Error>> =
            parts.iter().map(|p| Ok(hyper::body::Frame::data(Bytes::from_static(p)))).collect();
        StreamBody::new(futures::stream::iter(frames))
    }

    #[tokio::test]
    async fn reads_whole_body_and_reserves_what_arrived() {
        let budget = BytesInFlight::new(64 * 1024);
        let mut r = budget.reserve(0).expect("room");
        assert_eq!(budget.available_kib(), 63, "an empty body reserves the 1 KiB minimum");
        let body = read_body(chunks(&[b"ab", &[7u8; 3000], b"cd"]), 10_000, Some(DEFAULT_READ_TIMEOUT), &mut r, None)
            .await
            .expect("read");
        assert_eq!(body.len(), 3004);
        assert_eq!(&body[..2], b"ab");
        assert_eq!(budget.available_kib(), 64 - 3, "3004 bytes hold 3 KiB");
        drop(r);
        assert_eq!(budget.available_kib(), 64, "released on drop");
    }

    fn one_frame(data: Bytes) -> impl hyper::body::Body<Data = Bytes, Error = std::io::Error> + Unpin {
        StreamBody::new(futures::stream::iter([Ok(hyper::body::Frame::data(data))]))
    }

    #[tokio::test]
    async fn one_frame_is_not_copied() {
        let budget = BytesInFlight::new(1 << 20);
        let mut r = budget.reserve(0).expect("room");
        let frame = Bytes::from(b"exactly one frame".to_vec());
        let at = frame.as_ptr();
        let body = read_body(one_frame(frame), 100, Some(DEFAULT_READ_TIMEOUT), &mut r, Some(17)).await.expect("read");
        assert_eq!(body.as_ptr(), at, "the frame's bytes are handed on as they are");
    }

    #[tokio::test]
    async fn frames_are_joined_into_the_declared_length() {
        let budget = BytesInFlight::new(1 << 20);
        let mut r = budget.reserve(0).expect("room");
        let body = read_body(chunks(&[&[1u8; 1000], &[2u8; 3000]]), 10_000, None, &mut r, Some(4000)).await;
        let held = body.expect("read").try_into_mut().expect("the body owns its bytes");
        assert_eq!((held.len(), held.capacity()), (4000, 4000), "one allocation of the body's size");
    }

    #[tokio::test]
    async fn too_large_and_over_budget() {
        let budget = BytesInFlight::new(4 * 1024);
        let mut r = budget.reserve(0).expect("room");
        let e = read_body(chunks(&[&[0u8; 600], &[0u8; 600]]), 1000, Some(DEFAULT_READ_TIMEOUT), &mut r, None).await;
        assert!(matches!(e, Err(BodyError::TooLarge(1000))), "{e:?}");
        drop(r);
        let _other = budget.reserve(3 * 1024).expect("3 KiB of 4");
        let mut r = budget.reserve(0).expect("the last KiB");
        let e =
            read_body(chunks(&[&[0u8; 1000], &[0u8; 1000]]), 1 << 20, Some(DEFAULT_READ_TIMEOUT), &mut r, None).await;
        assert!(matches!(e, Err(BodyError::InFlight(0))), "{e:?}");
        assert!(budget.reserve(5 * 1024).is_none(), "more than the whole budget never fits");
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickling_body_times_out() {
        let budget = BytesInFlight::new(1 << 20);
        let mut r = budget.reserve(0).expect("room");
        let slow = futures::stream::unfold(0u32, |n| async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some((Ok::<_, std::io::Error>(hyper::body::Frame::data(Bytes::from_static(b"x"))), n + 1))
        });
        let body = StreamBody::new(Box::pin(slow)).boxed_unsync();
        let e = read_body(body, 1 << 20, Some(Duration::from_secs(5)), &mut r, None).await;
        assert!(matches!(e, Err(BodyError::Timeout(_))), "{e:?}");
    }
}
