//! The `request` context: a condition over the client's metadata (`request["X-Tenant"] ==
//! "acme"`), read from the headers the receiver kept (`include_metadata: true`).
//!
//! Upstream accepts exactly one `request["<name>"] ==|!= "<value>"` comparison, with its own
//! small parser. Here the text goes through the OTTL parser and a small evaluator walks the
//! tree, so `and`, `or`, `not` and parentheses also work; anything else (other paths,
//! non-string operands, `<`) is refused at load with a message saying what is supported.

use switchyard_core::consumer::RequestContext;
use switchyard_ottl::ast::{BoolExpr, BoolExprKind, CompareOp, KeyKind, Value, ValueKind};

/// A compiled request condition.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestCondition {
    /// Some value of metadata key `key` equals (`eq`) / differs from (`!eq`) `value`.
    Compare {
        /// The metadata key (looked up case-insensitively).
        key: String,
        /// `==` (true) or `!=` (false).
        eq: bool,
        /// The literal.
        value: String,
    },
    /// Both hold.
    And(Box<RequestCondition>, Box<RequestCondition>),
    /// Either holds.
    Or(Box<RequestCondition>, Box<RequestCondition>),
    /// It does not hold.
    Not(Box<RequestCondition>),
    /// `true` / `false`.
    Literal(bool),
}

const FORMAT: &str =
    "a request condition compares request[\"<name>\"] with a string using == or != (combined with and, or, not)";

impl RequestCondition {
    /// Parses and checks `text`; the error says what is wrong and what is supported.
    pub fn parse(text: &str) -> Result<RequestCondition, String> {
        let cond =
            switchyard_ottl::parse_condition(text).map_err(|e| format!("invalid request condition `{text}`: {e}"))?;
        Self::from_expr(&cond.expr).map_err(|m| format!("invalid request condition `{text}`: {m}"))
    }

    fn from_expr(e: &BoolExpr) -> Result<RequestCondition, String> {
        Ok(match &e.kind {
            BoolExprKind::Or(a, b) => {
                RequestCondition::Or(Box::new(Self::from_expr(a)?), Box::new(Self::from_expr(b)?))
            }
            BoolExprKind::And(a, b) => {
                RequestCondition::And(Box::new(Self::from_expr(a)?), Box::new(Self::from_expr(b)?))
            }
            BoolExprKind::Not(a) => RequestCondition::Not(Box::new(Self::from_expr(a)?)),
            BoolExprKind::Literal(b) => RequestCondition::Literal(*b),
            BoolExprKind::Converter(c) => return Err(format!("function {} is not supported; {FORMAT}", c.name.name)),
            BoolExprKind::Comparison { left, op, right } => {
                let eq = match op {
                    CompareOp::Eq => true,
                    CompareOp::Ne => false,
                    other => return Err(format!("operator {} is not supported; {FORMAT}", other.as_str())),
                };
                let (key, value) = match (request_key(left), string(right), request_key(right), string(left)) {
                    (Some(k), Some(v), _, _) | (_, _, Some(k), Some(v)) => (k, v),
                    _ => return Err(FORMAT.to_string()),
                };
                RequestCondition::Compare { key: key.to_string(), eq, value: value.to_string() }
            }
        })
    }

    /// Evaluates against the request's metadata. Like upstream, a comparison holds when ANY
    /// value of the key compares true (HTTP headers and gRPC metadata may repeat a key); a
    /// key that is absent (or not kept by the receiver) makes both `==` and `!=` false.
    pub fn eval(&self, cx: &RequestContext) -> bool {
        match self {
            RequestCondition::Compare { key, eq, value } => {
                cx.metadata_values(key).into_iter().any(|v| (v == value.as_str()) == *eq)
            }
            RequestCondition::And(a, b) => a.eval(cx) && b.eval(cx),
            RequestCondition::Or(a, b) => a.eval(cx) || b.eval(cx),
            RequestCondition::Not(a) => !a.eval(cx),
            RequestCondition::Literal(b) => *b,
        }
    }
}

/// `request["name"]` → `name`.
fn request_key(v: &Value) -> Option<&str> {
    let ValueKind::Path(p) = &v.kind else { return None };
    let [field] = p.fields.as_slice() else { return None };
    if field.name != "request" {
        return None;
    }
    match field.keys.as_slice() {
        [k] => match &k.kind {
            KeyKind::String(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

fn string(v: &Value) -> Option<&str> {
    match &v.kind {
        ValueKind::String(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn cx(pairs: &[(&str, &str)]) -> RequestContext {
        let mut m = http::HeaderMap::new();
        for (k, v) in pairs {
            m.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), http::HeaderValue::from_str(v).unwrap());
        }
        RequestContext::with_metadata(Some(Arc::new(m)))
    }

    #[test]
    fn compares_any_value_of_a_header_case_insensitively() {
        let c = RequestCondition::parse(r#"request["X-Tenant"] == "acme""#).unwrap();
        assert!(c.eval(&cx(&[("x-tenant", "acme")])));
        assert!(c.eval(&cx(&[("x-tenant", "other"), ("x-tenant", "acme")])));
        assert!(!c.eval(&cx(&[("x-tenant", "other")])));
        assert!(!c.eval(&RequestContext::default()), "no metadata kept: no match");
        let ne = RequestCondition::parse(r#"request["X-Tenant"] != "acme""#).unwrap();
        assert!(ne.eval(&cx(&[("x-tenant", "other")])));
        assert!(!ne.eval(&cx(&[("x-tenant", "acme")])));
        assert!(!ne.eval(&RequestContext::default()), "absent key: != is false too, as upstream");
    }

    #[test]
    fn combines_with_and_or_not() {
        let c = RequestCondition::parse(r#"request["a"] == "1" and not (request["b"] == "2" or "3" == request["c"])"#)
            .unwrap();
        assert!(c.eval(&cx(&[("a", "1")])));
        assert!(!c.eval(&cx(&[("a", "1"), ("b", "2")])));
        assert!(!c.eval(&cx(&[("a", "1"), ("c", "3")])));
    }

    #[test]
    fn refuses_what_it_cannot_evaluate() {
        for bad in [
            r#"attributes["a"] == "b""#,
            r#"request["a"] > "b""#,
            r#"request["a"] == 1"#,
            r#"IsMatch(request["a"], "b")"#,
            r#"request == "b""#,
        ] {
            let err = RequestCondition::parse(bad).unwrap_err();
            assert!(err.contains("invalid request condition"), "{bad}: {err}");
        }
        assert!(RequestCondition::parse(r#"request["a"] =="#).is_err());
    }
}
