//! The OTTL grammar: tokens to syntax tree, with winnow.
//!
//! The rules follow the Collector's participle grammar (pkg/ottl/grammar.go): statements,
//! boolean expressions (`or` < `and` < `not`), comparisons, values, math with `*`/`/` above
//! `+`/`-`, paths with string/int/expression keys, converters with keys, named arguments and
//! bare function names as arguments. Operator precedence uses winnow's Pratt `expression`.
//!
//! Errors: a parser either *backtracks* (this alternative does not apply here) or *cuts* (the
//! input is committed and wrong). Cuts are raised only at the token where something specific
//! was expected, so every [`crate::ParseError`] points at the offending token and names what
//! would have been accepted.

use winnow::combinator::{expression, Infix};
use winnow::error::{ModalError, ParserError};
use winnow::stream::{Stream, TokenSlice};
use winnow::Parser;

use crate::ast::*;
use crate::error::Span;
use crate::lexer::{Tok, Token};

pub(crate) type In<'t> = TokenSlice<'t, Token>;
type PResult<T> = Result<T, PErr>;

/// The parser's error: whether it is committed, what was expected, and where.
#[derive(Debug, Clone)]
pub(crate) struct PErr {
    cut: bool,
    pub(crate) expected: Option<String>,
    /// The token the error points at; `None` at end of input.
    pub(crate) at: Option<Span>,
}

impl<'t> ParserError<In<'t>> for PErr {
    type Inner = Self;
    fn from_input(input: &In<'t>) -> Self {
        PErr { cut: false, expected: None, at: input.peek_token().map(|t| t.span) }
    }
    fn is_backtrack(&self) -> bool {
        !self.cut
    }
    fn into_inner(self) -> Result<Self, Self> {
        Ok(self)
    }
}

impl ModalError for PErr {
    fn cut(mut self) -> Self {
        self.cut = true;
        self
    }
    fn backtrack(mut self) -> Self {
        self.cut = false;
        self
    }
}

fn backtrack(i: &In<'_>) -> PErr {
    PErr::from_input(i)
}

/// A committed error at the current token.
fn cut_here(i: &In<'_>, expected: impl Into<String>) -> PErr {
    PErr { cut: true, expected: Some(expected.into()), at: i.peek_token().map(|t| t.span) }
}

fn peek<'t>(i: &In<'t>) -> Option<&'t Tok> {
    i.peek_token().map(|t| &t.tok)
}

fn peek2<'t>(i: &In<'t>) -> Option<&'t Tok> {
    let mut probe = i.clone();
    probe.next_token();
    probe.next_token().map(|t| &t.tok)
}

fn eat<'t>(i: &mut In<'t>, want: &Tok) -> Option<&'t Token> {
    if peek(i) == Some(want) {
        i.next_token()
    } else {
        None
    }
}

/// Consumes `want` or cuts with `expected`.
fn expect<'t>(i: &mut In<'t>, want: Tok, expected: &str) -> PResult<&'t Token> {
    eat(i, &want).ok_or_else(|| cut_here(i, expected))
}

/// Runs `f`; a backtrack becomes a cut at the position where `f` started.
fn require<'t, T>(i: &mut In<'t>, f: fn(&mut In<'t>) -> PResult<T>, expected: impl Into<String>) -> PResult<T> {
    let start = i.checkpoint();
    match f(i) {
        Err(e) if !e.cut => {
            i.reset(&start);
            Err(cut_here(i, expected))
        }
        other => other,
    }
}

/// The end of the last consumed token (for spans of nodes that end with punctuation).
fn last_end(i: &In<'_>) -> usize {
    winnow::stream::Location::previous_token_end(i)
}

fn is_word(tok: Option<&Tok>) -> bool {
    matches!(tok, Some(Tok::Lower(_) | Tok::Upper(_) | Tok::Mixed(_)))
}

