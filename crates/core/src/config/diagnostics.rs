//! Configuration errors a user can act on: where (file:line:col), which key, what is wrong,
//! and a did-you-mean when a name is close to a known one.

use std::fmt;

use super::document::Location;

/// One configuration problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the offending node is, when known.
    pub loc: Option<Location>,
    /// The key path, Collector style: `exporters::otlphttp/tempo::endpoint`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error at a known location.
    pub fn at(loc: Location, path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { loc: Some(loc), path: path.into(), message: message.into() }
    }

    /// An error whose location is unknown (e.g. about the whole file).
    pub fn general(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { loc: None, path: path.into(), message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.loc {
            write!(f, "{loc}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in a configuration; `validate` prints them all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

/// The known name closest to `unknown`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(unknown, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// `, did you mean "x"?` or nothing.
pub fn suggestion<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(unknown, known).map(|k| format!(", did you mean \"{k}\"?")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("otlphtp", ["otlp", "otlphttp", "debug"]), Some("otlphttp"));
        assert_eq!(did_you_mean("compresion", ["compression", "headers"]), Some("compression"));
        assert_eq!(did_you_mean("zzz", ["otlp", "debug"]), None);
    }
}
