//! Read offsets kept across restarts: one JSON file per receiver in the `file_storage`
//! extension's directory (`receiver_filelog_<name>.json`, after the Collector's storage
//! client name), replaced atomically (write, fsync, rename) after every accepted batch, so
//! a crash at any point leaves either the old or the new offsets, never a torn file.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};

/// The offset of one file, by fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// The file's first bytes.
    pub fingerprint: Vec<u8>,
    /// Next byte to read.
    pub offset: u64,
    /// Records read so far.
    pub records: u64,
    /// Where it was last seen (informational).
    pub path: String,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    fingerprint: String,
    offset: u64,
    #[serde(default)]
    records: u64,
    #[serde(default)]
    path: String,
}

/// Why the checkpoint could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// File system.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Not our format.
    #[error("{path}: not a filelog checkpoint: {message}")]
    Corrupt {
        /// The file.
        path: String,
        /// The parse error.
        message: String,
    },
}

/// The checkpoint file of one receiver.
pub struct Checkpoint {
    path: PathBuf,
    fsync: bool,
}

impl Checkpoint {
    /// The checkpoint of receiver `name` (the id's name part, may be empty) in `dir`.
    pub fn new(dir: &Path, name: &str, fsync: bool) -> Checkpoint {
        Checkpoint { path: dir.join(format!("receiver_filelog_{name}.json")), fsync }
    }

    /// The offsets saved last; none if the file does not exist.
    pub fn load(&self) -> Result<Vec<Known>, CheckpointError> {
        let p = self.path.display().to_string();
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(CheckpointError::Io { path: p, source }),
        };
        let stored: Vec<Stored> = serde_json::from_str(&text)
            .map_err(|e| CheckpointError::Corrupt { path: p.clone(), message: e.to_string() })?;
        stored
            .into_iter()
            .map(|s| {
                let fingerprint = base64::engine::general_purpose::STANDARD
                    .decode(&s.fingerprint)
                    .map_err(|e| CheckpointError::Corrupt { path: p.clone(), message: e.to_string() })?;
                Ok(Known { fingerprint, offset: s.offset, records: s.records, path: s.path })
            })
            .collect()
    }

    /// Replaces the saved offsets.
    pub fn save(&self, known: &[Known]) -> Result<(), CheckpointError> {
        let io = |source| CheckpointError::Io { path: self.path.display().to_string(), source };
        let stored: Vec<Stored> = known
            .iter()
            .map(|k| Stored {
                fingerprint: base64::engine::general_purpose::STANDARD.encode(&k.fingerprint),
                offset: k.offset,
                records: k.records,
                path: k.path.clone(),
            })
            .collect();
        let text = serde_json::to_vec(&stored).map_err(|e| io(std::io::Error::other(e)))?;
        let tmp = self.path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&text).map_err(io)?;
        if self.fsync {
            f.sync_all().map_err(io)?;
        }
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing_file() {
        let d = tempfile::tempdir().unwrap();
        let c = Checkpoint::new(d.path(), "x", true);
        assert!(c.load().unwrap().is_empty());
        let k = vec![Known { fingerprint: vec![0, 1, 255], offset: 42, records: 3, path: "/a".into() }];
        c.save(&k).unwrap();
        assert_eq!(c.load().unwrap(), k);
        std::fs::write(d.path().join("receiver_filelog_x.json"), "garbage").unwrap();
        assert!(matches!(c.load(), Err(CheckpointError::Corrupt { .. })));
    }
}
