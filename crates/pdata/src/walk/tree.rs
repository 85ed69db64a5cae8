//! The shape the three signals share: a resource node holds scope nodes, a scope node holds
//! items, and each node is an envelope (resource or scope, plus a schema URL) around its
//! children. The walks, `retain` and grouping are written once over this shape.

use std::collections::HashMap;
use std::hash::Hash;

use crate::proto::common::v1::InstrumentationScope;
use crate::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::proto::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::{EnvelopeMut, EnvelopeRef, ResourceMut, ResourceRef, ScopeMut, ScopeRef};

/// One level of the request tree: an envelope, its schema URL, and children.
pub(crate) trait Node {
    /// `Resource` or `InstrumentationScope`.
    type Envelope;
    /// Scope nodes, or items.
    type Child;
    fn parts(&self) -> (Option<&Self::Envelope>, &str, &[Self::Child]);
    /// Disjoint mutable borrows of the three parts.
    fn parts_mut(&mut self) -> (&mut Option<Self::Envelope>, &mut String, &mut Vec<Self::Child>);
    /// A copy of the envelope around `children` (the only clone grouping makes).
    fn with_children(&self, children: Vec<Self::Child>) -> Self;
}

macro_rules! node {
    ($ty:ty, $env:ty, $env_field:ident, $child:ty, $children:ident) => {
        impl Node for $ty {
            type Envelope = $env;
            type Child = $child;
            fn parts(&self) -> (Option<&$env>, &str, &[$child]) {
                (self.$env_field.as_ref(), &self.schema_url, &self.$children)
            }
            fn parts_mut(&mut self) -> (&mut Option<$env>, &mut String, &mut Vec<$child>) {
                (&mut self.$env_field, &mut self.schema_url, &mut self.$children)
            }
            fn with_children(&self, $children: Vec<$child>) -> Self {
                Self { $env_field: self.$env_field.clone(), $children, schema_url: self.schema_url.clone() }
            }
        }
    };
}

node!(ResourceSpans, Resource, resource, ScopeSpans, scope_spans);
node!(ScopeSpans, InstrumentationScope, scope, Span, spans);
node!(ResourceLogs, Resource, resource, ScopeLogs, scope_logs);
node!(ScopeLogs, InstrumentationScope, scope, LogRecord, log_records);
node!(ResourceMetrics, Resource, resource, ScopeMetrics, scope_metrics);
node!(ScopeMetrics, InstrumentationScope, scope, Metric, metrics);

