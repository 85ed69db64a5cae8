//! Spans, positions and the parse error type.
//!
//! Every error this crate reports points into the statement text it came from, so the config
//! loader can add the YAML file, line and column in front and the user sees exactly which
//! character of which statement is wrong. Positions are computed here, once, from byte spans.

use std::fmt;

/// A byte range `start..end` into the text of one statement or condition.
///
/// Byte offsets (not characters) because they are what slicing the text needs; the line and
/// column shown to people are derived from them by [`Position::locate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte of the node.
    pub start: usize,
    /// One past the last byte of the node.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both `self` and `other`, for nodes built from two children.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// The text this span covers, or an empty string when the span does not fit `text`.
    pub fn slice(self, text: &str) -> &str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

/// Where a byte offset sits inside a statement, as people count: 1-based line and column.
///
/// Columns count characters, not bytes, so a caret under a non-ASCII string lands where an
/// editor shows it. Statements from YAML block scalars can span several lines, hence `line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Byte offset into the statement.
    pub offset: usize,
    /// 1-based line inside the statement.
    pub line: usize,
    /// 1-based column (in characters) inside that line.
    pub column: usize,
}

impl Position {
    /// Computes the line and column of `offset` in `text` (clamped to the text's length).
    pub fn locate(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        Position { offset, line, column }
    }
}

/// Renders the line holding `span` with a caret line under it, e.g.
///
/// ```text
///   set(attributes["a"], )
///                        ^
/// ```
///
/// Kept short on purpose: one line of context is enough inside a statement, and the config
/// loader adds the YAML location around it.
pub fn caret_snippet(text: &str, span: Span) -> String {
    let start = Position::locate(text, span.start);
    let line_start = text[..start.offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    let line = &text[line_start..line_end];
    let width = if span.end > span.start {
        let end = span.end.min(line_end).max(start.offset);
        text[start.offset..end].chars().count().max(1)
    } else {
        1
    };
    let pad: String = line.chars().take(start.column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    format!("  {line}\n  {pad}{}", "^".repeat(width))
}

/// Why a statement or condition could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The grammar wanted something else at this point.
    #[error("unexpected {found}, expected {expected}")]
    Unexpected {
        /// What was there, e.g. "`,`" or "end of input".
        found: String,
        /// What would have been accepted, e.g. "a value".
        expected: String,
    },
    /// A `"` with no closing `"` on the rest of the input.
    #[error("unterminated string literal")]
    UnterminatedString,
    /// A backslash escape Go's `strconv.UnquoteChar` (which the Collector uses) rejects.
    #[error("invalid escape `{0}` in string literal")]
    InvalidEscape(String),
    /// A character no OTTL token starts with.
    #[error("unexpected character `{0}`")]
    InvalidChar(char),
    /// An integer literal outside the signed 64-bit range.
    #[error("integer `{0}` does not fit in 64 bits")]
    IntOutOfRange(String),
    /// A byte literal `0x…` with an odd number of hex digits.
    #[error("byte literal `{0}` has an odd number of hex digits")]
    OddHexDigits(String),
    /// Nothing but whitespace.
    #[error("empty statement")]
    Empty,
}

/// A parse error with its place in the statement.
///
/// `Display` prints one line (`line L, column C: message`), a hint when there is one, and a
/// caret snippet; the caller prefixes the YAML file:line:col of the statement. Boxed inside so
/// `Result<_, ParseError>` stays one pointer wide.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    detail: Box<Detail>,
}

#[derive(Debug, Clone, PartialEq)]
struct Detail {
    kind: ParseErrorKind,
    span: Span,
    position: Position,
    hint: Option<String>,
    snippet: String,
}

impl ParseError {
    pub(crate) fn new(text: &str, kind: ParseErrorKind, span: Span) -> Self {
        let detail = Detail {
            kind,
            span,
            position: Position::locate(text, span.start),
            hint: None,
            snippet: caret_snippet(text, span),
        };
        Self { detail: Box::new(detail) }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.detail.hint = Some(hint.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.detail.kind
    }

    /// The bytes the error points at (empty at the end of the input).
    pub fn span(&self) -> Span {
        self.detail.span
    }

    /// Line and column of the error inside the statement.
    pub fn position(&self) -> Position {
        self.detail.position
    }

    /// A suggestion, e.g. how to write `x - 1` when `x -1` was lexed as a negative number.
    pub fn hint(&self) -> Option<&str> {
        self.detail.hint.as_deref()
    }

    /// The caret snippet under the offending line.
    pub fn snippet(&self) -> &str {
        &self.detail.snippet
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.detail;
        write!(f, "line {}, column {}: {}", d.position.line, d.position.column, d.kind)?;
        if let Some(hint) = &d.hint {
            write!(f, " ({hint})")?;
        }
        write!(f, "\n{}", d.snippet)
    }
}

impl std::error::Error for ParseError {}
