//! How a batch is held: the OTLP bytes it arrived as, or the decoded request.
//!
//! Forwarding needs neither the fields of a request nor a tree of them: only the item count
//! and the bytes. A batch made with [`SignalData::from_encoded`](crate::SignalData::from_encoded)
//! keeps the bytes, checked by the [`crate::wire`] walker (which accepts exactly what prost
//! decodes), and decodes on first need:
//! - `request()` decodes once and caches the tree beside the bytes, so a read-only consumer
//!   (routing on a resource attribute) costs one decode and the exporter still sends the
//!   original bytes;
//! - `make_mut()` turns the batch into a decoded one, since the bytes no longer match.
//!
//! Batching concatenates encoded requests: every top-level field of an OTLP export request is
//! repeated, so the concatenation of two requests is their merge. A batch is a list of chunks,
//! each a valid request on its own (a top-level field as received, or an encoded tree), so
//! splitting takes whole chunks and decodes only a resource that must be cut.

use std::io::Write;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use prost::Message;

use crate::signal::Signal;
use crate::wire::regroup::{self, ItemKey, Split};
use crate::wire::{self, WireError};

/// An OTLP export request that can be held encoded.
pub(crate) trait WireRequest: Message + Default + Clone + PartialEq + Send + Sync + 'static {
    /// The signal whose wire schema the walker checks.
    const SIGNAL: Signal;
    /// Items, as `SignalData::item_count` counts them.
    fn count(&self) -> usize;
    /// Moves `other`'s resources to the end of `self`.
    fn extend(&mut self, other: Self);
    /// Removes and returns the first `n` items.
    fn split_front(&mut self, n: usize) -> Self;
}

/// A run of bytes that is a valid encoded request by itself.
#[derive(Clone, Debug)]
struct Chunk {
    bytes: Bytes,
    items: usize,
}

impl Chunk {
    /// Encodes a decoded request as one chunk.
    fn of<R: WireRequest>(req: &R) -> Chunk {
        Chunk { bytes: Bytes::from(req.encode_to_vec()), items: req.count() }
    }
}

/// The bytes of a batch and, once someone needed it, its decoded tree.
pub(crate) struct Encoded<R> {
    chunks: Vec<Chunk>,
    items: usize,
    len: usize,
    decoded: OnceLock<Arc<R>>,
}

impl<R> Clone for Encoded<R> {
    /// A copy to change: the chunks are shared bytes, and the cached tree is not carried over.
    fn clone(&self) -> Self {
        Encoded { chunks: self.chunks.clone(), items: self.items, len: self.len, decoded: OnceLock::new() }
    }
}

impl<R: WireRequest> Encoded<R> {
    fn new(chunks: Vec<Chunk>) -> Encoded<R> {
        let items = chunks.iter().map(|c| c.items).sum();
        let len = chunks.iter().map(|c| c.bytes.len()).sum();
        Encoded { chunks, items, len, decoded: OnceLock::new() }
    }

    /// Decodes the chunks into one request. The walker accepted them, so prost cannot refuse
    /// them; if it did, that is a defect in the walker, logged loudly rather than panicking.
    fn decode(&self) -> R {
        let mut req = R::default();
        for c in &self.chunks {
            if let Err(error) = req.merge(c.bytes.clone()) {
                tracing::error!(signal = %R::SIGNAL, %error, "A request the wire walker accepted failed to decode; this is a defect.");
            }
        }
        req
    }

    fn tree(&self) -> &R {
        self.decoded.get_or_init(|| Arc::new(self.decode()))
    }
}

/// Takes the decoded tree out of an encoded batch (decoding if nobody has yet), without a
/// copy when this holder is the only one.
fn take_tree<R: WireRequest>(e: &mut Arc<Encoded<R>>) -> Arc<R> {
    match Arc::get_mut(e) {
        Some(owned) => owned.decoded.take().unwrap_or_else(|| Arc::new(owned.decode())),
        None => e.decoded.get().cloned().unwrap_or_else(|| Arc::new(e.decode())),
    }
}

/// A batch: decoded, or encoded until first need. Cloning is a reference count either way.
pub(crate) enum Payload<R> {
    Decoded(Arc<R>),
    Encoded(Arc<Encoded<R>>),
}

impl<R> Clone for Payload<R> {
    fn clone(&self) -> Self {
        match self {
            Payload::Decoded(a) => Payload::Decoded(Arc::clone(a)),
            Payload::Encoded(e) => Payload::Encoded(Arc::clone(e)),
        }
    }
}

impl<R: WireRequest> Default for Payload<R> {
    fn default() -> Self {
        Payload::Decoded(Arc::default())
    }
}

impl<R: WireRequest> PartialEq for Payload<R> {
    fn eq(&self, other: &Self) -> bool {
        self.request() == other.request()
    }
}