/// Every item with its resource and scope, read-only.
pub(crate) fn items<'a, R, S, I>(
    resources: &'a [R],
) -> impl Iterator<Item = (ResourceRef<'a>, ScopeRef<'a>, &'a I)> + 'a
where
    R: Node<Envelope = Resource, Child = S>,
    S: Node<Envelope = InstrumentationScope, Child = I> + 'a,
    I: 'a,
{
    resources.iter().flat_map(|r| {
        let (resource, resource_url, scopes) = r.parts();
        let resource = EnvelopeRef::new(resource, resource_url);
        scopes.iter().flat_map(move |s| {
            let (scope, scope_url, items) = s.parts();
            let scope = EnvelopeRef::new(scope, scope_url);
            items.iter().map(move |i| (resource, scope, i))
        })
    })
}

/// Calls `f` on every item with its resource and scope; stops at the first error.
pub(crate) fn try_walk<R, S, I, E>(
    resources: &mut [R],
    mut f: impl FnMut(ResourceMut<'_>, ScopeMut<'_>, &mut I) -> Result<(), E>,
) -> Result<(), E>
where
    R: Node<Envelope = Resource, Child = S>,
    S: Node<Envelope = InstrumentationScope, Child = I>,
{
    for r in resources {
        let (resource, resource_url, scopes) = r.parts_mut();
        for s in scopes {
            let (scope, scope_url, items) = s.parts_mut();
            for item in items {
                f(EnvelopeMut::new(resource, resource_url), EnvelopeMut::new(scope, scope_url), item)?;
            }
        }
    }
    Ok(())
}

/// Keeps the items `keep` accepts, then drops scopes left without items and resources left
/// without scopes (also those that were empty before). Returns how many items went.
pub(crate) fn retain<R, S, I>(
    resources: &mut Vec<R>,
    mut keep: impl FnMut(ResourceMut<'_>, ScopeMut<'_>, &mut I) -> bool,
) -> usize
where
    R: Node<Envelope = Resource, Child = S>,
    S: Node<Envelope = InstrumentationScope, Child = I>,
{
    let mut removed = 0;
    resources.retain_mut(|r| {
        let (resource, resource_url, scopes) = r.parts_mut();
        scopes.retain_mut(|s| {
            let (scope, scope_url, items) = s.parts_mut();
            let before = items.len();
            items.retain_mut(|i| keep(EnvelopeMut::new(resource, resource_url), EnvelopeMut::new(scope, scope_url), i));
            removed += before - items.len();
            !items.is_empty()
        });
        !scopes.is_empty()
    });
    removed
}

/// Splits `resources` into groups by `key(item)`, in the order keys first appear. Items
/// move; each group gets one copy of each resource and scope envelope it has items from.
/// The key is borrowed from the item and turned into an owned key once per group.
pub(crate) fn group_items<R, S, I, Q>(resources: Vec<R>, mut key: impl FnMut(&I) -> &Q) -> Vec<(Q::Owned, Vec<R>)>
where
    R: Node<Envelope = Resource, Child = S>,
    S: Node<Envelope = InstrumentationScope, Child = I>,
    Q: ?Sized + Hash + Eq + ToOwned,
    Q::Owned: Hash + Eq + std::borrow::Borrow<Q>,
{
    let mut index: HashMap<Q::Owned, usize> = HashMap::new();
    // Per group: its resource nodes, and the (resource, scope) position it last took an item
    // from, so consecutive items share envelopes.
    let mut groups: Vec<(Vec<R>, (usize, usize))> = Vec::new();
    for (ri, mut r) in resources.into_iter().enumerate() {
        let scopes = std::mem::take(r.parts_mut().2);
        for (si, mut s) in scopes.into_iter().enumerate() {
            let items = std::mem::take(s.parts_mut().2);
            for item in items {
                let g = match index.get(key(&item)) {
                    Some(&g) => g,
                    None => {
                        index.insert(key(&item).to_owned(), groups.len());
                        groups.push((Vec::new(), (usize::MAX, usize::MAX)));
                        groups.len() - 1
                    }
                };
                let (nodes, last) = &mut groups[g];
                if last.0 != ri {
                    nodes.push(r.with_children(Vec::new()));
                    *last = (ri, usize::MAX);
                }
                let r_last = nodes.len() - 1;
                let scopes = nodes[r_last].parts_mut().2;
                if last.1 != si {
                    scopes.push(s.with_children(Vec::new()));
                    last.1 = si;
                }
                let s_last = scopes.len() - 1;
                scopes[s_last].parts_mut().2.push(item);
            }
        }
    }
    in_first_seen_order(index, groups.into_iter().map(|(nodes, _)| nodes).collect())
}

/// Splits `resources` into `n` groups by `key(resource, item)`, an index below `n` (larger
/// ones go to the last group). Items move; a group gets one copy of each resource and
/// scope envelope it has items from. Used to send each item to its backend, where the
/// keys are backend indices and a hash map would be wasted.
pub(crate) fn partition_items<R, S, I>(
    resources: Vec<R>,
    n: usize,
    mut key: impl FnMut(Option<&Resource>, &I) -> usize,
) -> Vec<Vec<R>>
where
    R: Node<Envelope = Resource, Child = S>,
    S: Node<Envelope = InstrumentationScope, Child = I>,
{
    let n = n.max(1);
    // Per group: its resource nodes, and the (resource, scope) position it last took an item
    // from, so consecutive items share envelopes.
    let mut groups: Vec<(Vec<R>, (usize, usize))> = (0..n).map(|_| (Vec::new(), (usize::MAX, usize::MAX))).collect();
    for (ri, mut r) in resources.into_iter().enumerate() {
        let scopes = std::mem::take(r.parts_mut().2);
        for (si, mut s) in scopes.into_iter().enumerate() {
            let items = std::mem::take(s.parts_mut().2);
            for item in items {
                let g = key(r.parts().0, &item).min(n - 1);
                let (nodes, last) = &mut groups[g];
                if last.0 != ri {
                    nodes.push(r.with_children(Vec::new()));
                    *last = (ri, usize::MAX);
                }
                let r_last = nodes.len() - 1;
                let scopes = nodes[r_last].parts_mut().2;
                if last.1 != si {
                    scopes.push(s.with_children(Vec::new()));
                    last.1 = si;
                }
                let s_last = scopes.len() - 1;
                scopes[s_last].parts_mut().2.push(item);
            }
        }
    }
    groups.into_iter().map(|(nodes, _)| nodes).collect()
}

/// Splits `resources` into `n` groups by `key(resource node)`, an index below `n` (larger
/// ones go to the last group); resources move whole, nothing is copied.
pub(crate) fn partition_resources<R>(resources: Vec<R>, n: usize, mut key: impl FnMut(&R) -> usize) -> Vec<Vec<R>> {
    let n = n.max(1);
    let mut groups: Vec<Vec<R>> = (0..n).map(|_| Vec::new()).collect();
    for r in resources {
        let g = key(&r).min(n - 1);
        groups[g].push(r);
    }
    groups
}

/// Splits `resources` by `key(resource)`, in the order keys first appear; resources move
/// whole, nothing is copied.
pub(crate) fn group_resources<R, K: Hash + Eq>(resources: Vec<R>, mut key: impl FnMut(&R) -> K) -> Vec<(K, Vec<R>)> {
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut groups: Vec<Vec<R>> = Vec::new();
    for r in resources {
        let g = *index.entry(key(&r)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(r);
    }
    in_first_seen_order(index, groups)
}

/// Pairs each group with its key, moving the keys out of the index (so they are never
/// cloned).
fn in_first_seen_order<K, T>(index: HashMap<K, usize>, groups: Vec<T>) -> Vec<(K, T)> {
    let mut keys: Vec<Option<K>> = std::iter::repeat_with(|| None).take(groups.len()).collect();
    for (k, g) in index {
        keys[g] = Some(k);
    }
    keys.into_iter().zip(groups).filter_map(|(k, g)| Some((k?, g))).collect()
}
