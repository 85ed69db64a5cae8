//! The store of half-seen requests ("edges"): a client (or producer) span waits here,
//! keyed by its own span id, for the server (or consumer) span whose parent it is, and the
//! other way round. An edge is complete once both services are known; an edge that waits
//! longer than `ttl` expires. At most `max_items` edges wait; when full, the oldest is
//! expired to make room if its time is up, otherwise the new edge is refused.
//!
//! Every edge gets the same ttl, so insertion order is expiry order: a queue of (key,
//! generation) beside the map finds the oldest edge in O(1); entries of edges completed
//! meanwhile are skipped when they reach the front.

use std::collections::{HashMap, VecDeque};

/// What kind of request an edge is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionType {
    /// A direct request (client → server span).
    Unknown,
    /// Through a queue (producer → consumer span).
    MessagingSystem,
    /// To a database (a client span naming it).
    Database,
    /// One side was made up when the edge expired.
    VirtualNode,
}

impl ConnectionType {
    /// The `connection_type` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionType::Unknown => "",
            ConnectionType::MessagingSystem => "messaging_system",
            ConnectionType::Database => "database",
            ConnectionType::VirtualNode => "virtual_node",
        }
    }
}

/// Identifies an edge: the trace, and the client span's id (the server's parent id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    trace: [u8; 16],
    span: [u8; 8],
}

impl Key {
    /// A key from ids as OTLP carries them (shorter ids are zero-padded).
    pub fn new(trace_id: &[u8], span_id: &[u8]) -> Key {
        let mut k = Key { trace: [0; 16], span: [0; 8] };
        for (d, s) in k.trace.iter_mut().zip(trace_id) {
            *d = *s;
        }
        for (d, s) in k.span.iter_mut().zip(span_id) {
            *d = *s;
        }
        k
    }

    /// Whether the span id is empty: the edge came from a root server span.
    pub fn span_id_is_empty(&self) -> bool {
        self.span == [0; 8]
    }
}

/// A request between two services, as far as it has been seen.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Its key.
    pub key: Key,
    /// The kind of request.
    pub connection_type: ConnectionType,
    /// The calling service ("" until its span is seen).
    pub client: String,
    /// The called service or database ("" until known).
    pub server: String,
    /// Client span duration, seconds.
    pub client_latency: f64,
    /// Server span duration, seconds.
    pub server_latency: f64,
    /// Either side had an error status.
    pub failed: bool,
    /// Extra labels (`client_<dim>`, `server_<dim>`), in the order found.
    pub dimensions: Vec<(String, String)>,
    /// The client span's peer attribute (name, value) naming a virtual server.
    pub peer: Option<(String, String)>,
    /// Which side was made up (`client`, `server`), for `virtual_node_extra_label`.
    pub virtual_node: &'static str,
    expires_at: u64,
    generation: u64,
}

impl Edge {
    fn new(key: Key, expires_at: u64, generation: u64) -> Edge {
        Edge {
            key,
            connection_type: ConnectionType::Unknown,
            client: String::new(),
            server: String::new(),
            client_latency: 0.0,
            server_latency: 0.0,
            failed: false,
            dimensions: Vec::new(),
            peer: None,
            virtual_node: "",
            expires_at,
            generation,
        }
    }

    /// Both services are known.
    pub fn is_complete(&self) -> bool {
        !self.client.is_empty() && !self.server.is_empty()
    }

    /// Sets a dimension label, replacing an earlier value of the same name.
    pub fn set_dimension(&mut self, name: String, value: String) {
        match self.dimensions.iter_mut().find(|(k, _)| *k == name) {
            Some(d) => d.1 = value,
            None => self.dimensions.push((name, value)),
        }
    }
}

/// What [`Store::upsert`] did.
#[derive(Debug)]
pub enum Upserted {
    /// The edge is complete (and no longer stored).
    Complete {
        /// The edge.
        edge: Edge,
        /// It was created by this call.
        new: bool,
    },
    /// The edge waits for its other half.
    Waiting {
        /// It was created by this call.
        new: bool,
    },
    /// The store is full and nothing could be expired: the span is dropped.
    Full,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    edges: HashMap<Key, Edge>,
    order: VecDeque<(Key, u64)>,
    ttl: u64,
    max_items: usize,
    generation: u64,
}

impl Store {
    /// An empty store; `ttl` in nanoseconds.
    pub fn new(ttl: u64, max_items: usize) -> Store {
        Store { edges: HashMap::new(), order: VecDeque::new(), ttl, max_items, generation: 0 }
    }

