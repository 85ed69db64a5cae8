//! [`JsonError`]: why an OTLP/JSON body could not be decoded.

use std::fmt;

/// Why an OTLP/JSON body could not be decoded.
///
/// Its `Display` names the offending JSON path (with keys in lowerCamelCase, whatever
/// spelling the input used) followed by what was wrong, for example
/// `resourceSpans[0].scopeSpans[0].spans[3].traceId: invalid trace id: expected 32 hex
/// characters, got 6`. Malformed JSON is reported with serde_json's message, which gives
/// the line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    path: String,
    message: String,
}

impl JsonError {
    /// An error at `path` (empty for the whole body).
    pub(crate) fn new(path: String, message: String) -> Self {
        JsonError { path, message }
    }

    /// The JSON path of the offending value, such as
    /// `resourceLogs[0].scopeLogs[1].logRecords[2].body`; empty when the problem is the body
    /// as a whole (including malformed JSON).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was wrong with the value at [`path`](Self::path), without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<serde_json::Error> for JsonError {
    fn from(err: serde_json::Error) -> Self {
        let message = match err.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("invalid JSON: {err}")
            }
            _ => err.to_string(),
        };
        JsonError::new(String::new(), message)
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for JsonError {}
