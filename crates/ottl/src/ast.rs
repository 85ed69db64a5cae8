//! The OTTL syntax tree.
//!
//! It mirrors the Collector's grammar (pkg/ottl/grammar.go) closely enough that an evaluator
//! can follow upstream semantics node by node, but it is built for Rust consumers: enums
//! instead of structs of optional fields, decoded literals, and a byte [`Span`] on every node
//! so any later error (unknown path, wrong type at run time) can point at the source text.

use crate::error::Span;

/// A full statement: one editor invocation and an optional `where` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The statement text, kept so errors found later can show line, column and a snippet.
    pub text: String,
    /// The editor call, e.g. `set(attributes["a"], 1)`. The parser accepts any function
    /// name here; [`crate::check`] reports a converter used as an editor, as the Collector does.
    pub editor: Call,
    /// The boolean expression after `where`.
    pub condition: Option<BoolExpr>,
    /// The whole statement.
    pub span: Span,
}

/// A standalone condition (filter `*_conditions`, routing `condition`, tail-sampling
/// `ottl_condition`, transform group `conditions`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The condition text, for positioned errors found later.
    pub text: String,
    /// The boolean expression.
    pub expr: BoolExpr,
}

/// A single value expression (what the Collector's `ParseValueExpression` accepts, used by
/// e.g. the `value_expression` conformance cases and connectors that compute a value).
#[derive(Debug, Clone, PartialEq)]
pub struct ValueExpression {
    /// The expression text, for positioned errors found later.
    pub text: String,
    /// The value.
    pub value: Value,
}

/// A boolean expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct BoolExpr {
    /// What kind of expression.
    pub kind: BoolExprKind,
    /// Where it is; parentheses around a group are not part of the inner span.
    pub span: Span,
}

/// The shapes of a boolean expression. `and` binds tighter than `or`; `not` applies to one
/// operand and may appear only once in front of it (`not not x` is rejected upstream too).
#[derive(Debug, Clone, PartialEq)]
pub enum BoolExprKind {
    /// `left or right`; evaluation short-circuits left to right.
    Or(Box<BoolExpr>, Box<BoolExpr>),
    /// `left and right`; evaluation short-circuits left to right.
    And(Box<BoolExpr>, Box<BoolExpr>),
    /// `not operand`.
    Not(Box<BoolExpr>),
    /// `left op right`, compared with the Collector's comparison table.
    Comparison {
        /// Left operand.
        left: Value,
        /// The operator.
        op: CompareOp,
        /// Right operand.
        right: Value,
    },
    /// `true` or `false`.
    Literal(bool),
    /// A converter whose result must be a bool, e.g. `IsMatch(name, "^a")`.
    Converter(Call),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// An arithmetic operator. `*` and `/` bind tighter than `+` and `-`; all are left-associative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MathOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What kind of value.
    pub kind: ValueKind,
    /// Where it is.
    pub span: Span,
}

/// The shapes of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// `nil`.
    Nil,
    /// A string literal, unquoted.
    String(String),
    /// An integer literal (signed 64-bit).
    Int(i64),
    /// A float literal.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// A byte literal `0x…`, decoded.
    Bytes(Vec<u8>),
    /// An all-uppercase identifier such as `SPAN_KIND_SERVER`. In an argument whose parameter
    /// takes a function (e.g. `SHA256` for `replace_pattern`) it names a converter instead.
    Enum(String),
    /// A path into the telemetry, e.g. `resource.attributes["host.name"]`.
    Path(Path),
    /// A converter call (or a misplaced editor call, which [`crate::check`] reports).
    Call(Call),
    /// `[a, b, …]`.
    List(Vec<Value>),
    /// `{"k": v, …}`; entries keep their written order.
    Map(Vec<MapEntry>),
    /// `left op right`. Only numbers, paths, calls and parenthesised math can be operands.
    Math {
        /// The operator.
        op: MathOp,
        /// Left operand.
        left: Box<Value>,
        /// Right operand.
        right: Box<Value>,
    },
}

/// One `"key": value` entry of a map literal.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    /// The key, unquoted.
    pub key: String,
    /// Where the key literal is.
    pub key_span: Span,
    /// The value.
    pub value: Value,
}

/// A path: dot-separated segments, each with optional `[key]` indexes.
///
/// The Collector's grammar treats the first segment as the path's *context* when a `.`
/// follows it (`resource.attributes`), but whether that is really a context name depends on
/// the context the statement runs in (`status.code` in a span statement is a field). So the
/// AST keeps all segments and [`crate::paths`] decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The segments, at least one.
    pub fields: Vec<Field>,
    /// The whole path including keys.
    pub span: Span,
}

impl Path {
    /// The first segment when the grammar would read it as a context name: a `.` follows it
    /// and it has no keys. Context inference uses exactly this.
    pub fn prefix(&self) -> Option<&Field> {
        let first = self.fields.first()?;
        (self.fields.len() > 1 && first.keys.is_empty()).then_some(first)
    }
}

/// One path segment, e.g. `attributes["a"][0]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The segment name (lowercase letters, digits and `_`).
    pub name: String,
    /// Where the name is.
    pub name_span: Span,
    /// The `[…]` indexes after the name, in order.
    pub keys: Vec<Key>,
}

/// One `[…]` index.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// What is inside the brackets.
    pub kind: KeyKind,
    /// Including the brackets.
    pub span: Span,
}

/// What a key holds. Since contrib ≈ v0.120 keys may be expressions (`attributes[attributes["k"]]`,
/// `x[Len(x) - 1]`); the evaluator must then check at run time that it yields a string (maps)
/// or an int (slices).
#[derive(Debug, Clone, PartialEq)]
pub enum KeyKind {
    /// `["key"]`
    String(String),
    /// `[0]` (the grammar allows a signed literal).
    Int(i64),
    /// A path, converter or math expression.
    Expr(Box<Value>),
}

/// An identifier with its span (function and argument names).
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A function call: an editor (lowercase name) or a converter (uppercase name).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function name.
    pub name: Ident,
    /// The arguments in order.
    pub args: Vec<Argument>,
    /// Indexes applied to the result, e.g. `Split(x, ",")[0]` (converters only).
    pub keys: Vec<Key>,
    /// From the name to the last `]` or `)`.
    pub span: Span,
}

impl Call {
    /// Converters start with an uppercase letter, editors with a lowercase one.
    pub fn is_converter(&self) -> bool {
        self.name.name.starts_with(|c: char| c.is_ascii_uppercase())
    }
}

/// One call argument, possibly named (`depth = 1`).
#[derive(Debug, Clone, PartialEq)]
pub struct Argument {
    /// The name before `=`, when given.
    pub name: Option<Ident>,
    /// The argument itself.
    pub value: ArgValue,
    /// From the name (or value) to the end of the value.
    pub span: Span,
}

/// An argument is a value, or a bare converter name passed as a function (`SHA256` in
/// `replace_pattern(x, "a", "b", SHA256)`). An all-uppercase name like `SHA256` parses as
/// [`ValueKind::Enum`] (as upstream); only mixed-case names such as `Murmur3Hash` land here.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// A value.
    Value(Value),
    /// A converter name without parentheses.
    FunctionName(Ident),
}