/// `editor(args) [where condition]`; the caller checks that nothing follows.
pub(crate) fn statement(i: &mut In<'_>) -> PResult<(Call, Option<BoolExpr>)> {
    let call = require(i, call, "an editor call such as `set(target, value)`")?;
    let condition = if eat(i, &Tok::Lower("where".into())).is_some() {
        Some(require(i, bool_expr, "a condition after `where`")?)
    } else {
        None
    };
    Ok((call, condition))
}

/// A function call with any name case; `check` enforces editor/converter case rules.
fn call(i: &mut In<'_>) -> PResult<Call> {
    let start = i.checkpoint();
    let (name, span) = match i.next_token() {
        Some(Token { tok: Tok::Lower(s) | Tok::Upper(s) | Tok::Mixed(s), span, .. }) => (s.clone(), *span),
        _ => {
            i.reset(&start);
            return Err(backtrack(i));
        }
    };
    if eat(i, &Tok::Punct('(')).is_none() {
        i.reset(&start);
        return Err(backtrack(i));
    }
    let args = arguments(i)?;
    let keys = keys(i)?;
    Ok(Call { name: Ident { name, span }, args, keys, span: Span::new(span.start, last_end(i)) })
}

/// Arguments after `(`, through the closing `)`. No trailing comma, as upstream.
fn arguments(i: &mut In<'_>) -> PResult<Vec<Argument>> {
    let mut args = Vec::new();
    if eat(i, &Tok::Punct(')')).is_some() {
        return Ok(args);
    }
    loop {
        args.push(require(i, argument, "an argument")?);
        if eat(i, &Tok::Punct(',')).is_some() {
            continue;
        }
        expect(i, Tok::Punct(')'), "`,` or `)`")?;
        return Ok(args);
    }
}

/// `[name =] value`, or a bare converter name such as `Murmur3Hash`.
fn argument(i: &mut In<'_>) -> PResult<Argument> {
    let mut name = None;
    if let (Some(Tok::Lower(n) | Tok::Mixed(n)), Some(Tok::Equal)) = (peek(i), peek2(i)) {
        if n.starts_with(|c: char| c.is_ascii_lowercase()) {
            let tok = i.next_token().map(|t| t.span).unwrap_or_default();
            i.next_token();
            name = Some(Ident { name: n.clone(), span: tok });
        }
    }
    let value = if name.is_some() { require(i, arg_value, "a value after `=`")? } else { arg_value(i)? };
    let start = name.as_ref().map_or_else(|| arg_span(&value).start, |n| n.span.start);
    Ok(Argument { span: Span::new(start, arg_span(&value).end), name, value })
}

fn arg_span(v: &ArgValue) -> Span {
    match v {
        ArgValue::Value(v) => v.span,
        ArgValue::FunctionName(id) => id.span,
    }
}

fn arg_value(i: &mut In<'_>) -> PResult<ArgValue> {
    if let (Some(Tok::Mixed(n)), next) = (peek(i), peek2(i)) {
        if next != Some(&Tok::Punct('(')) {
            let span = i.next_token().map(|t| t.span).unwrap_or_default();
            return Ok(ArgValue::FunctionName(Ident { name: n.clone(), span }));
        }
    }
    value(i).map(ArgValue::Value)
}

/// Any value: literal, enum, path, call, list, map or math expression.
pub(crate) fn value(i: &mut In<'_>) -> PResult<Value> {
    let Some(tok) = i.peek_token() else { return Err(backtrack(i)) };
    let span = tok.span;
    let simple = match &tok.tok {
        Tok::Lower(w) if w == "nil" => Some(ValueKind::Nil),
        Tok::Str(s) => Some(ValueKind::String(s.clone())),
        Tok::Bytes(b) => Some(ValueKind::Bytes(b.clone())),
        Tok::Bool(b) => Some(ValueKind::Bool(*b)),
        Tok::Upper(w) if peek2(i) != Some(&Tok::Punct('(')) => Some(ValueKind::Enum(w.clone())),
        _ => None,
    };
    if let Some(kind) = simple {
        i.next_token();
        return Ok(Value { kind, span });
    }
    match &tok.tok {
        Tok::Punct('[') => list(i),
        Tok::Punct('{') => map(i),
        _ => math_expr(i),
    }
}

