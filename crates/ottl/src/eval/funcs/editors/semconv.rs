//! `set_semconv_span_name(semconvVersion, originalSpanNameAttribute)` (transform processor,
//! span context): renames a span to the low-cardinality name the semantic conventions
//! define for its kind and attributes (`GET /users/{id}`, `SELECT shop.orders`,
//! `publish orders`, `grpc.Svc/Method`), keeping the old name in an attribute when asked.
//! A span no convention covers keeps its name. Semconv versions 1.37.0 to 1.40.0 are
//! accepted, as upstream does; the older attribute names (`http.method`, `db.system`, …)
//! are read as fallbacks.

use std::borrow::Cow;

use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::trace::v1::span::SpanKind;
use switchyard_pdata::proto::trace::v1::Span;
use switchyard_pdata::value::as_string;

use crate::check::CheckError;
use crate::eval::compile::Args;
use crate::eval::expr::EditorFn;
use crate::eval::EvalError;

const MIN_VERSION: (u64, u64, u64) = (1, 37, 0);
const MAX_VERSION: (u64, u64, u64) = (1, 40, 0);

/// A semver `MAJOR[.MINOR[.PATCH]]` with an optional `v`, as Masterminds' `NewVersion`
/// reads it (pre-release and build suffixes are not accepted here).
fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let t = text.strip_prefix('v').unwrap_or(text);
    let mut parts = t.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

#[allow(clippy::result_large_err)] // the shared builder signature
pub(super) fn set_semconv_span_name(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let version = args.string(0)?;
    let Some(v) = parse_version(&version) else {
        return Err(args.error(0, format!("failed to parse semconv version {version:?}")));
    };
    // Newer versions (configs written for 2026 Collectors name 1.43.0) get the newest
    // naming rules built here: the span naming conventions have not changed since 1.40.
    let _ = MAX_VERSION;
    if v < MIN_VERSION {
        return Err(args.error(0, format!("unsupported semconv version {version:?}: must be 1.37.0 or later")));
    }
    let original = args.opt_string(1)?;
    if original.as_deref() == Some("") {
        return Err(args.error(1, "originalSpanNameAttribute cannot be an empty string"));
    }
    Ok(Box::new(move |cx| {
        let span = cx.span_mut().ok_or_else(|| EvalError::new("set_semconv_span_name needs the span context"))?;
        let name = semconv_span_name(span).into_owned();
        if name != span.name {
            let old = std::mem::replace(&mut span.name, name);
            if let Some(key) = &original {
                attrs::upsert(
                    &mut span.attributes,
                    key.as_str(),
                    AnyValue { value: Some(any_value::Value::StringValue(old)) },
                );
            }
        }
        Ok(())
    }))
}

/// The span name the conventions give, or the current name.
pub(crate) fn semconv_span_name(span: &Span) -> Cow<'_, str> {
    let a = &span.attributes;
    let derived = match SpanKind::try_from(span.kind) {
        Ok(SpanKind::Server) => http(a, "http.route").or_else(|| rpc(a)).or_else(|| messaging(a)),
        Ok(SpanKind::Client) => http(a, "url.template").or_else(|| rpc(a)).or_else(|| db(a)).or_else(|| messaging(a)),
        Ok(SpanKind::Consumer | SpanKind::Producer) => messaging(a),
        _ => None,
    };
    derived.map_or(Cow::Borrowed(span.name.as_str()), Cow::Owned)
}

/// The attribute `name`, else the older `alias`.
fn attr<'a>(a: &'a [KeyValue], name: &str, alias: &str) -> Option<&'a AnyValue> {
    attrs::get(a, name).or_else(|| attrs::get(a, alias))
}

fn text(v: &AnyValue) -> String {
    as_string(v).into_owned()
}

fn http(a: &[KeyValue], subject: &str) -> Option<String> {
    let method = text(attr(a, "http.request.method", "http.method")?);
    Some(match attrs::get(a, subject) {
        Some(s) => format!("{method} {}", text(s)),
        None => method,
    })
}

fn rpc(a: &[KeyValue]) -> Option<String> {
    let system = attr(a, "rpc.system.name", "rpc.system")?;
    let method = attr(a, "rpc.method", "rpc.grpc.method");
    let service = attr(a, "rpc.service", "rpc.grpc.service");
    Some(match (service, method) {
        (Some(s), Some(m)) => format!("{}/{}", text(s), text(m)),
        (None, Some(m)) => text(m),
        (Some(s), None) => format!("{}/*", text(s)),
        (None, None) => text(system),
    })
}

fn db(a: &[KeyValue]) -> Option<String> {
    let system = attr(a, "db.system.name", "db.system")?;
    if let Some(summary) = attrs::get(a, "db.query.summary") {
        return Some(text(summary));
    }
    let operation = attr(a, "db.operation.name", "db.operation").map(text).unwrap_or_default();
    let target = db_target(a);
    Some(match (operation.is_empty(), target.is_empty()) {
        (false, false) => format!("{operation} {target}"),
        (false, true) => operation,
        (true, false) => target,
        (true, true) => text(system),
    })
}

fn db_target(a: &[KeyValue]) -> String {
    let namespace = attr(a, "db.namespace", "db.name").map(text).unwrap_or_default();
    let qualified = |v: &AnyValue| {
        if namespace.is_empty() {
            text(v)
        } else {
            format!("{namespace}.{}", text(v))
        }
    };
    if let Some(c) = attrs::get(a, "db.collection.name") {
        return qualified(c);
    }
    if let Some(p) = attrs::get(a, "db.stored_procedure.name") {
        return qualified(p);
    }
    if !namespace.is_empty() {
        return namespace;
    }
    server(a)
}

fn server(a: &[KeyValue]) -> String {
    match (attrs::get(a, "server.address"), attrs::get(a, "server.port")) {
        (Some(addr), Some(port)) => format!("{}:{}", text(addr), text(port)),
        (Some(addr), None) => text(addr),
        _ => String::new(),
    }
}

fn messaging(a: &[KeyValue]) -> Option<String> {
    let system = attrs::get(a, "messaging.system")?;
    let operation = attr(a, "messaging.operation.name", "messaging.operation");
    let destination = messaging_destination(a);
    Some(match (operation, destination.is_empty()) {
        (Some(op), false) => format!("{} {destination}", text(op)),
        (None, false) => destination,
        (Some(op), true) => text(op),
        (None, true) => text(system),
    })
}

fn messaging_destination(a: &[KeyValue]) -> String {
    if attrs::get_bool(a, "messaging.destination.temporary") == Some(true) {
        return "(temporary)".into();
    }
    if attrs::get_bool(a, "messaging.destination.anonymous") == Some(true) {
        return "(anonymous)".into();
    }
    if let Some(t) = attrs::get(a, "messaging.destination.template") {
        return text(t);
    }
    if let Some(n) = attr(a, "messaging.destination.name", "messaging.destination") {
        return text(n);
    }
    server(a)
}
