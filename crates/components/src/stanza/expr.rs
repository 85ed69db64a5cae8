//! The subset of stanza's `expr` language (expr-lang) that operator `if:` and router
//! `routes[].expr` use in practice: field references (`body`, `attributes["x"]`,
//! `resource.x`), string/number/bool/nil literals, `==` `!=` `<` `<=` `>` `>=`,
//! `matches`, `contains`, `startsWith`, `endsWith`, `and`/`&&`, `or`/`||`, `not`/`!`,
//! parentheses and `len(...)`. Anything else is refused when the config is loaded.

use regex::Regex;
use serde_json::Value;

use super::entry::{Entry, Field, Root};

/// A parsed expression.
#[derive(Clone, Debug)]
pub struct Expr(Node);

/// Why an expression could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid expression {src:?}: {why}")]
pub struct ExprError {
    src: String,
    why: String,
}

#[derive(Clone, Debug)]
enum Node {
    Lit(Value),
    Field(Field),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    /// `x matches "literal"`: the regex compiled once.
    MatchesLit(Box<Node>, Regex),
    Len(Box<Node>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Matches,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Str(String),
    Num(f64),
    Ident(String),
    Op(&'static str),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' || c == '`' {
            let mut v = String::new();
            i += 1;
            loop {
                let Some(&d) = cs.get(i) else { return Err("unterminated string".into()) };
                i += 1;
                if d == c {
                    break;
                }
                if d == '\\' && c != '`' {
                    let Some(&n) = cs.get(i) else { return Err("unterminated string".into()) };
                    i += 1;
                    v.push(match n {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        other => other,
                    });
                } else {
                    v.push(d);
                }
            }
            out.push(Tok::Str(v));
        } else if c.is_ascii_digit() {
            let st = i;
            while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
                i += 1;
            }
            let t: String = cs[st..i].iter().collect();
            out.push(Tok::Num(t.parse().map_err(|_| format!("bad number {t}"))?));
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let st = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_' || cs[i] == '$') {
                i += 1;
            }
            out.push(Tok::Ident(cs[st..i].iter().collect()));
        } else {
            let two: String = cs[i..(i + 2).min(cs.len())].iter().collect();
            let op = ["==", "!=", "<=", ">=", "&&", "||"].into_iter().find(|o| *o == two);
            if let Some(op) = op {
                out.push(Tok::Op(op));
                i += 2;
            } else {
                let op = ["<", ">", "!", "(", ")", "[", "]", ".", ","]
                    .into_iter()
                    .find(|o| o.starts_with(c))
                    .ok_or_else(|| format!("unexpected character {c:?}"))?;
                out.push(Tok::Op(op));
                i += 1;
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            return true;
        }
        false
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(i)) if i == w) {
            self.pos += 1;
            return true;
        }
        false
    }
    fn or(&mut self) -> Result<Node, String> {
        let mut l = self.and()?;
        while self.eat_op("||") || self.eat_word("or") {
            l = Node::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Node, String> {
        let mut l = self.not()?;
        while self.eat_op("&&") || self.eat_word("and") {
            l = Node::And(Box::new(l), Box::new(self.not()?));
        }
        Ok(l)
    }
    fn not(&mut self) -> Result<Node, String> {
        if self.eat_op("!") || self.eat_word("not") {
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Node, String> {
        let mut l = self.primary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op("==")) => CmpOp::Eq,
                Some(Tok::Op("!=")) => CmpOp::Ne,
                Some(Tok::Op("<")) => CmpOp::Lt,
                Some(Tok::Op("<=")) => CmpOp::Le,
                Some(Tok::Op(">")) => CmpOp::Gt,
                Some(Tok::Op(">=")) => CmpOp::Ge,
                Some(Tok::Ident(w)) => match w.as_str() {
                    "matches" => CmpOp::Matches,
                    "contains" => CmpOp::Contains,
                    "startsWith" => CmpOp::StartsWith,
                    "endsWith" => CmpOp::EndsWith,
                    _ => return Ok(l),
                },
                _ => return Ok(l),
            };
            self.pos += 1;
            let r = self.primary()?;
            l = match (op, r) {
                (CmpOp::Matches, Node::Lit(Value::String(re))) => {
                    let re = super::regex::compile(&re).map_err(|e| format!("bad regex: {e}"))?;
                    Node::MatchesLit(Box::new(l), re)
                }
                (op, r) => Node::Cmp(op, Box::new(l), Box::new(r)),
            };
        }
    }
    fn primary(&mut self) -> Result<Node, String> {
        let t = self.peek().cloned().ok_or("unexpected end")?;
        self.pos += 1;
        match t {
            Tok::Str(s) => Ok(Node::Lit(Value::String(s))),
            Tok::Num(n) => Ok(Node::Lit(serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null))),
            Tok::Op("(") => {
                let n = self.or()?;
                if !self.eat_op(")") {
                    return Err("missing ')'".into());
                }
                Ok(n)
            }
            Tok::Op("-") => Err("negative numbers are not supported".into()),
            Tok::Ident(w) => match w.trim_start_matches('$') {
                "true" => Ok(Node::Lit(Value::Bool(true))),
                "false" => Ok(Node::Lit(Value::Bool(false))),
                "nil" | "null" => Ok(Node::Lit(Value::Null)),
                "len" => {
                    if !self.eat_op("(") {
                        return Err("len needs '('".into());
                    }
                    let n = self.or()?;
                    if !self.eat_op(")") {
                        return Err("missing ')'".into());
                    }
                    Ok(Node::Len(Box::new(n)))
                }
                root @ ("body" | "record" | "attributes" | "resource") => {
                    let root = match root {
                        "attributes" => Root::Attributes,
                        "resource" => Root::Resource,
                        _ => Root::Body,
                    };
                    let mut keys = Vec::new();
                    loop {
                        if self.eat_op(".") {
                            match self.peek().cloned() {
                                Some(Tok::Ident(k)) => {
                                    self.pos += 1;
                                    keys.push(k)
                                }
                                _ => return Err("expected a key after '.'".into()),
                            }
                        } else if self.eat_op("[") {
                            match self.peek().cloned() {
                                Some(Tok::Str(k)) => {
                                    self.pos += 1;
                                    keys.push(k)
                                }
                                _ => return Err("expected a quoted key in '[...]'".into()),
                            }
                            if !self.eat_op("]") {
                                return Err("missing ']'".into());
                            }
                        } else {
                            break;
                        }
                    }
                    Ok(Node::Field(Field { root, keys }))
                }
                other => Err(format!("unsupported name {other:?}")),
            },
            Tok::Op(o) => Err(format!("unexpected {o:?}")),
        }
    }
}

