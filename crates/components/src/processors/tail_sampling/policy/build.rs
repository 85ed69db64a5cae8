//! Compiling `policies:` into evaluators. Compiling is also how the config is validated
//! ([`validate`] compiles and throws the result away), so every error is found at load
//! time and placed at its YAML key (`policies::2::status_code::status_codes::0`).
//!
//! Nesting follows the Collector's config structs: `and_sub_policy`, `drop_sub_policy`
//! and `not_sub_policy` take the leaf types only; `composite_sub_policy` takes the leaf
//! types and `and`; `composite`, `drop` and `not` exist only at the top level.

use std::collections::HashSet;
use std::sync::Arc;

use switchyard_core::component::FieldError;
use switchyard_core::config::suggestion;

use super::attribute::{BooleanAttribute, NumericAttribute, StringAttribute};
use super::config::*;
use super::evaluator::{Composite, Evaluator};
use super::limiting::{allocations, scaled_count, scaled_rate, Budgets, TokenBucket};
use super::ottl::OttlCondition;
use super::probabilistic::Probabilistic;
use super::span::{Latency, SpanCount, StatusCode, TraceStateFilter};
use crate::ottl::OttlErrorReporter;

/// What compiling needs besides the config.
pub(super) struct BuildCtx {
    /// This shard's share of every rate.
    pub(super) share: f64,
    /// Where `ottl_condition` reports the errors `error_mode: ignore` skips; `None` when
    /// only validating.
    pub(super) reporter: Option<Arc<OttlErrorReporter>>,
}

/// Where a policy sits, which decides the types it may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    /// In `composite_sub_policy`.
    CompositeSub,
    /// In `and_sub_policy`, `drop_sub_policy` or `not_sub_policy` (the key).
    LeafSub(&'static str),
}

const COMBINING: [&str; 4] = [AND, COMPOSITE, DROP, NOT];

/// Checks `policies:` as the Collector does when it builds them: at least one policy,
/// names present and unique, known types, and each type's settings (status codes,
/// numeric bounds, regexes, OTTL conditions, sub-policies). Paths start at `policies`.
pub fn validate(cfgs: &[PolicyCfg]) -> Vec<FieldError> {
    let cx = BuildCtx { share: 1.0, reporter: None };
    match compile_all(cfgs, &cx) {
        Ok(_) => Vec::new(),
        Err(e) => e,
    }
}

