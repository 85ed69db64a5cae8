//! `receivers: filelog:` configuration: the Collector's `fileconsumer` fields plus the
//! stanza helper fields (`operators`, `attributes`, `resource`, `storage`,
//! `retry_on_failure`), with their defaults (`start_at: end`, `poll_interval: 200ms`,
//! `max_log_size: 1MiB`, `fingerprint_size: 1kb`, `force_flush_period: 500ms`,
//! `include_file_name: true`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use switchyard_core::component::{ComponentConfig, ComponentId, FieldError};

/// The `storage` extension id, checked by [`ComponentConfig::validate`].
pub fn storage_id(s: &str) -> Result<ComponentId, String> {
    ComponentId::parse(s)
}

use crate::stanza::OperatorConfig;

/// The filelog receiver's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileLogReceiverConfig {
    /// Glob patterns of files to read (required).
    pub include: Vec<String>,
    /// Glob patterns of files to leave out.
    pub exclude: Vec<String>,
    /// Leave out files not modified for this long (0: no limit).
    #[serde(with = "humantime_serde")]
    pub exclude_older_than: Option<Duration>,
    /// `beginning` or `end` (default): where files present at the first poll are read from.
    pub start_at: String,
    /// Add `log.file.name` (default true).
    pub include_file_name: bool,
    /// Add `log.file.path` (default false).
    pub include_file_path: bool,
    /// Add `log.file.name_resolved` (symlinks followed).
    pub include_file_name_resolved: bool,
    /// Add `log.file.path_resolved`.
    pub include_file_path_resolved: bool,
    /// Add `log.file.owner.name` (accepted; not built).
    pub include_file_owner_name: bool,
    /// Add `log.file.owner.group.name` (accepted; not built).
    pub include_file_owner_group_name: bool,
    /// Add `log.file.record_number` (1-based line number in the file).
    pub include_file_record_number: bool,
    /// Add `log.file.record_offset` (byte offset of the record in the file).
    pub include_file_record_offset: bool,
    /// How often the globs are matched and files read (default 200ms).
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Largest record in bytes; longer ones are split (default 1MiB).
    #[serde(deserialize_with = "crate::stanza::config::byte_size")]
    pub max_log_size: u64,
    /// Files read at once (default 1024).
    pub max_concurrent_files: usize,
    /// Batches read from one file per poll (0: no limit).
    pub max_batches: usize,
    /// `utf-8` (default), `nop`, `utf-16le`, `utf-16be`, `ascii`, `latin1`.
    pub encoding: String,
    /// Records spanning lines.
    pub multiline: Option<MultilineConfig>,
    /// Emit an unterminated last record after the file has not grown for this long (default 500ms; 0: never).
    #[serde(with = "humantime_serde")]
    pub force_flush_period: Duration,
    /// Bytes from the start of a file that identify it (default 1kb; at least 16).
    #[serde(deserialize_with = "crate::stanza::config::byte_size")]
    pub fingerprint_size: u64,
    /// Delete a file after reading it to the end (needs `start_at: beginning`).
    pub delete_after_read: bool,
    /// Keep leading whitespace of records.
    pub preserve_leading_whitespaces: bool,
    /// Keep trailing whitespace of records.
    pub preserve_trailing_whitespaces: bool,
    /// The storage extension (`file_storage/...`) keeping read offsets across restarts.
    pub storage: Option<String>,
    /// Stanza operators applied to every record.
    pub operators: Vec<OperatorConfig>,
    /// Attributes added to every record.
    pub attributes: BTreeMap<String, Value>,
    /// Resource attributes added to every record.
    pub resource: BTreeMap<String, Value>,
    /// Retry of refused batches: accepted; refused batches are always retried from the file.
    pub retry_on_failure: RetryOnFailure,
    /// Accepted for compatibility (files are matched by path, in glob order).
    pub ordering_criteria: Option<IgnoredAny>,
    /// Accepted for compatibility.
    pub header: Option<IgnoredAny>,
    /// `gzip` for compressed files (accepted; not built: refused at validation).
    pub compression: String,
    /// Accepted for compatibility.
    pub acquire_fs_lock: bool,
    /// Accepted for compatibility.
    pub polls_to_archive: Option<u64>,
    /// Accepted for compatibility.
    pub operator_id: Option<String>,
}

/// `multiline:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultilineConfig {
    /// A record starts where this matches.
    pub line_start_pattern: Option<String>,
    /// A record ends where this matches.
    pub line_end_pattern: Option<String>,
    /// Leave the matched pattern out of the record.
    pub omit_pattern: bool,
}

/// `retry_on_failure:` (stanza's consumerretry fields).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryOnFailure {
    /// Accepted.
    pub enabled: bool,
    /// Accepted.
    #[serde(with = "humantime_serde")]
    pub initial_interval: Option<Duration>,
    /// Accepted.
    #[serde(with = "humantime_serde")]
    pub max_interval: Option<Duration>,
    /// Accepted.
    #[serde(with = "humantime_serde")]
    pub max_elapsed_time: Option<Duration>,
}

