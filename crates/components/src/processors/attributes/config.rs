//! `processors: attributes:` configuration: `actions` plus the legacy `include`/`exclude`
//! match properties, with the Collector's keys.

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};

use crate::attraction::{ActionKeyValue, AttrProc};
use crate::filterconfig::check_properties;
use crate::filterconfig::config::MatchProperties;

/// The attributes processor's config.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AttributesProcessorConfig {
    /// The actions, applied in order to each span's, log record's or data point's
    /// attributes. Required.
    pub actions: Vec<ActionKeyValue>,
    /// Only items matching these properties are processed.
    pub include: Option<MatchProperties>,
    /// Items matching these properties are not processed (checked after `include`).
    pub exclude: Option<MatchProperties>,
}

impl ComponentConfig for AttributesProcessorConfig {
    /// Everything that does not depend on the signal: the actions, and the patterns, types
    /// and values of `include`/`exclude`. Which properties a signal accepts is checked
    /// when the processor is built for a pipeline (as the Collector does).
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.actions.is_empty() {
            errors.push(FieldError::new("actions", "missing required field \"actions\""));
        } else if let Err(e) = AttrProc::new("actions", &self.actions) {
            errors.extend(e);
        }
        if let Some(p) = &self.include {
            errors.extend(check_properties("include", p));
        }
        if let Some(p) = &self.exclude {
            errors.extend(check_properties("exclude", p));
        }
        errors
    }
}