fn list(i: &mut In<'_>) -> PResult<Value> {
    let open = expect(i, Tok::Punct('['), "`[`")?.span;
    let mut items = Vec::new();
    // Upstream's rule is `'[' value* (',' value)* ']'`: items before the first comma need no
    // separator. Reproduced as is so the same lists parse.
    loop {
        let start = i.checkpoint();
        match value(i) {
            Ok(v) => items.push(v),
            Err(e) if e.cut => return Err(e),
            Err(_) => {
                i.reset(&start);
                break;
            }
        }
    }
    while eat(i, &Tok::Punct(',')).is_some() {
        items.push(require(i, value, "a value after `,`")?);
    }
    expect(i, Tok::Punct(']'), "`,` or `]`")?;
    Ok(Value { kind: ValueKind::List(items), span: Span::new(open.start, last_end(i)) })
}

fn map(i: &mut In<'_>) -> PResult<Value> {
    let open = expect(i, Tok::Punct('{'), "`{`")?.span;
    let mut entries = Vec::new();
    while eat(i, &Tok::Punct('}')).is_none() {
        let (key, key_span) = match i.peek_token() {
            Some(Token { tok: Tok::Str(s), span, .. }) => (s.clone(), *span),
            _ => return Err(cut_here(i, "a string key or `}`")),
        };
        i.next_token();
        expect(i, Tok::Punct(':'), "`:`")?;
        let value = require(i, value, "a value")?;
        entries.push(MapEntry { key, key_span, value });
        eat(i, &Tok::Punct(','));
    }
    Ok(Value { kind: ValueKind::Map(entries), span: Span::new(open.start, last_end(i)) })
}

/// `[key]` indexes after a path segment or a call.
fn keys(i: &mut In<'_>) -> PResult<Vec<Key>> {
    let mut keys = Vec::new();
    while let Some(open) = eat(i, &Tok::Punct('[')) {
        let simple = match (peek(i), peek2(i)) {
            (Some(Tok::Str(s)), Some(Tok::Punct(']'))) => Some(KeyKind::String(s.clone())),
            (Some(Tok::Int(n)), Some(Tok::Punct(']'))) => Some(KeyKind::Int(*n)),
            _ => None,
        };
        let kind = match simple {
            Some(kind) => {
                i.next_token();
                kind
            }
            None => {
                KeyKind::Expr(Box::new(require(i, math_expr, "a key: a string, an integer, a path or a converter")?))
            }
        };
        expect(i, Tok::Punct(']'), "`]`")?;
        keys.push(Key { kind, span: Span::new(open.span.start, last_end(i)) });
    }
    Ok(keys)
}

/// A path: `segment[key]*(.segment[key]*)*`.
fn path(i: &mut In<'_>) -> PResult<Path> {
    let mut fields = Vec::new();
    loop {
        let (name, name_span) = match i.peek_token() {
            Some(Token { tok: Tok::Lower(s), span, .. }) => (s.clone(), *span),
            _ if fields.is_empty() => return Err(backtrack(i)),
            _ => return Err(cut_here(i, "a lowercase field name after `.`")),
        };
        i.next_token();
        let keys = keys(i)?;
        fields.push(Field { name, name_span, keys });
        if eat(i, &Tok::Punct('.')).is_none() {
            break;
        }
    }
    let span = Span::new(fields[0].name_span.start, last_end(i));
    Ok(Path { fields, span })
}

/// `+ - * /` over numbers, paths, calls and parenthesised math.
fn math_expr(i: &mut In<'_>) -> PResult<Value> {
    expression(math_operand).infix(math_infix).parse_next(i)
}

fn starts_operand(tok: Option<&Tok>) -> bool {
    matches!(tok, Some(Tok::Int(_) | Tok::Float(_) | Tok::Punct('('))) || is_word(tok)
}