impl Default for FileLogReceiverConfig {
    fn default() -> Self {
        FileLogReceiverConfig {
            include: Vec::new(),
            exclude: Vec::new(),
            exclude_older_than: None,
            start_at: "end".into(),
            include_file_name: true,
            include_file_path: false,
            include_file_name_resolved: false,
            include_file_path_resolved: false,
            include_file_owner_name: false,
            include_file_owner_group_name: false,
            include_file_record_number: false,
            include_file_record_offset: false,
            poll_interval: Duration::from_millis(200),
            max_log_size: 1 << 20,
            max_concurrent_files: 1024,
            max_batches: 0,
            encoding: "utf-8".into(),
            multiline: None,
            force_flush_period: Duration::from_millis(500),
            fingerprint_size: 1000,
            delete_after_read: false,
            preserve_leading_whitespaces: false,
            preserve_trailing_whitespaces: false,
            storage: None,
            operators: Vec::new(),
            attributes: BTreeMap::new(),
            resource: BTreeMap::new(),
            retry_on_failure: RetryOnFailure::default(),
            ordering_criteria: None,
            header: None,
            compression: String::new(),
            acquire_fs_lock: false,
            polls_to_archive: None,
            operator_id: None,
        }
    }
}

/// Text encodings the reader decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes as they are (the body is a bytes value).
    Nop,
    /// UTF-8 (invalid sequences replaced).
    Utf8,
    /// UTF-16 little endian.
    Utf16Le,
    /// UTF-16 big endian.
    Utf16Be,
    /// 7-bit ASCII (other bytes replaced).
    Ascii,
    /// ISO-8859-1.
    Latin1,
}

impl Encoding {
    /// The encoding of an `encoding:` value (case-insensitive, as the Collector's lookup).
    pub fn parse(s: &str) -> Option<Encoding> {
        Some(match s.to_ascii_lowercase().as_str() {
            "nop" => Encoding::Nop,
            "" | "utf-8" | "utf8" => Encoding::Utf8,
            "utf-16le" | "utf16le" => Encoding::Utf16Le,
            "utf-16be" | "utf16be" => Encoding::Utf16Be,
            "ascii" | "us-ascii" => Encoding::Ascii,
            "latin1" | "latin-1" | "iso-8859-1" => Encoding::Latin1,
            _ => return None,
        })
    }
}

impl FileLogReceiverConfig {
    /// The parsed `encoding`.
    pub fn encoding(&self) -> Encoding {
        Encoding::parse(&self.encoding).unwrap_or(Encoding::Utf8)
    }

    /// True when files present at the first poll are read from their start.
    pub fn from_beginning(&self) -> bool {
        self.start_at == "beginning"
    }
}

impl ComponentConfig for FileLogReceiverConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.include.is_empty() {
            e.push(FieldError::new("include", "'include' must be specified: at least one glob pattern"));
        }
        for (field, pats) in [("include", &self.include), ("exclude", &self.exclude)] {
            for p in pats.iter() {
                if let Err(m) = super::glob::Pattern::new(p) {
                    e.push(FieldError::new(field, format!("{p:?}: {m}")));
                }
            }
        }
        if self.start_at != "beginning" && self.start_at != "end" {
            e.push(FieldError::new("start_at", format!("must be beginning or end, not {:?}", self.start_at)));
        }
        if Encoding::parse(&self.encoding).is_none() {
            e.push(FieldError::new(
                "encoding",
                format!("unsupported encoding {:?} (nop, utf-8, utf-16le, utf-16be, ascii, latin1)", self.encoding),
            ));
        }
        if self.fingerprint_size < 16 {
            e.push(FieldError::new("fingerprint_size", "must be at least 16 bytes"));
        }
        if self.max_log_size == 0 {
            e.push(FieldError::new("max_log_size", "must be greater than 0"));
        }
        if self.max_concurrent_files < 1 {
            e.push(FieldError::new("max_concurrent_files", "must be at least 1"));
        }
        if self.poll_interval.is_zero() {
            e.push(FieldError::new("poll_interval", "must be greater than 0"));
        }
        if self.delete_after_read && !self.from_beginning() {
            e.push(FieldError::new("delete_after_read", "needs start_at: beginning"));
        }
        if !self.compression.is_empty() {
            e.push(FieldError::new("compression", "compressed files are not supported by Switchyard yet"));
        }
        if let Some(m) = &self.multiline {
            match (&m.line_start_pattern, &m.line_end_pattern) {
                (Some(_), Some(_)) => {
                    e.push(FieldError::new("multiline", "only one of line_start_pattern and line_end_pattern"))
                }
                (None, None) => {
                    e.push(FieldError::new("multiline", "one of line_start_pattern and line_end_pattern is required"))
                }
                (Some(p), None) | (None, Some(p)) => {
                    if let Err(err) = super::split::multiline_regex(p) {
                        e.push(FieldError::new("multiline", format!("{p:?}: {err}")));
                    }
                }
            }
        }
        if let Some(Err(m)) = self.storage.as_deref().map(storage_id) {
            e.push(FieldError::new("storage", m));
        }
        if let Err(m) = crate::stanza::build(&self.operators) {
            e.push(FieldError::new("operators", m));
        }
        e
    }
}
