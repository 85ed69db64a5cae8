//! Walks and `retain` over the envelopes themselves: every resource (OTTL `resource`
//! context) and every scope with its resource (`scope` context), for the three signals.
//!
//! These are methods of [`EnvelopeWalk`], implemented for the three export requests, so a
//! processor that handles every signal writes its resource or scope step once.

use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::common::v1::InstrumentationScope;
use crate::proto::resource::v1::Resource;

use super::tree::Node;
use super::{EnvelopeMut, ResourceMut, ScopeMut};

mod sealed {
    pub trait Sealed {}
}

/// Resource- and scope-level walks of an export request.
pub trait EnvelopeWalk: sealed::Sealed {
    /// Calls `f` on every resource in order, stopping at its first error.
    fn try_for_each_resource_mut<E>(&mut self, f: impl FnMut(ResourceMut<'_>) -> Result<(), E>) -> Result<(), E>;

    /// Calls `f` on every scope with its resource in order, stopping at its first error.
    fn try_for_each_scope_mut<E>(
        &mut self,
        f: impl FnMut(ResourceMut<'_>, ScopeMut<'_>) -> Result<(), E>,
    ) -> Result<(), E>;

    /// Keeps the resources `keep` accepts (and drops those left without scopes). Returns
    /// how many items (spans, log records, metrics) went with the removed resources.
    fn retain_resources(&mut self, keep: impl FnMut(ResourceMut<'_>) -> bool) -> usize;

    /// Keeps the scopes `keep` accepts, then drops resources left without scopes. Returns
    /// how many items went with the removed scopes.
    fn retain_scopes(&mut self, keep: impl FnMut(ResourceMut<'_>, ScopeMut<'_>) -> bool) -> usize;
}

fn for_each_resource<R: Node<Envelope = Resource>, E>(
    resources: &mut [R],
    mut f: impl FnMut(ResourceMut<'_>) -> Result<(), E>,
) -> Result<(), E> {
    for r in resources {
        let (resource, url, _) = r.parts_mut();
        f(EnvelopeMut::new(resource, url))?;
    }
    Ok(())
}

fn for_each_scope<R, S, E>(
    resources: &mut [R],
    mut f: impl FnMut(ResourceMut<'_>, ScopeMut<'_>) -> Result<(), E>,
) -> Result<(), E>
where
    R: Node<Envelope = Resource, Child = S>,
    S: Node<Envelope = InstrumentationScope>,
{
    for r in resources {
        let (resource, url, scopes) = r.parts_mut();
        for s in scopes {
            let (scope, scope_url, _) = s.parts_mut();
            f(EnvelopeMut::new(resource, url), EnvelopeMut::new(scope, scope_url))?;
        }
    }
    Ok(())
}

fn items_in<R, S>(r: &mut R) -> usize
where
    R: Node<Child = S>,
    S: Node,
{
    r.parts_mut().2.iter_mut().map(|s| s.parts_mut().2.len()).sum()
}

fn retain_resources<R, S>(resources: &mut Vec<R>, mut keep: impl FnMut(ResourceMut<'_>) -> bool) -> usize
where
    R: Node<Envelope = Resource, Child = S>,
    S: Node,
{
    let mut removed = 0;
    resources.retain_mut(|r| {
        let (resource, url, _) = r.parts_mut();
        let kept = keep(EnvelopeMut::new(resource, url));
        if !kept {
            removed += items_in(r);
        }
        kept && !r.parts_mut().2.is_empty()
    });
    removed
}

fn retain_scopes<R, S>(resources: &mut Vec<R>, mut keep: impl FnMut(ResourceMut<'_>, ScopeMut<'_>) -> bool) -> usize
where
    R: Node<Envelope = Resource, Child = S>,
    S: Node<Envelope = InstrumentationScope>,
{
    let mut removed = 0;
    resources.retain_mut(|r| {
        let (resource, url, scopes) = r.parts_mut();
        scopes.retain_mut(|s| {
            let (scope, scope_url, items) = s.parts_mut();
            let n = items.len();
            let kept = keep(EnvelopeMut::new(resource, url), EnvelopeMut::new(scope, scope_url));
            if !kept {
                removed += n;
            }
            kept
        });
        !scopes.is_empty()
    });
    removed
}

macro_rules! envelope_walk {
    ($req:ty, $field:ident) => {
        impl sealed::Sealed for $req {}

        impl EnvelopeWalk for $req {
            fn try_for_each_resource_mut<E>(
                &mut self,
                f: impl FnMut(ResourceMut<'_>) -> Result<(), E>,
            ) -> Result<(), E> {
                for_each_resource(&mut self.$field, f)
            }

            fn try_for_each_scope_mut<E>(
                &mut self,
                f: impl FnMut(ResourceMut<'_>, ScopeMut<'_>) -> Result<(), E>,
            ) -> Result<(), E> {
                for_each_scope(&mut self.$field, f)
            }

            fn retain_resources(&mut self, keep: impl FnMut(ResourceMut<'_>) -> bool) -> usize {
                retain_resources(&mut self.$field, keep)
            }

            fn retain_scopes(&mut self, keep: impl FnMut(ResourceMut<'_>, ScopeMut<'_>) -> bool) -> usize {
                retain_scopes(&mut self.$field, keep)
            }
        }
    };
}

envelope_walk!(ExportTraceServiceRequest, resource_spans);
envelope_walk!(ExportLogsServiceRequest, resource_logs);
envelope_walk!(ExportMetricsServiceRequest, resource_metrics);