fn math_operand(i: &mut In<'_>) -> PResult<Value> {
    let Some(tok) = i.peek_token() else { return Err(backtrack(i)) };
    let span = tok.span;
    match &tok.tok {
        Tok::Int(n) => {
            i.next_token();
            Ok(Value { kind: ValueKind::Int(*n), span })
        }
        Tok::Float(f) => {
            i.next_token();
            Ok(Value { kind: ValueKind::Float(*f), span })
        }
        Tok::Lower(_) | Tok::Upper(_) | Tok::Mixed(_) if peek2(i) == Some(&Tok::Punct('(')) => {
            let call = call(i)?;
            Ok(Value { span: call.span, kind: ValueKind::Call(call) })
        }
        Tok::Lower(_) => {
            let path = path(i)?;
            Ok(Value { span: path.span, kind: ValueKind::Path(path) })
        }
        Tok::Punct('(') => {
            // Not committed: `(a == b)` in a condition starts like a parenthesised math
            // operand, so a missing `)` must let the caller try a boolean group instead.
            let start = i.checkpoint();
            i.next_token();
            let inner = math_expr(i);
            match inner {
                Ok(mut v) if eat(i, &Tok::Punct(')')).is_some() => {
                    v.span = Span::new(span.start, last_end(i));
                    Ok(v)
                }
                // A signed number right after an operand is never valid; report it here so
                // the hint about `x -1` reaches the user.
                Ok(_) if signed_number(i) => Err(cut_here(i, "`)` or an operator")),
                Err(e) if e.cut => Err(e),
                _ => {
                    i.reset(&start);
                    Err(backtrack(i))
                }
            }
        }
        _ => Err(backtrack(i)),
    }
}

