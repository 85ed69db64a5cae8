//! `ParseSeverity(target, severityMapping)`: maps a string (by `equals`) or an integer (by
//! `range`, a `{min, max}` map or `"2xx"`…`"5xx"`) to the first log level whose criteria
//! match. The mapping must be a map literal; it is checked once, at load, where upstream
//! reports a malformed mapping on every evaluation. Levels are tried in the order written
//! (upstream iterates a Go map, so its order is unspecified when several levels match).

use switchyard_pdata::proto::common::v1::{any_value, AnyValue};

use crate::check::CheckError;
use crate::eval::compile::Args;
use crate::eval::expr::{ConverterFn, Expr};
use crate::eval::value::Value;
use crate::eval::EvalError;

#[derive(Debug, Default)]
struct Criteria {
    equals: Vec<String>,
    range: Option<(i64, i64)>,
}

/// The value of an expression made only of literals (`{"info": [{"equals": ["inf"]}]}`).
fn literal(e: &Expr) -> Option<AnyValue> {
    match e {
        Expr::Lit(v) => Some(v.clone().into_any()),
        Expr::List(items) => {
            let values = items.iter().map(literal).collect::<Option<Vec<_>>>()?;
            Some(Value::List(values.into()).into_any())
        }
        Expr::Map(entries) => {
            let mut map = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                switchyard_pdata::attrs::upsert(&mut map, k.as_str(), literal(v)?);
            }
            Some(Value::Map(map.into()).into_any())
        }
        _ => None,
    }
}

fn criteria(item: &AnyValue) -> Result<Criteria, String> {
    use any_value::Value as V;
    let Some(V::KvlistValue(m)) = &item.value else {
        return Err("severity mapping criteria items must be map[string]any".into());
    };
    let mut c = Criteria::default();
    for kv in &m.values {
        let v = kv.value.as_ref().and_then(|v| v.value.as_ref());
        match kv.key.as_str() {
            "equals" => {
                let Some(V::ArrayValue(list)) = v else {
                    return Err("invalid severity mapping criteria: equals must be a list".into());
                };
                for e in &list.values {
                    match &e.value {
                        Some(V::StringValue(s)) => c.equals.push(s.clone()),
                        _ => return Err("invalid severity mapping criteria: equals values must be strings".into()),
                    }
                }
            }
            "range" => {
                c.range = Some(match v {
                    Some(V::KvlistValue(r)) => {
                        let bound = |key: &str| -> Result<i64, String> {
                            match switchyard_pdata::attrs::get(&r.values, key).and_then(|x| x.value.as_ref()) {
                                Some(V::IntValue(i)) => Ok(*i),
                                Some(_) => Err(format!("invalid severity mapping criteria: {key} must be an int64")),
                                None => {
                                    Err(format!("invalid severity mapping criteria: range must have a {key} value"))
                                }
                            }
                        };
                        (bound("min")?, bound("max")?)
                    }
                    Some(V::StringValue(s)) => match s.as_str() {
                        "2xx" => (200, 299),
                        "3xx" => (300, 399),
                        "4xx" => (400, 499),
                        "5xx" => (500, 599),
                        other => {
                            return Err(format!(
                                "invalid severity mapping criteria: unknown range placeholder: {other}"
                            ))
                        }
                    },
                    _ => {
                        return Err(
                            "invalid severity mapping criteria: range must be a map or a known placeholder string"
                                .into(),
                        )
                    }
                });
            }
            _ => {}
        }
    }
    Ok(c)
}

pub(super) fn parse_severity(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    use any_value::Value as V;
    let target = args.expr(0)?;
    let mapping = args.expr(1)?;
    let Some(AnyValue { value: Some(V::KvlistValue(levels)) }) = literal(&mapping) else {
        return Err(args.error(1, "severity mapping must be a literal PMap"));
    };
    let mut table: Vec<(String, Vec<Criteria>)> = Vec::with_capacity(levels.values.len());
    for kv in &levels.values {
        let Some(V::ArrayValue(list)) = kv.value.as_ref().and_then(|v| v.value.as_ref()) else {
            return Err(args.error(1, "severity mapping criteria must be []any"));
        };
        let cs = list.values.iter().map(criteria).collect::<Result<Vec<_>, _>>().map_err(|e| args.error(1, e))?;
        table.push((kv.key.clone(), cs));
    }
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let shown = match &v {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Double(d) => switchyard_pdata::value::double_string(*d),
            other => other.type_name().to_string(),
        };
        for (level, cs) in &table {
            for c in cs {
                let hit = match &v {
                    Value::Str(s) => c.equals.iter().any(|e| e == s),
                    Value::Int(i) => c.range.is_some_and(|(lo, hi)| (lo..=hi).contains(i)),
                    other => {
                        return Err(EvalError::new(format!(
                            "could not map log level: could not evaluate log level of value '{shown}': unsupported value type: {}",
                            other.type_name()
                        )))
                    }
                };
                if hit {
                    return Ok(Value::str(level.clone()));
                }
            }
        }
        Err(EvalError::new(format!("could not map log level: no matching log level found for value '{shown}'")))
    }))
}

#[cfg(test)]
mod tests {
    use crate::eval::funcs::testlog::{err, ok};
    use crate::eval::value::Value;

    const MAPPING: &str = r#"{"info":[{"equals":["inf", "information"]}, {"range":{"min":200, "max":299}}], "error":[{"range":"5xx"}, {"equals":["err"]}]}"#;

    #[test]
    fn maps_strings_and_ranges() {
        assert_eq!(ok(&format!(r#"ParseSeverity("inf", {MAPPING})"#)), Value::str("info"));
        assert_eq!(ok(&format!(r#"ParseSeverity(204, {MAPPING})"#)), Value::str("info"));
        assert_eq!(ok(&format!(r#"ParseSeverity(503, {MAPPING})"#)), Value::str("error"));
        assert_eq!(ok(&format!(r#"ParseSeverity("err", {MAPPING})"#)), Value::str("error"));
        assert_eq!(
            ok(r#"ParseSeverity(attributes["num"], {"debug":[{"range":{"min":1,"max":9}}]})"#),
            Value::str("debug")
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            err(&format!(r#"ParseSeverity("x", {MAPPING})"#)),
            "could not map log level: no matching log level found for value 'x'"
        );
        assert_eq!(
            err(&format!(r#"ParseSeverity(1.5, {MAPPING})"#)),
            "could not map log level: could not evaluate log level of value '1.5': unsupported value type: float64"
        );
        assert!(err(r#"ParseSeverity("x", attributes)"#).contains("severity mapping must be a literal PMap"));
        assert!(err(r#"ParseSeverity("x", {"info":"inf"})"#).contains("severity mapping criteria must be []any"));
        assert!(err(r#"ParseSeverity("x", {"info":[{"range":"6xx"}]})"#).contains("unknown range placeholder: 6xx"));
        assert!(err(r#"ParseSeverity("x", {"info":[{"range":{"min":1}}]})"#).contains("range must have a max value"));
    }
}
