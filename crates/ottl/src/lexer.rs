//! The OTTL lexer: text to tokens, with the Collector's tokenisation rules.
//!
//! The Collector lexes first (participle's regex lexer, rules tried in order) and parses the
//! tokens after. Reproducing that order matters for edge cases users hit: `x-1` is the path `x`
//! followed by the *integer* `-1` (a signed number is one token), so `Len(x)-1` does not parse
//! upstream and does not parse here either; `1.` and `1e3` are not numbers; `not`, `and`, `or`,
//! `true`, `false` are keywords only as whole words. The parser then works on whole tokens.

use crate::error::{ParseError, ParseErrorKind, Span};

/// What kind of token, with its decoded value where one exists.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A string literal, already unquoted.
    Str(String),
    /// A signed integer literal.
    Int(i64),
    /// A float literal (`[-+]?\d*\.\d+([eE][-+]?\d+)?`).
    Float(f64),
    /// A byte literal `0x…`, decoded.
    Bytes(Vec<u8>),
    /// `true` or `false`.
    Bool(bool),
    /// `not`.
    Not,
    /// `and`.
    And,
    /// `or`.
    Or,
    /// A word starting with a lowercase letter: a path segment, editor name, argument name,
    /// or the keywords `where` and `nil` (which the Collector matches by text, not by rule).
    Lower(String),
    /// A word starting with an uppercase letter with only `A-Z0-9_` after: an enum, or a
    /// converter name when a `(` follows.
    Upper(String),
    /// Any other word: a converter name (`IsMatch`) or a camelCase argument name.
    Mixed(String),
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`.
    Cmp(&'static str),
    /// `+`, `-`, `*`, `/`.
    Math(char),
    /// `=` (named arguments).
    Equal,
    /// `(`, `)`, `[`, `]`, `{`, `}`, `,`, `.`, `:`.
    Punct(char),
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self, text: &str) -> String {
        match self {
            Tok::Str(_) => format!("string {text}"),
            Tok::Int(_) | Tok::Float(_) => format!("number `{text}`"),
            Tok::Bytes(_) => format!("bytes `{text}`"),
            _ => format!("`{text}`"),
        }
    }
}

/// One token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Span,
    /// A number literal written with a leading `+` or `-` (one token upstream too).
    pub(crate) signed: bool,
}

impl winnow::stream::Location for Token {
    fn previous_token_end(&self) -> usize {
        self.span.end
    }
    fn current_token_start(&self) -> usize {
        self.span.start
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `text` into tokens, skipping whitespace.
pub(crate) fn lex(text: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let err = |kind, end| ParseError::new(text, kind, Span::new(start, end));
        let tok = if c == b'0' && bytes.get(i + 1) == Some(&b'x') && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            i += 2;
            while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
                i += 1;
            }
            let digits = &text[start + 2..i];
            if digits.len() % 2 == 1 {
                return Err(err(ParseErrorKind::OddHexDigits(text[start..i].to_string()), i));
            }
            let decoded = (0..digits.len())
                .step_by(2)
                .map(|k| u8::from_str_radix(&digits[k..k + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| err(ParseErrorKind::OddHexDigits(text[start..i].to_string()), i))?;
            Tok::Bytes(decoded)
        } else if let Some(end) = number_end(bytes, i) {
            i = end.0;
            let literal = &text[start..i];
            if end.1 {
                match literal.parse::<f64>() {
                    Ok(v) => Tok::Float(v),
                    Err(_) => return Err(err(ParseErrorKind::InvalidChar(c as char), i)),
                }
            } else {
                match literal.parse::<i64>() {
                    Ok(v) => Tok::Int(v),
                    Err(_) => return Err(err(ParseErrorKind::IntOutOfRange(literal.to_string()), i)),
                }
            }
        } else if c == b'"' {
            let (value, end) = string_literal(text, i)?;
            i = end;
            Tok::Str(value)
        } else if c.is_ascii_alphabetic() {
            while i < bytes.len() && is_word(bytes[i]) {
                i += 1;
            }
            let word = &text[start..i];
            match word {
                "not" => Tok::Not,
                "and" => Tok::And,
                "or" => Tok::Or,
                "true" => Tok::Bool(true),
                "false" => Tok::Bool(false),
                _ if c.is_ascii_lowercase() => Tok::Lower(word.to_string()),
                _ if word.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') => {
                    Tok::Upper(word.to_string())
                }
                _ => Tok::Mixed(word.to_string()),
            }
        } else {
            let next = bytes.get(i + 1).copied();
            let (tok, len) = match (c, next) {
                (b'=', Some(b'=')) => (Tok::Cmp("=="), 2),
                (b'!', Some(b'=')) => (Tok::Cmp("!="), 2),
                (b'>', Some(b'=')) => (Tok::Cmp(">="), 2),
                (b'<', Some(b'=')) => (Tok::Cmp("<="), 2),
                (b'>', _) => (Tok::Cmp(">"), 1),
                (b'<', _) => (Tok::Cmp("<"), 1),
                (b'+' | b'-' | b'*' | b'/', _) => (Tok::Math(c as char), 1),
                (b'=', _) => (Tok::Equal, 1),
                (b'(' | b')' | b'[' | b']' | b'{' | b'}' | b',' | b'.' | b':', _) => (Tok::Punct(c as char), 1),
                _ => {
                    let ch = text[i..].chars().next().unwrap_or('?');
                    return Err(err(ParseErrorKind::InvalidChar(ch), i + ch.len_utf8()));
                }
            };
            i += len;
            tok
        };
        let signed = matches!(tok, Tok::Int(_) | Tok::Float(_)) && matches!(c, b'+' | b'-');
        tokens.push(Token { tok, span: Span::new(start, i), signed });
    }
    Ok(tokens)
}

/// Matches the Collector's `Float` then `Int` rules at `i`; returns the end and whether it is
/// a float. A sign belongs to the number when a digit (or `.digit`) follows it directly.
fn number_end(bytes: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i;
    if matches!(bytes.get(j), Some(b'+' | b'-')) {
        j += 1;
    }
    let digits_start = j;
    while bytes.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    let int_end = j;
    if bytes.get(j) == Some(&b'.') && bytes.get(j + 1).is_some_and(u8::is_ascii_digit) {
        j += 1;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if matches!(bytes.get(j), Some(b'e' | b'E')) {
            let mut k = j + 1;
            if matches!(bytes.get(k), Some(b'+' | b'-')) {
                k += 1;
            }
            if bytes.get(k).is_some_and(u8::is_ascii_digit) {
                while bytes.get(k).is_some_and(u8::is_ascii_digit) {
                    k += 1;
                }
                j = k;
            }
        }
        return Some((j, true));
    }
    (int_end > digits_start).then_some((int_end, false))
}

/// Lexes and unquotes a string literal starting at the `"` at `start`.
///
/// Escapes follow Go's `strconv.UnquoteChar` with `"` as the quote, which is what the Collector
/// runs on every string token: `\a \b \f \n \r \t \v \\ \"`, `\xHH`, `\NNN` (octal, at most
/// 255), `\uHHHH`, `\UHHHHHHHH`. Anything else (`\d`, `\'`, `\.`) is an error, so regexes need
/// `\\d`. Like participle, `\xHH` and octal escapes give the *character* U+00HH, not a raw byte.
fn string_literal(text: &str, start: usize) -> Result<(String, usize), ParseError> {
    let mut out = String::new();
    let mut chars = text[start + 1..].char_indices().map(|(k, c)| (start + 1 + k, c)).peekable();
    while let Some((pos, c)) = chars.next() {
        match c {
            '"' => return Ok((out, pos + 1)),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let simple = match e {
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    'v' => Some('\u{b}'),
                    '\\' => Some('\\'),
                    '"' => Some('"'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let (digits, radix) = match e {
                    'x' => (2, 16),
                    'u' => (4, 16),
                    'U' => (8, 16),
                    '0'..='7' => (2, 8),
                    _ => (0, 0),
                };
                let mut code = String::new();
                if radix == 8 {
                    code.push(e);
                }
                let mut end = pos + 1 + e.len_utf8();
                for _ in 0..digits {
                    match chars.peek() {
                        Some(&(p, d)) if d.is_digit(radix.max(2)) => {
                            code.push(d);
                            end = p + 1;
                            chars.next();
                        }
                        _ => break,
                    }
                }
                let expected_len = if radix == 8 { 3 } else { digits };
                let value = (radix != 0 && code.len() == expected_len)
                    .then(|| u32::from_str_radix(&code, radix).ok())
                    .flatten()
                    .filter(|v| radix != 8 || *v <= 255)
                    .and_then(char::from_u32);
                match value {
                    Some(ch) => out.push(ch),
                    None => {
                        let bad = text.get(pos..end).unwrap_or("\\").to_string();
                        return Err(ParseError::new(text, ParseErrorKind::InvalidEscape(bad), Span::new(pos, end))
                            .with_hint("write a literal backslash as `\\\\`, e.g. \"\\\\d+\" for the regex \\d+"));
                    }
                }
            }
            _ => out.push(c),
        }
    }
    Err(ParseError::new(text, ParseErrorKind::UnterminatedString, Span::new(start, text.len())))
}