    /// Edges waiting.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Updates the edge of `key` with `update`, creating it (expiring at `now` + ttl) if
    /// new. Expired edges pushed out to make room are appended to `expired`.
    pub fn upsert(&mut self, key: Key, now: u64, expired: &mut Vec<Edge>, update: impl FnOnce(&mut Edge)) -> Upserted {
        let complete = match self.edges.get_mut(&key) {
            Some(edge) => {
                update(edge);
                edge.is_complete()
            }
            None => return self.insert(key, now, expired, update),
        };
        if !complete {
            return Upserted::Waiting { new: false };
        }
        match self.edges.remove(&key) {
            Some(edge) => Upserted::Complete { edge, new: false },
            None => Upserted::Waiting { new: false },
        }
    }

    fn insert(&mut self, key: Key, now: u64, expired: &mut Vec<Edge>, update: impl FnOnce(&mut Edge)) -> Upserted {
        self.generation += 1;
        let mut edge = Edge::new(key, now.saturating_add(self.ttl), self.generation);
        update(&mut edge);
        if edge.is_complete() {
            return Upserted::Complete { edge, new: true };
        }
        if self.edges.len() >= self.max_items {
            match self.pop_expired(now) {
                Some(old) => expired.push(old),
                None => return Upserted::Full,
            }
        }
        self.order.push_back((key, edge.generation));
        self.edges.insert(key, edge);
        Upserted::Waiting { new: true }
    }

    /// Removes and returns every edge whose time is up at `now`, oldest first.
    pub fn expire(&mut self, now: u64) -> Vec<Edge> {
        let mut out = Vec::new();
        while let Some(e) = self.pop_expired(now) {
            out.push(e);
        }
        out
    }

    /// The oldest edge if it has expired, removed; queue entries of edges that completed
    /// meanwhile are dropped on the way.
    fn pop_expired(&mut self, now: u64) -> Option<Edge> {
        while let Some((key, generation)) = self.order.front().copied() {
            match self.edges.get(&key) {
                Some(e) if e.generation == generation => {
                    if e.expires_at > now {
                        return None;
                    }
                    self.order.pop_front();
                    return self.edges.remove(&key);
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(span: u8) -> Key {
        Key::new(&[1; 16], &[span; 8])
    }

    #[test]
    fn two_halves_complete_an_edge_and_leave_the_store() {
        let mut s = Store::new(10, 100);
        let mut expired = Vec::new();
        let r = s.upsert(key(1), 0, &mut expired, |e| e.client = "a".into());
        assert!(matches!(r, Upserted::Waiting { new: true }));
        let r = s.upsert(key(1), 5, &mut expired, |e| e.server = "b".into());
        let Upserted::Complete { edge, new: false } = r else { panic!("complete: {r:?}") };
        assert_eq!((edge.client.as_str(), edge.server.as_str()), ("a", "b"));
        assert_eq!(s.len(), 0);
        assert!(s.expire(1000).is_empty(), "a completed edge never expires");
    }

    #[test]
    fn an_edge_complete_at_once_is_not_stored() {
        let mut s = Store::new(10, 1);
        let r = s.upsert(key(1), 0, &mut Vec::new(), |e| {
            e.client = "a".into();
            e.server = "db".into();
        });
        assert!(matches!(r, Upserted::Complete { new: true, .. }));
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn edges_expire_after_ttl_oldest_first() {
        let mut s = Store::new(10, 100);
        for (i, t) in [(1, 0), (2, 3), (3, 6)] {
            s.upsert(key(i), t, &mut Vec::new(), |e| e.client = format!("c{i}"));
        }
        assert!(s.expire(9).is_empty());
        let gone: Vec<String> = s.expire(13).into_iter().map(|e| e.client).collect();
        assert_eq!(gone, ["c1", "c2"]);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_full_store_makes_room_only_from_expired_edges() {
        let mut s = Store::new(10, 2);
        let mut expired = Vec::new();
        s.upsert(key(1), 0, &mut expired, |e| e.client = "c1".into());
        s.upsert(key(2), 1, &mut expired, |e| e.client = "c2".into());
        assert!(matches!(s.upsert(key(3), 5, &mut expired, |e| e.client = "c3".into()), Upserted::Full));
        assert!(matches!(
            s.upsert(key(3), 10, &mut expired, |e| e.client = "c3".into()),
            Upserted::Waiting { new: true }
        ));
        assert_eq!(expired.iter().map(|e| e.client.as_str()).collect::<Vec<_>>(), ["c1"]);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn a_completed_edge_leaves_no_stale_entry_that_blocks_expiry() {
        let mut s = Store::new(10, 100);
        s.upsert(key(1), 0, &mut Vec::new(), |e| e.client = "c1".into());
        s.upsert(key(1), 1, &mut Vec::new(), |e| e.server = "s1".into());
        s.upsert(key(2), 2, &mut Vec::new(), |e| e.client = "c2".into());
        let gone: Vec<String> = s.expire(12).into_iter().map(|e| e.client).collect();
        assert_eq!(gone, ["c2"]);
        assert!(s.order.is_empty());
    }
}
