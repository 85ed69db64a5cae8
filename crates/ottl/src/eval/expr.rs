//! Compiled expressions: values, conditions and the converter functions inside them.

use std::borrow::Cow;
use std::fmt;

use super::context::EvalContext;
use super::path::{eval_keys, index_value, Key, Path};
use super::value::{compare, Value};
use super::EvalError;
use crate::ast::{CompareOp, MathOp};

/// A converter bound to its arguments. Converters only read the record, and return an owned
/// value (what they compute is new data).
pub(crate) type ConverterFn = Box<dyn Fn(&EvalContext<'_>) -> Result<Value<'static>, EvalError> + Send + Sync>;

/// An editor bound to its arguments.
pub(crate) type EditorFn = Box<dyn Fn(&mut EvalContext<'_>) -> Result<(), EvalError> + Send + Sync>;

/// A named converter (the name is for debugging output only).
pub(crate) struct Converter {
    pub(crate) name: String,
    pub(crate) f: ConverterFn,
}

impl fmt::Debug for Converter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(…)", self.name)
    }
}

/// A value expression.
#[derive(Debug)]
pub(crate) enum Expr {
    /// A literal (enums are compiled to their integer).
    Lit(Value<'static>),
    /// A path into the record.
    Path(Path),
    /// A converter call with optional keys on its result.
    Call(Converter, Vec<Key>),
    /// `[…]`
    List(Vec<Expr>),
    /// `{…}`
    Map(Vec<(String, Expr)>),
    /// `a op b`
    Math(MathOp, Box<Expr>, Box<Expr>),
}

impl Expr {
    pub(crate) fn eval<'c>(&'c self, cx: &'c EvalContext<'_>) -> Result<Value<'c>, EvalError> {
        match self {
            Expr::Lit(v) => Ok(v.reborrow()),
            Expr::Path(p) => p.get(cx),
            Expr::Call(c, keys) => {
                let v = (c.f)(cx)?;
                if keys.is_empty() {
                    Ok(v)
                } else {
                    let keys = eval_keys(keys, cx)?;
                    index_value(v, &keys)
                }
            }
            Expr::List(items) => {
                let values = items.iter().map(|e| Ok(e.eval(cx)?.into_owned().into_any())).collect::<Result<_, _>>()?;
                Ok(Value::List(Cow::Owned(values)))
            }
            Expr::Map(entries) => {
                let mut map = Vec::with_capacity(entries.len());
                for (k, e) in entries {
                    let v = e.eval(cx)?.into_owned().into_any();
                    switchyard_pdata::attrs::upsert(&mut map, k.as_str(), v);
                }
                Ok(Value::Map(Cow::Owned(map)))
            }
            Expr::Math(op, a, b) => math(*op, a.eval(cx)?, b.eval(cx)?),
        }
    }

    /// The literal string, when this is one (for parameters that must be literals).
    pub(crate) fn literal_str(&self) -> Option<&str> {
        match self {
            Expr::Lit(Value::Str(s)) => Some(s),
            _ => None,
        }
    }
}

/// Arithmetic as upstream's `performMath`: integers with integers, floats with floats, and
/// times with durations; anything else is an error.
fn math(op: MathOp, a: Value<'_>, b: Value<'_>) -> Result<Value<'static>, EvalError> {
    use Value::*;
    let bad = |a: &Value<'_>, b: &Value<'_>| {
        EvalError::new(format!("unsupported math: {} {} {}", a.type_name(), op_str(op), b.type_name()))
    };
    Ok(match (&a, &b) {
        (Int(x), Int(y)) => Int(match op {
            MathOp::Add => x.wrapping_add(*y),
            MathOp::Sub => x.wrapping_sub(*y),
            MathOp::Mul => x.wrapping_mul(*y),
            MathOp::Div => x.checked_div(*y).ok_or_else(|| EvalError::new("attempted to divide by 0"))?,
        }),
        (Double(x), Double(y)) => Double(match op {
            MathOp::Add => x + y,
            MathOp::Sub => x - y,
            MathOp::Mul => x * y,
            MathOp::Div if *y == 0.0 => return Err(EvalError::new("attempted to divide by 0")),
            MathOp::Div => x / y,
        }),
        (Time(t), Duration(d)) => match op {
            MathOp::Add => Time(t + d),
            MathOp::Sub => Time(t - d),
            _ => return Err(bad(&a, &b)),
        },
        (Time(x), Time(y)) if op == MathOp::Sub => Duration(x - y),
        (Duration(x), Duration(y)) => match op {
            MathOp::Add => Duration(x + y),
            MathOp::Sub => Duration(x - y),
            _ => return Err(bad(&a, &b)),
        },
        _ => return Err(bad(&a, &b)),
    })
}

fn op_str(op: MathOp) -> &'static str {
    match op {
        MathOp::Add => "+",
        MathOp::Sub => "-",
        MathOp::Mul => "*",
        MathOp::Div => "/",
    }
}

/// A compiled boolean expression.
#[derive(Debug)]
pub(crate) enum Cond {
    Or(Box<Cond>, Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Cmp(Expr, CompareOp, Expr),
    Lit(bool),
    Call(Expr),
}

impl Cond {
    pub(crate) fn eval(&self, cx: &EvalContext<'_>) -> Result<bool, EvalError> {
        Ok(match self {
            Cond::Or(a, b) => a.eval(cx)? || b.eval(cx)?,
            Cond::And(a, b) => a.eval(cx)? && b.eval(cx)?,
            Cond::Not(a) => !a.eval(cx)?,
            Cond::Cmp(a, op, b) => compare(&a.eval(cx)?, &b.eval(cx)?, *op),
            Cond::Lit(b) => *b,
            Cond::Call(e) => match e.eval(cx)? {
                Value::Bool(b) => b,
                other => {
                    return Err(EvalError::new(format!("expected bool but got {}", other.type_name())));
                }
            },
        })
    }
}
