//! Moving the items a route matched out of the remaining request: whole resources, or
//! single items with one copy of their resource and scope envelopes (data points: also of
//! their metric), as upstream's `Move*WithContextIf` do. The match results come as a mask
//! in walk order (resource → scope → item → point), computed by the `pdata::walk` walks.
//! After an item-level move, scopes and resources left empty are removed from the source.

use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

/// A level of the request tree: an envelope around children.
pub(super) trait Level: Sized {
    type Child;
    fn children(&mut self) -> &mut Vec<Self::Child>;
    /// A copy of the envelope with no children (the only clone a move makes).
    fn empty_copy(&self) -> Self;
}

macro_rules! level {
    ($ty:ty, $child:ty, $field:ident) => {
        impl Level for $ty {
            type Child = $child;
            fn children(&mut self) -> &mut Vec<$child> {
                &mut self.$field
            }
            fn empty_copy(&self) -> Self {
                let mut copy = Self::default();
                copy.clone_from_envelope(self);
                copy
            }
        }
    };
}

/// Copies everything but the children (written per type: prost structs have no "all
/// fields but one" clone).
trait EnvelopeCopy {
    fn clone_from_envelope(&mut self, from: &Self);
}

impl EnvelopeCopy for ResourceSpans {
    fn clone_from_envelope(&mut self, from: &Self) {
        self.resource = from.resource.clone();
        self.schema_url = from.schema_url.clone();
    }
}
impl EnvelopeCopy for ScopeSpans {
    fn clone_from_envelope(&mut self, from: &Self) {
        self.scope = from.scope.clone();
        self.schema_url = from.schema_url.clone();
    }
}
impl EnvelopeCopy for ResourceLogs {
    fn clone_from_envelope(&mut self, from: &Self) {
        self.resource = from.resource.clone();
        self.schema_url = from.schema_url.clone();
    }
}
impl EnvelopeCopy for ScopeLogs {
    fn clone_from_envelope(&mut self, from: &Self) {
        self.scope = from.scope.clone();
        self.schema_url = from.schema_url.clone();
    }
}
impl EnvelopeCopy for ResourceMetrics {
    fn clone_from_envelope(&mut self, from: &Self) {
        self.resource = from.resource.clone();
        self.schema_url = from.schema_url.clone();
    }
}
impl EnvelopeCopy for ScopeMetrics {
    fn clone_from_envelope(&mut self, from: &Self) {
        self.scope = from.scope.clone();
        self.schema_url = from.schema_url.clone();
    }
}

level!(ResourceSpans, ScopeSpans, scope_spans);
level!(ScopeSpans, Span, spans);
level!(ResourceLogs, ScopeLogs, scope_logs);
level!(ScopeLogs, LogRecord, log_records);
level!(ResourceMetrics, ScopeMetrics, scope_metrics);
level!(ScopeMetrics, Metric, metrics);

/// Moves the resources whose mask bit is set out of `from`, in order.
pub(super) fn move_resources<R>(from: &mut Vec<R>, mask: &[bool]) -> Vec<R> {
    let all = std::mem::take(from);
    let mut moved = Vec::new();
    for (r, m) in all.into_iter().zip(mask.iter().copied().chain(std::iter::repeat(false))) {
        if m {
            moved.push(r);
        } else {
            from.push(r);
        }
    }
    moved
}

/// Moves the items (third level) whose mask bit is set out of `from`, each group under one
/// copy of its resource and scope; prunes emptied scopes and resources.
pub(super) fn move_items<R, S>(from: &mut Vec<R>, mask: &[bool]) -> Vec<R>
where
    R: Level<Child = S>,
    S: Level,
{
    let mut bits = mask.iter().copied();
    move_nested(from, |s: &mut S| {
        let items = std::mem::take(s.children());
        let mut moved = Vec::new();
        for item in items {
            if bits.next().unwrap_or(false) {
                moved.push(item);
            } else {
                s.children().push(item);
            }
        }
        (!moved.is_empty()).then(|| {
            let mut copy = s.empty_copy();
            *copy.children() = moved;
            copy
        })
    })
}

/// Moves data points (fourth level) whose mask bit is set, each group under one copy of its
/// resource, scope and metric; prunes emptied metrics, scopes and resources.
pub(super) fn move_data_points(from: &mut Vec<ResourceMetrics>, mask: &[bool]) -> Vec<ResourceMetrics> {
    let mut bits = mask.iter().copied();
    move_nested(from, |s: &mut ScopeMetrics| {
        let mut moved_metrics = Vec::new();
        for m in s.metrics.iter_mut() {
            moved_metrics.extend(move_points(m, &mut bits));
        }
        s.metrics.retain(|m| point_count(m) > 0);
        (!moved_metrics.is_empty()).then(|| {
            let mut copy = s.empty_copy();
            copy.metrics = moved_metrics;
            copy
        })
    })
}

/// Runs `take` on every scope; what it returns is gathered under a copy of the resource.
fn move_nested<R, S>(from: &mut Vec<R>, mut take: impl FnMut(&mut S) -> Option<S>) -> Vec<R>
where
    R: Level<Child = S>,
    S: Level,
{
    let mut out = Vec::new();
    for r in from.iter_mut() {
        let mut moved_scopes = Vec::new();
        for s in r.children().iter_mut() {
            moved_scopes.extend(take(s));
        }
        r.children().retain_mut(|s| !s.children().is_empty());
        if !moved_scopes.is_empty() {
            let mut copy = r.empty_copy();
            *copy.children() = moved_scopes;
            out.push(copy);
        }
    }
    from.retain_mut(|r| !r.children().is_empty());
    out
}

fn point_count(m: &Metric) -> usize {
    match &m.data {
        Some(Data::Gauge(x)) => x.data_points.len(),
        Some(Data::Sum(x)) => x.data_points.len(),
        Some(Data::Histogram(x)) => x.data_points.len(),
        Some(Data::ExponentialHistogram(x)) => x.data_points.len(),
        Some(Data::Summary(x)) => x.data_points.len(),
        None => 0,
    }
}

/// Splits the points of one metric by the next mask bits; the moved ones go into a copy of
/// the metric (same name, unit, temporality...).
fn move_points(m: &mut Metric, bits: &mut impl Iterator<Item = bool>) -> Option<Metric> {
    macro_rules! split {
        ($x:expr, $variant:ident) => {{
            let points = std::mem::take(&mut $x.data_points);
            // The metric data without its points: cloned before the kept ones go back.
            let mut data = $x.clone();
            let mut moved = Vec::new();
            for p in points {
                if bits.next().unwrap_or(false) {
                    moved.push(p);
                } else {
                    $x.data_points.push(p);
                }
            }
            if moved.is_empty() {
                None
            } else {
                data.data_points = moved;
                Some(Data::$variant(data))
            }
        }};
    }
    let data = match &mut m.data {
        Some(Data::Gauge(x)) => split!(x, Gauge),
        Some(Data::Sum(x)) => split!(x, Sum),
        Some(Data::Histogram(x)) => split!(x, Histogram),
        Some(Data::ExponentialHistogram(x)) => split!(x, ExponentialHistogram),
        Some(Data::Summary(x)) => split!(x, Summary),
        None => None,
    }?;
    Some(Metric {
        name: m.name.clone(),
        description: m.description.clone(),
        unit: m.unit.clone(),
        metadata: m.metadata.clone(),
        data: Some(data),
    })
}
