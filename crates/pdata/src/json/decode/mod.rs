//! The OTLP/JSON decoder's machinery: parse the body into a [`serde_json::Value`] tree, then
//! move it into prost messages, field by field.
//!
//! serde_json caps nesting at 128 levels while parsing, and the walk below recurses once per
//! JSON level, so hostile nesting ends in an error, never in a stack overflow.
//!
//! Every message type implements [`Message`], which maps one (already camelCased) key to a
//! field using the converters of [`scalar`] and the generic [`message`], [`object`],
//! [`list`] and [`oneof`] below. Errors carry the JSON path, collected while they unwind.

mod messages;
mod scalar;

use serde_json::Value as Json;

use super::JsonError;

/// A problem found while walking the tree: a message plus the path to the offending value.
#[derive(Debug)]
pub(super) struct Error {
    message: String,
    /// Path segments, innermost first (pushed while the error unwinds).
    path: Vec<Segment>,
}

/// One step of a JSON path: an object key or an array index.
#[derive(Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Error {
    /// An error about the value being decoded; the path is added on the way out.
    pub(super) fn new(message: impl Into<String>) -> Self {
        Error { message: message.into(), path: Vec::new() }
    }

    /// "expected `what`, got ..." about `value`.
    pub(super) fn expected(what: &str, value: &Json) -> Self {
        Error::new(format!("expected {what}, got {}", describe(value)))
    }

    /// Adds the step that led to the value that failed (called while unwinding).
    fn at(mut self, segment: Segment) -> Self {
        self.path.push(segment);
        self
    }
}

impl From<Error> for JsonError {
    fn from(err: Error) -> Self {
        let mut path = String::new();
        for segment in err.path.iter().rev() {
            match segment {
                Segment::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Segment::Index(i) => {
                    path.push('[');
                    path.push_str(&i.to_string());
                    path.push(']');
                }
            }
        }
        JsonError::new(path, err.message)
    }
}

/// The result of decoding one value.
pub(super) type Result<T> = std::result::Result<T, Error>;

/// A protobuf message that can be filled from a JSON object, one key at a time.
pub(super) trait Message: Default {
    /// Sets the field named `key` (lowerCamelCase) from `value`; unknown keys are ignored.
    fn field(&mut self, key: &str, value: Json) -> Result<()>;
}

/// Decodes a whole request or response body, which must be a JSON object.
pub(super) fn decode<T: Message>(body: &[u8]) -> std::result::Result<T, JsonError> {
    let json: Json = serde_json::from_slice(body)?;
    if !json.is_object() {
        return Err(Error::new(format!("the body must be a JSON object, got {}", describe(&json))).into());
    }
    Ok(object(json)?)
}

/// A message field: `null` is `None`, an object is decoded.
pub(super) fn message<T: Message>(value: Json) -> Result<Option<T>> {
    match value {
        Json::Null => Ok(None),
        Json::Object(map) => {
            let mut msg = T::default();
            for (key, value) in map {
                let key = camel_case(key);
                if let Err(err) = msg.field(&key, value) {
                    return Err(err.at(Segment::Key(key)));
                }
            }
            Ok(Some(msg))
        }
        other => Err(Error::expected("an object", &other)),
    }
}

/// A message where `null` means the default message.
pub(super) fn object<T: Message>(value: Json) -> Result<T> {
    Ok(message(value)?.unwrap_or_default())
}

/// A repeated field: `null` is empty, each element of an array is decoded with `item`.
pub(super) fn list<T>(value: Json, item: fn(Json) -> Result<T>) -> Result<Vec<T>> {
    match value {
        Json::Null => Ok(Vec::new()),
        Json::Array(values) => {
            values.into_iter().enumerate().map(|(i, v)| item(v).map_err(|err| err.at(Segment::Index(i)))).collect()
        }
        other => Err(Error::expected("an array", &other)),
    }
}

/// A repeated message field.
pub(super) fn repeated<T: Message>(value: Json) -> Result<Vec<T>> {
    list(value, object)
}

/// A field with explicit presence (`optional double`): `null` is `None`.
pub(super) fn optional<T>(value: Json, decode: fn(Json) -> Result<T>) -> Result<Option<T>> {
    match value {
        Json::Null => Ok(None),
        v => decode(v).map(Some),
    }
}

/// One member of a oneof: sets `out` to `wrap(decode(value))`, unless `value` is `null`.
pub(super) fn oneof<T, O>(
    out: &mut Option<O>,
    value: Json,
    decode: fn(Json) -> Result<T>,
    wrap: fn(T) -> O,
) -> Result<()> {
    if !value.is_null() {
        *out = Some(wrap(decode(value)?));
    }
    Ok(())
}

/// Turns a snake_case key into lowerCamelCase (`trace_id` → `traceId`); other keys are
/// returned as is.
fn camel_case(key: String) -> String {
    if !key.contains('_') {
        return key;
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// What kind of JSON value this is, for error messages; numbers and short strings are shown.
fn describe(value: &Json) -> String {
    const MAX_SHOWN: usize = 64;
    match value {
        Json::Null => "null".to_owned(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) if s.chars().count() <= MAX_SHOWN => format!("{s:?}"),
        Json::String(_) => "a long string".to_owned(),
        Json::Array(_) => "an array".to_owned(),
        Json::Object(_) => "an object".to_owned(),
    }
}
