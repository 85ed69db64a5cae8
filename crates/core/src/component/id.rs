//! Component and pipeline identifiers: `type[/name]` and `signal[/name]`, validated as the
//! Collector validates them.

use std::fmt;

use switchyard_pdata::Signal;

/// A component id such as `otlp`, `otlphttp/tempo` or `otlp/a/b` (name `a/b`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId {
    ty: String,
    name: Option<String>,
}

impl ComponentId {
    /// Parses `type[/name]`; the error says what is wrong.
    pub fn parse(s: &str) -> Result<ComponentId, String> {
        let s = s.trim();
        let (ty, name) = match s.split_once('/') {
            Some((t, n)) => (t, Some(n)),
            None => (s, None),
        };
        validate_type(ty)?;
        if let Some(n) = name {
            validate_name(n)?;
        }
        Ok(ComponentId { ty: ty.to_string(), name: name.map(str::to_string) })
    }

    /// An id with a type and no name.
    pub fn new(ty: &str) -> ComponentId {
        ComponentId { ty: ty.to_string(), name: None }
    }

    /// The component type (`otlphttp`).
    pub fn ty(&self) -> &str {
        &self.ty
    }

    /// The name after the first `/`, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{}", self.ty, n),
            None => f.write_str(&self.ty),
        }
    }
}

fn validate_type(ty: &str) -> Result<(), String> {
    if ty.is_empty() {
        return Err("the part before \"/\" (the component type) must not be empty".into());
    }
    let mut chars = ty.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || ty.len() > 63 {
        return Err(format!(
            "invalid component type \"{ty}\": it must start with a letter and contain only letters, digits and \"_\" (at most 63)"
        ));
    }
    Ok(())
}

fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the part after \"/\" (the name) must not be empty".into());
    }
    if name.len() > 1024 {
        return Err("the name after \"/\" is longer than 1024 characters".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("invalid character {c:?} in the name \"{name}\""));
    }
    Ok(())
}

/// A pipeline id such as `traces` or `traces/tempo`. Deserializes from its string form, so
/// a connector config can hold a list of pipeline ids (`pipelines: [traces/a]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct PipelineId {
    signal: Signal,
    name: Option<String>,
}

impl PipelineId {
    /// Parses `signal[/name]`.
    pub fn parse(s: &str) -> Result<PipelineId, String> {
        let (sig, name) = match s.split_once('/') {
            Some((t, n)) => (t, Some(n)),
            None => (s, None),
        };
        let signal = Signal::parse(sig).ok_or_else(|| {
            format!(
                "unknown signal \"{sig}\" in pipeline id \"{s}\"{} (a pipeline id is traces, metrics, logs or profiles, optionally followed by /name)",
                crate::config::suggestion(sig, ["traces", "metrics", "logs", "profiles"])
            )
        })?;
        if let Some(n) = name {
            validate_name(n)?;
        }
        Ok(PipelineId { signal, name: name.map(str::to_string) })
    }

    /// The pipeline's signal.
    pub fn signal(&self) -> Signal {
        self.signal
    }
}

impl TryFrom<String> for PipelineId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PipelineId::parse(&s)
    }
}

impl fmt::Display for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{}", self.signal, n),
            None => write!(f, "{}", self.signal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_in_the_collector() {
        assert_eq!(ComponentId::parse("otlp").unwrap().to_string(), "otlp");
        let id = ComponentId::parse("otlp/a/b").unwrap();
        assert_eq!((id.ty(), id.name()), ("otlp", Some("a/b")));
        for bad in ["", "/x", "x/", "1abc", "a b", "a-b"] {
            assert!(ComponentId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(PipelineId::parse("traces/tempo").unwrap().signal(), Signal::Traces);
        assert!(PipelineId::parse("trace").unwrap_err().contains("did you mean \"traces\""));
    }
}