impl<R: WireRequest + std::fmt::Debug> std::fmt::Debug for Payload<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::Decoded(a) => a.fmt(f),
            Payload::Encoded(e) => f
                .debug_struct("Encoded")
                .field("items", &e.items)
                .field("bytes", &e.len)
                .field("chunks", &e.chunks.len())
                .finish(),
        }
    }
}

impl<R: WireRequest> Payload<R> {
    pub(crate) fn decoded(req: R) -> Self {
        Payload::Decoded(Arc::new(req))
    }

    /// Walks `bytes` and keeps them; refused exactly when prost would refuse them.
    pub(crate) fn from_bytes(bytes: Bytes) -> Result<Self, WireError> {
        let walked = wire::walk(R::SIGNAL, &bytes)?;
        let chunks = walked
            .chunks
            .iter()
            .map(|c| Chunk { bytes: bytes.slice(c.start..c.end), items: c.items as usize })
            .collect();
        Ok(Payload::Encoded(Arc::new(Encoded {
            chunks,
            items: walked.items,
            len: bytes.len(),
            decoded: OnceLock::new(),
        })))
    }

    pub(crate) fn is_encoded(&self) -> bool {
        matches!(self, Payload::Encoded(_))
    }

    /// Replaces a decoded batch by its encoding (one chunk, exactly sized); this holder's
    /// reference to the tree is dropped.
    pub(crate) fn encode_in_place(&mut self) {
        if let Payload::Decoded(a) = self {
            let chunk = Chunk::of(&**a);
            *self = Payload::Encoded(Arc::new(Encoded::new(vec![chunk])));
        }
    }

    pub(crate) fn request(&self) -> &R {
        match self {
            Payload::Decoded(a) => a,
            Payload::Encoded(e) => e.tree(),
        }
    }

    pub(crate) fn make_mut(&mut self) -> &mut R {
        match self {
            Payload::Decoded(a) => Arc::make_mut(a),
            Payload::Encoded(e) => {
                let tree = take_tree(e);
                *self = Payload::Decoded(tree);
                // Now decoded: the recursion ends in the first arm.
                self.make_mut()
            }
        }
    }

    fn into_tree(self) -> Arc<R> {
        match self {
            Payload::Decoded(a) => a,
            Payload::Encoded(mut e) => take_tree(&mut e),
        }
    }

    pub(crate) fn into_request(self) -> R {
        Arc::unwrap_or_clone(self.into_tree())
    }

    pub(crate) fn item_count(&self) -> usize {
        match self {
            Payload::Decoded(a) => a.count(),
            Payload::Encoded(e) => e.items,
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            Payload::Decoded(a) => a.encoded_len(),
            Payload::Encoded(e) => e.len,
        }
    }

    /// Appends the encoding of the whole batch: the received bytes when nobody changed them.
    pub(crate) fn encode_to(&self, buf: &mut Vec<u8>) {
        match self {
            Payload::Decoded(a) => {
                buf.reserve(a.encoded_len());
                // Encoding into a Vec cannot run out of room.
                let _ = a.encode(buf);
            }
            Payload::Encoded(e) => {
                buf.reserve(e.len);
                for c in &e.chunks {
                    buf.extend_from_slice(&c.bytes);
                }
            }
        }
    }

    /// Writes the encoding to `w` chunk by chunk (a compressor), with no concatenated copy.
    pub(crate) fn write_encoded<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        match self {
            Payload::Decoded(a) => w.write_all(&a.encode_to_vec()),
            Payload::Encoded(e) => e.chunks.iter().try_for_each(|c| w.write_all(&c.bytes)),
        }
    }

    /// The encoding as one buffer; shared, not copied, when the batch is one received chunk.
    pub(crate) fn to_bytes(&self) -> Bytes {
        if let Payload::Encoded(e) = self {
            if let [only] = e.chunks.as_slice() {
                return only.bytes.clone();
            }
        }
        let mut buf = Vec::new();
        self.encode_to(&mut buf);
        Bytes::from(buf)
    }

    /// Appends `other`: chunks are concatenated while `self` is encoded (`other` is encoded
    /// if it was decoded); a decoded `self` takes `other`'s tree.
    pub(crate) fn append(&mut self, other: Self) {
        match self {
            Payload::Encoded(e) => {
                let mine = Arc::make_mut(e);
                mine.decoded = OnceLock::new();
                match other {
                    Payload::Encoded(theirs) => {
                        let chunks = match Arc::try_unwrap(theirs) {
                            Ok(owned) => owned.chunks,
                            Err(shared) => shared.chunks.clone(),
                        };
                        for c in chunks {
                            mine.items += c.items;
                            mine.len += c.bytes.len();
                            mine.chunks.push(c);
                        }
                    }
                    Payload::Decoded(tree) => {
                        let c = Chunk::of(&*tree);
                        mine.items += c.items;
                        mine.len += c.bytes.len();
                        mine.chunks.push(c);
                    }
                }
            }
            // An empty batch (a fresh accumulator) takes `other` as it is, encoded or not.
            Payload::Decoded(a) if **a == R::default() => *self = other,
            Payload::Decoded(a) => {
                let theirs = other.into_request();
                Arc::make_mut(a).extend(theirs);
            }
        }
    }

    /// Removes and returns the first `max_items` items. An encoded batch stays encoded: whole
    /// chunks move, and a chunk that must be cut is decoded, cut, and encoded again.
    pub(crate) fn split_off_front(&mut self, max_items: usize) -> Self {
        match self {
            Payload::Decoded(a) => Payload::decoded(Arc::make_mut(a).split_front(max_items)),
            Payload::Encoded(e) => {
                if e.items <= max_items {
                    return std::mem::take(self);
                }
                let chunks = match Arc::get_mut(e) {
                    Some(owned) => std::mem::take(&mut owned.chunks),
                    None => e.chunks.clone(),
                };
                let (front, rest) = split_chunks::<R>(chunks, max_items);
                *e = Arc::new(Encoded::new(rest));
                Payload::Encoded(Arc::new(Encoded::new(front)))
            }
        }
    }
}