impl Expr {
    /// Parses an expression; everything outside the supported subset is an error.
    pub fn parse(src: &str) -> Result<Expr, ExprError> {
        let err = |why: String| ExprError { src: src.to_string(), why };
        let toks = lex(src).map_err(err)?;
        let mut p = Parser { toks, pos: 0 };
        let n = p.or().map_err(err)?;
        if p.pos != p.toks.len() {
            return Err(err(format!("unexpected {:?}", p.toks[p.pos])));
        }
        Ok(Expr(n))
    }

    /// True when the expression evaluates to `true` for `e` (anything else is false).
    pub fn matches(&self, e: &Entry) -> bool {
        eval(&self.0, e) == Value::Bool(true)
    }
}

impl<'de> serde::Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Expr, D::Error> {
        let s = String::deserialize(d)?;
        Expr::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn truthy(v: &Value) -> bool {
    *v == Value::Bool(true)
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn eval(n: &Node, e: &Entry) -> Value {
    match n {
        Node::Lit(v) => v.clone(),
        Node::Field(f) => f.get_owned(e).unwrap_or(Value::Null),
        Node::Not(a) => Value::Bool(!truthy(&eval(a, e))),
        Node::And(a, b) => Value::Bool(truthy(&eval(a, e)) && truthy(&eval(b, e))),
        Node::Or(a, b) => Value::Bool(truthy(&eval(a, e)) || truthy(&eval(b, e))),
        Node::Len(a) => Value::from(match eval(a, e) {
            Value::String(s) => s.chars().count(),
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            _ => 0,
        }),
        Node::MatchesLit(a, re) => match eval(a, e) {
            Value::String(s) => Value::Bool(re.is_match(&s)),
            _ => Value::Bool(false),
        },
        Node::Cmp(op, a, b) => {
            let (a, b) = (eval(a, e), eval(b, e));
            Value::Bool(compare(*op, &a, &b))
        }
    }
}

fn compare(op: CmpOp, a: &Value, b: &Value) -> bool {
    let strs = || Some((a.as_str()?, b.as_str()?));
    match op {
        CmpOp::Eq | CmpOp::Ne => {
            let eq = match (num(a), num(b)) {
                (Some(x), Some(y)) => x == y,
                _ => a == b,
            };
            eq == (op == CmpOp::Eq)
        }
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let ord = match (num(a), num(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => strs().map(|(x, y)| x.cmp(y)),
            };
            let Some(o) = ord else { return false };
            match op {
                CmpOp::Lt => o.is_lt(),
                CmpOp::Le => o.is_le(),
                CmpOp::Gt => o.is_gt(),
                _ => o.is_ge(),
            }
        }
        CmpOp::Matches => strs().is_some_and(|(s, re)| super::regex::compile(re).is_ok_and(|r| r.is_match(s))),
        CmpOp::Contains => strs().is_some_and(|(s, x)| s.contains(x)),
        CmpOp::StartsWith => strs().is_some_and(|(s, x)| s.starts_with(x)),
        CmpOp::EndsWith => strs().is_some_and(|(s, x)| s.ends_with(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> Entry {
        let mut e = Entry::new(json!("{\"a\":1}"), 0);
        e.attributes.insert("log.file.path".into(), json!("/var/log/pods/default_x_1/c/0.log"));
        e.attributes.insert("logtag".into(), json!("F"));
        e.attributes.insert("log".into(), json!("line\n"));
        e.attributes.insert("error.stack_trace".into(), json!("at x"));
        e
    }

    #[test]
    fn the_configs_expressions() {
        let e = entry();
        for (src, want) in [
            (r#"body matches "^\\{""#, true),
            (r#"body matches "^[^ Z]+Z""#, false),
            (r#"body matches "\\{[^{}]*\\}" == true"#, true),
            ("attributes.log == nil", false),
            ("attributes.missing == nil", true),
            ("attributes.logtag == 'F'", true),
            (r#"attributes.log endsWith "\n""#, true),
            (r#"attributes["service.namespace"] != nil"#, false),
            (r#"len(attributes["error.stack_trace"]) > 0"#, true),
            (
                r#"(attributes["log.file.path"] matches "/var/log/pods/default_.*") and not (body contains "logRecord")"#,
                true,
            ),
            (r#"(body contains "a") or (body contains "zzz")"#, true),
            ("true", true),
        ] {
            assert_eq!(Expr::parse(src).unwrap().matches(&e), want, "{src}");
        }
    }

    #[test]
    fn unsupported_syntax_is_refused() {
        for src in ["body matches", "foo == 1", "body ~ 2", "(body"] {
            assert!(Expr::parse(src).is_err(), "{src}");
        }
    }
}