/// Compiles the top-level policies, in config order.
pub(super) fn compile_all(cfgs: &[PolicyCfg], cx: &BuildCtx) -> Result<Vec<Evaluator>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if cfgs.is_empty() {
        errors.push(FieldError::new("policies", "at least one policy is required"));
    }
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (i, cfg) in cfgs.iter().enumerate() {
        let path = format!("policies::{i}");
        if cfg.name.is_empty() {
            errors.push(FieldError::new(format!("{path}::name"), "policy name cannot be empty"));
        } else if !names.insert(cfg.name.as_str()) {
            errors.push(FieldError::new(format!("{path}::name"), format!("duplicate policy name {:?}", cfg.name)));
        }
        match compile(cfg, &path, Level::Top, cx) {
            Ok(e) => out.push(e),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn allowed(level: Level, ty: &str) -> bool {
    match level {
        Level::Top => true,
        Level::CompositeSub => ty == AND || !COMBINING.contains(&ty),
        Level::LeafSub(_) => !COMBINING.contains(&ty),
    }
}

/// The combining blocks a policy at `level` may not carry (the Collector's sub-policy
/// structs have no such field, so decoding fails there).
fn misplaced_blocks(cfg: &PolicyCfg, path: &str, level: Level) -> Vec<FieldError> {
    let present = [
        (AND, cfg.and.is_some()),
        (COMPOSITE, cfg.composite.is_some()),
        (DROP, cfg.drop.is_some()),
        (NOT, cfg.not.is_some()),
    ];
    present
        .iter()
        .filter(|(key, is)| *is && !allowed(level, key))
        .map(|(key, _)| FieldError::new(format!("{path}::{key}"), format!("unknown field `{key}` in a sub-policy")))
        .collect()
}

fn compile(cfg: &PolicyCfg, path: &str, level: Level, cx: &BuildCtx) -> Result<Evaluator, Vec<FieldError>> {
    let ty = cfg.policy_type.as_str();
    let mut errors = misplaced_blocks(cfg, path, level);
    let type_path = format!("{path}::type");
    if !POLICY_TYPES.contains(&ty) {
        errors.push(FieldError::new(
            type_path,
            format!("unknown sampling policy type {ty:?}{}", suggestion(ty, POLICY_TYPES)),
        ));
        return Err(errors);
    }
    if !allowed(level, ty) {
        let inside = match level {
            Level::LeafSub(key) => key,
            _ => "composite_sub_policy",
        };
        errors.push(FieldError::new(type_path, format!("policy type {ty:?} is not allowed in {inside}")));
        return Err(errors);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let block = |key: &str| format!("{path}::{key}");
    Ok(match ty {
        ALWAYS_SAMPLE => Evaluator::AlwaysSample,
        LATENCY => Evaluator::Latency(Latency::compile(&cfg.latency.clone().unwrap_or_default())),
        NUMERIC_ATTRIBUTE => Evaluator::NumericAttribute(NumericAttribute::compile(
            &cfg.numeric_attribute.clone().unwrap_or_default(),
            &block(NUMERIC_ATTRIBUTE),
        )?),
        PROBABILISTIC => {
            Evaluator::Probabilistic(Probabilistic::compile(&cfg.probabilistic.clone().unwrap_or_default()))
        }
        STATUS_CODE => Evaluator::StatusCode(StatusCode::compile(
            &cfg.status_code.clone().unwrap_or_default(),
            &block(STATUS_CODE),
        )?),
        STRING_ATTRIBUTE => Evaluator::StringAttribute(StringAttribute::compile(
            &cfg.string_attribute.clone().unwrap_or_default(),
            &block(STRING_ATTRIBUTE),
        )?),
        RATE_LIMITING => {
            let r = cfg.rate_limiting.clone().unwrap_or_default();
            let bucket = token_bucket(
                &block(RATE_LIMITING),
                "spans_per_second",
                r.spans_per_second,
                r.burst_capacity,
                cx.share,
            )?;
            Evaluator::RateLimiting(bucket)
        }
        BYTES_LIMITING => {
            let b = cfg.bytes_limiting.clone().unwrap_or_default();
            let bucket = token_bucket(
                &block(BYTES_LIMITING),
                "bytes_per_second",
                b.bytes_per_second,
                b.burst_capacity,
                cx.share,
            )?;
            Evaluator::BytesLimiting(bucket)
        }
        SPAN_COUNT => Evaluator::SpanCount(SpanCount::compile(&cfg.span_count.clone().unwrap_or_default())),
        BOOLEAN_ATTRIBUTE => {
            Evaluator::BooleanAttribute(BooleanAttribute::compile(&cfg.boolean_attribute.clone().unwrap_or_default()))
        }
        TRACE_STATE => Evaluator::TraceState(TraceStateFilter::compile(&cfg.trace_state.clone().unwrap_or_default())),
        TRACE_FLAGS => Evaluator::TraceFlags,
        OTTL_CONDITION => Evaluator::OttlCondition(OttlCondition::compile(
            &cfg.ottl_condition.clone().unwrap_or_default(),
            &block(OTTL_CONDITION),
            cx.reporter.clone(),
        )?),
        AND => {
            let subs = cfg.and.as_ref().map_or(&[][..], |a| &a.and_sub_policy[..]);
            Evaluator::And(compile_subs(subs, &format!("{path}::and::and_sub_policy"), "and_sub_policy", cx)?)
        }
        DROP => {
            let subs = cfg.drop.as_ref().map_or(&[][..], |d| &d.drop_sub_policy[..]);
            Evaluator::Drop(compile_subs(subs, &format!("{path}::drop::drop_sub_policy"), "drop_sub_policy", cx)?)
        }
        NOT => {
            let sub_path = format!("{path}::not::not_sub_policy");
            match cfg.not.as_ref().and_then(|n| n.not_sub_policy.as_deref()) {
                Some(sub) => Evaluator::Not(Box::new(compile(sub, &sub_path, Level::LeafSub("not_sub_policy"), cx)?)),
                None => return Err(vec![FieldError::new(sub_path, "a not policy needs a not_sub_policy")]),
            }
        }
        COMPOSITE => compile_composite(&cfg.composite.clone().unwrap_or_default(), &block(COMPOSITE), cx)?,
        _ => unreachable_type(&format!("{path}::type"), ty)?,
    })
}

/// A type listed in [`POLICY_TYPES`] without a compile arm (a bug, reported as an error).
fn unreachable_type(path: &str, ty: &str) -> Result<Evaluator, Vec<FieldError>> {
    Err(vec![FieldError::new(path, format!("policy type {ty:?} is not implemented"))])
}

/// The token bucket of `rate_limiting` / `bytes_limiting`: a burst of twice the rate unless
/// set, both scaled to this shard's `share`.
fn token_bucket(
    path: &str,
    rate_field: &str,
    rate: i64,
    burst: i64,
    share: f64,
) -> Result<TokenBucket, Vec<FieldError>> {
    non_negative(&[(path, rate_field, rate), (path, "burst_capacity", burst)])?;
    let burst = if burst > 0 { burst } else { rate.saturating_mul(2) };
    Ok(TokenBucket::new(scaled_rate(rate, share), scaled_count(burst, share)))
}

fn non_negative(fields: &[(&str, &str, i64)]) -> Result<(), Vec<FieldError>> {
    let errors: Vec<FieldError> = fields
        .iter()
        .filter(|(_, _, v)| *v < 0)
        .map(|(p, f, v)| FieldError::new(format!("{p}::{f}"), format!("{f} must not be negative, got {v}")))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The sub-policies of `and` / `drop` (at least one: an empty `and` would sample and an
/// empty `drop` drop every trace).
fn compile_subs(
    subs: &[PolicyCfg],
    path: &str,
    key: &'static str,
    cx: &BuildCtx,
) -> Result<Vec<Evaluator>, Vec<FieldError>> {
    if subs.is_empty() {
        return Err(vec![FieldError::new(path, format!("{key} needs at least one sub-policy"))]);
    }
    collect(subs.iter().enumerate().map(|(i, s)| compile(s, &format!("{path}::{i}"), Level::LeafSub(key), cx)))
}

fn collect(
    results: impl Iterator<Item = Result<Evaluator, Vec<FieldError>>>,
) -> Result<Vec<Evaluator>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(e) => out.push(e),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn compile_composite(cfg: &CompositeCfg, path: &str, cx: &BuildCtx) -> Result<Evaluator, Vec<FieldError>> {
    non_negative(&[(path, "max_total_spans_per_second", cfg.max_total_spans_per_second)])?;
    let sub_path = format!("{path}::composite_sub_policy");
    if cfg.composite_sub_policy.is_empty() {
        return Err(vec![FieldError::new(sub_path, "composite_sub_policy needs at least one sub-policy")]);
    }
    let subs = collect(
        cfg.composite_sub_policy
            .iter()
            .enumerate()
            .map(|(i, s)| compile(s, &format!("{sub_path}::{i}"), Level::CompositeSub, cx)),
    )?;
    let names: Vec<&str> = cfg.composite_sub_policy.iter().map(|s| s.name.as_str()).collect();
    let listed: Vec<(&str, i64)> = cfg.rate_allocation.iter().map(|r| (r.policy.as_str(), r.percent)).collect();
    if cx.reporter.is_some() {
        for (policy, _) in listed.iter().filter(|(p, _)| !names.contains(p)) {
            tracing::warn!(
                policy = %policy,
                "A composite rate_allocation names no composite_sub_policy; it allocates nothing."
            );
        }
        for name in names.iter().filter(|n| !listed.iter().any(|(p, _)| p == *n)) {
            tracing::warn!(
                policy = %name,
                "A composite_sub_policy has no rate_allocation entry, so it can never sample (as in the Collector)."
            );
        }
    }
    let budgets = allocations(cfg.max_total_spans_per_second, &names, &listed)
        .into_iter()
        .map(|a| scaled_count(a, cx.share))
        .collect();
    Ok(Evaluator::Composite(Composite {
        subs,
        budgets: Budgets::new(scaled_count(cfg.max_total_spans_per_second, cx.share), budgets),
    }))
}