impl<R: WireRequest> Payload<R> {
    /// `n` batches by the part of each item's key (`key` says where it is in the item),
    /// read from the bytes; `Err(self)` when the batch is decoded (the caller splits the
    /// tree). Every part stays encoded; the batch itself is kept when all items fall in
    /// one part. Only for traces and logs (the shape `regroup` reads).
    pub(crate) fn partition_by_key(
        self,
        key: ItemKey,
        n: usize,
        part: &mut dyn FnMut(&[u8]) -> usize,
    ) -> Result<Vec<Self>, Self> {
        let Payload::Encoded(e) = &self else { return Err(self) };
        let chunks: Vec<&[u8]> = e.chunks.iter().map(|c| &c.bytes[..]).collect();
        let n = n.max(1);
        match regroup::split(&chunks, key, n, part) {
            Ok(Split::Whole(p)) => {
                drop(chunks);
                let mut out: Vec<Self> = (0..n).map(|_| Payload::default()).collect();
                out[p.min(n - 1)] = self;
                Ok(out)
            }
            Ok(Split::Parts(parts)) => Ok(parts
                .into_iter()
                .map(|p| {
                    if p.items == 0 {
                        return Payload::default();
                    }
                    let bytes = Bytes::from(p.bytes);
                    Payload::Encoded(Arc::new(Encoded::new(vec![Chunk { bytes, items: p.items }])))
                })
                .collect()),
            Err(error) => {
                // Unreachable for walked bytes: split the decoded tree instead.
                tracing::error!(signal = %R::SIGNAL, %error, "A walked request could not be split by its bytes; this is a defect.");
                drop(chunks);
                Err(self)
            }
        }
    }
}

impl<R: WireRequest> Payload<R> {
    /// For routing by resource without decoding the items: one batch per resource element
    /// of a batch still encoded (shared bytes, no copy), and the request made of their
    /// envelopes (each resource without its scopes) in the same order. `None` when the batch
    /// is decoded, or a chunk is not exactly one resource element (a decoded batch appended
    /// to an encoded one): the caller decodes.
    pub(crate) fn resource_skeleton(&self) -> Option<(Vec<Self>, R)> {
        let Payload::Encoded(e) = self else { return None };
        let mut envelopes = Vec::new();
        let mut parts = Vec::with_capacity(e.chunks.len());
        for c in &e.chunks {
            regroup::resource_envelope(&c.bytes, &mut envelopes)?;
            parts.push(Payload::Encoded(Arc::new(Encoded::new(vec![c.clone()]))));
        }
        match R::decode(&envelopes[..]) {
            Ok(skeleton) => Some((parts, skeleton)),
            Err(error) => {
                tracing::error!(signal = %R::SIGNAL, %error, "The envelopes of a walked request failed to decode; this is a defect.");
                None
            }
        }
    }
}

/// Splits `chunks` after `max` items: whole chunks while they fit, then the one that does not
/// is cut by decoding it alone.
fn split_chunks<R: WireRequest>(chunks: Vec<Chunk>, max: usize) -> (Vec<Chunk>, Vec<Chunk>) {
    let mut front = Vec::new();
    let mut rest = Vec::new();
    let mut left = max;
    for c in chunks {
        if !rest.is_empty() || (left == 0 && c.items > 0) {
            rest.push(c);
        } else if c.items <= left {
            left -= c.items;
            front.push(c);
        } else {
            match R::decode(c.bytes.clone()) {
                Ok(mut tree) => {
                    let head = tree.split_front(left);
                    front.push(Chunk::of(&head));
                    rest.push(Chunk::of(&tree));
                }
                Err(error) => {
                    // Unreachable for walked bytes; keep the chunk whole rather than lose it.
                    tracing::error!(signal = %R::SIGNAL, %error, "A walked chunk failed to decode; this is a defect.");
                    front.push(c);
                }
            }
            left = 0;
        }
    }
    (front, rest)
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