fn math_infix<'t>(i: &mut In<'t>) -> PResult<Infix<In<'t>, Value, PErr>> {
    let start = i.checkpoint();
    let infix = match peek(i) {
        Some(Tok::Math('+')) => Infix::Left(1, fold_add as fn(&mut In<'t>, Value, Value) -> PResult<Value>),
        Some(Tok::Math('-')) => Infix::Left(1, fold_sub),
        Some(Tok::Math('*')) => Infix::Left(2, fold_mul),
        Some(Tok::Math('/')) => Infix::Left(2, fold_div),
        _ => return Err(backtrack(i)),
    };
    i.next_token();
    if !starts_operand(peek(i)) {
        let e = cut_here(i, "a number, path or converter after the operator");
        i.reset(&start);
        return Err(e);
    }
    Ok(infix)
}

fn math(op: MathOp, left: Value, right: Value) -> PResult<Value> {
    let span = left.span.to(right.span);
    Ok(Value { kind: ValueKind::Math { op, left: Box::new(left), right: Box::new(right) }, span })
}
fn fold_add(_: &mut In<'_>, a: Value, b: Value) -> PResult<Value> {
    math(MathOp::Add, a, b)
}
fn fold_sub(_: &mut In<'_>, a: Value, b: Value) -> PResult<Value> {
    math(MathOp::Sub, a, b)
}
fn fold_mul(_: &mut In<'_>, a: Value, b: Value) -> PResult<Value> {
    math(MathOp::Mul, a, b)
}
fn fold_div(_: &mut In<'_>, a: Value, b: Value) -> PResult<Value> {
    math(MathOp::Div, a, b)
}

/// A boolean expression: operands joined by `and` (binds tighter) and `or`.
pub(crate) fn bool_expr(i: &mut In<'_>) -> PResult<BoolExpr> {
    expression(bool_operand).infix(bool_infix).parse_next(i)
}

fn bool_infix<'t>(i: &mut In<'t>) -> PResult<Infix<In<'t>, BoolExpr, PErr>> {
    let start = i.checkpoint();
    let (infix, word) = match peek(i) {
        Some(Tok::Or) => (Infix::Left(1, fold_or as fn(&mut In<'t>, BoolExpr, BoolExpr) -> PResult<BoolExpr>), "or"),
        Some(Tok::And) => (Infix::Left(2, fold_and), "and"),
        _ => return Err(backtrack(i)),
    };
    i.next_token();
    let next = peek(i);
    let can_start =
        matches!(next, Some(Tok::Not | Tok::Bool(_) | Tok::Str(_) | Tok::Bytes(_) | Tok::Punct('(' | '[' | '{')))
            || starts_operand(next);
    if !can_start {
        let e = cut_here(i, format!("a condition after `{word}`"));
        i.reset(&start);
        return Err(e);
    }
    Ok(infix)
}

fn fold_or(_: &mut In<'_>, a: BoolExpr, b: BoolExpr) -> PResult<BoolExpr> {
    Ok(BoolExpr { span: a.span.to(b.span), kind: BoolExprKind::Or(Box::new(a), Box::new(b)) })
}
fn fold_and(_: &mut In<'_>, a: BoolExpr, b: BoolExpr) -> PResult<BoolExpr> {
    Ok(BoolExpr { span: a.span.to(b.span), kind: BoolExprKind::And(Box::new(a), Box::new(b)) })
}

/// `[not] (comparison | true | false | Converter(...) | ( bool_expr ))`.
fn bool_operand(i: &mut In<'_>) -> PResult<BoolExpr> {
    if let Some(not) = eat(i, &Tok::Not) {
        let inner = require(i, bool_primary, "a condition after `not`")?;
        return Ok(BoolExpr { span: not.span.to(inner.span), kind: BoolExprKind::Not(Box::new(inner)) });
    }
    bool_primary(i)
}

fn bool_primary(i: &mut In<'_>) -> PResult<BoolExpr> {
    let start = i.checkpoint();
    match comparison(i) {
        Ok(c) => return Ok(c),
        Err(e) if e.cut => return Err(e),
        Err(_) => i.reset(&start),
    }
    let Some(tok) = i.peek_token() else { return Err(backtrack(i)) };
    match &tok.tok {
        Tok::Bool(b) => {
            i.next_token();
            Ok(BoolExpr { kind: BoolExprKind::Literal(*b), span: tok.span })
        }
        Tok::Punct('(') => {
            i.next_token();
            let inner = require(i, bool_expr, "a condition")?;
            expect(i, Tok::Punct(')'), "`)`, `and` or `or`")?;
            Ok(inner)
        }
        Tok::Lower(_) | Tok::Upper(_) | Tok::Mixed(_) if peek2(i) == Some(&Tok::Punct('(')) => {
            let call = call(i)?;
            Ok(BoolExpr { span: call.span, kind: BoolExprKind::Converter(call) })
        }
        _ => Err(backtrack(i)),
    }
}

fn signed_number(i: &In<'_>) -> bool {
    i.peek_token().is_some_and(|t| t.signed)
}

fn comparison(i: &mut In<'_>) -> PResult<BoolExpr> {
    let group = peek(i) == Some(&Tok::Punct('('));
    let left = value(i)?;
    let op = match peek(i) {
        Some(Tok::Cmp(op)) => *op,
        // A path or literal can only be a condition when compared; converters, `true`/`false`
        // and parenthesised groups have other readings the caller still has to try.
        _ if !group && !matches!(left.kind, ValueKind::Call(_) | ValueKind::Bool(_)) => {
            return Err(cut_here(i, "a comparison operator (`==`, `!=`, `<`, `<=`, `>`, `>=`)"));
        }
        _ => return Err(backtrack(i)),
    };
    i.next_token();
    let op = match op {
        "==" => CompareOp::Eq,
        "!=" => CompareOp::Ne,
        "<" => CompareOp::Lt,
        "<=" => CompareOp::Le,
        ">" => CompareOp::Gt,
        _ => CompareOp::Ge,
    };
    let right = require(i, value, format!("a value after `{}`", op.as_str()))?;
    Ok(BoolExpr { span: left.span.to(right.span), kind: BoolExprKind::Comparison { left, op, right } })
}
