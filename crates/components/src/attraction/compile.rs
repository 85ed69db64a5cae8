//! Checking and compiling actions (`attraction.NewAttrProc`): every error is placed at the
//! key of the action it concerns (`actions::2::pattern`), with the Collector's wording
//! minus its "at the N-th action" (the location says it), plus a suggestion for typos.

use regex::Regex;
use switchyard_core::component::FieldError;
use switchyard_core::config::suggestion;

use super::config::ActionKeyValue;
use super::{Action, AttrProc, ContextKey, ConvertTo, Source, SourceKind};
use crate::filterconfig::json_to_any;

/// The action names, as written (any case).
const ACTIONS: [&str; 7] = ["insert", "update", "upsert", "delete", "hash", "extract", "convert"];
/// The `converted_type` values.
const TYPES: [&str; 3] = ["int", "double", "string"];

impl AttrProc {
    /// Compiles `actions` written at `field` (`actions`, or `attributes` for the resource
    /// processor), reporting every invalid action.
    pub fn new(field: &str, actions: &[ActionKeyValue]) -> Result<AttrProc, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = Vec::with_capacity(actions.len());
        for (i, a) in actions.iter().enumerate() {
            match compile(&format!("{field}::{i}"), a) {
                Ok(action) => out.push(action),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            let uses_context = out.iter().any(|a| a.source().is_some_and(|s| matches!(s.kind, SourceKind::Context(_))));
            Ok(AttrProc { actions: out, uses_context })
        } else {
            Err(errors)
        }
    }
}

fn compile(at: &str, a: &ActionKeyValue) -> Result<Action, FieldError> {
    let name = a.action.to_ascii_lowercase();
    let err = |key: &str, message: String| FieldError::new(format!("{at}::{key}"), message);
    let sources = usize::from(a.value.is_some())
        + usize::from(!a.from_attribute.is_empty())
        + usize::from(!a.from_context.is_empty());
    let no_converted_type = || {
        if a.converted_type.is_empty() {
            Ok(())
        } else {
            Err(err(
                "converted_type",
                format!("Action \"{name}\" does not use the \"converted_type\" field. This must not be specified"),
            ))
        }
    };
    let key_needed = || {
        if a.key.is_empty() {
            Err(FieldError::new(at, "missing required field \"key\""))
        } else {
            Ok(())
        }
    };
    match name.as_str() {
        "insert" | "update" | "upsert" => {
            key_needed()?;
            if sources == 0 && a.default_value.is_none() {
                return Err(FieldError::new(
                    at,
                    "Either field \"value\", \"from_attribute\" or \"from_context\" setting must be specified",
                ));
            }
            if sources > 1 {
                return Err(FieldError::new(
                    at,
                    "multiple value sources being set: use one of \"value\", \"from_attribute\", \"from_context\"",
                ));
            }
            if !a.pattern.is_empty() {
                return Err(err(
                    "pattern",
                    format!("Action \"{name}\" does not use the \"pattern\" field. This must not be specified"),
                ));
            }
            no_converted_type()?;
            let kind = if let Some(v) = &a.value {
                SourceKind::Value(json_to_any(v))
            } else if !a.from_context.is_empty() {
                SourceKind::Context(ContextKey::parse(&a.from_context))
            } else if !a.from_attribute.is_empty() {
                SourceKind::Attribute(a.from_attribute.clone())
            } else {
                SourceKind::Nothing
            };
            let source = Source { kind, default: a.default_value.as_ref().map(json_to_any) };
            let key = a.key.clone();
            Ok(match name.as_str() {
                "insert" => Action::Insert { key, source },
                "update" => Action::Update { key, source },
                _ => Action::Upsert { key, source },
            })
        }
        "delete" | "hash" => {
            if a.key.is_empty() && a.pattern.is_empty() {
                return Err(FieldError::new(
                    at,
                    "missing required field (at least one of \"key\" and \"pattern\" have to be used)",
                ));
            }
            if sources > 0 || a.default_value.is_some() {
                return Err(FieldError::new(
                    at,
                    format!("Action \"{name}\" does not use \"value\", \"from_attribute\", \"from_context\" or \"default_value\" fields. These must not be specified"),
                ));
            }
            no_converted_type()?;
            let pattern = if a.pattern.is_empty() { None } else { Some(regex(at, &a.pattern)?) };
            let key = (!a.key.is_empty()).then(|| a.key.clone());
            Ok(if name == "delete" { Action::Delete { key, pattern } } else { Action::Hash { key, pattern } })
        }
        "extract" => {
            key_needed()?;
            if sources > 0 || a.default_value.is_some() {
                return Err(FieldError::new(
                    at,
                    format!("Action \"{name}\" does not use a value source field. These must not be specified"),
                ));
            }
            if a.pattern.is_empty() {
                return Err(FieldError::new(at, "missing required field \"pattern\" for action \"extract\""));
            }
            no_converted_type()?;
            let re = regex(at, &a.pattern)?;
            let names: Vec<String> = re.capture_names().skip(1).map(|n| n.unwrap_or_default().to_string()).collect();
            if names.is_empty() {
                return Err(err("pattern", "Field \"pattern\" contains no named matcher groups".into()));
            }
            if names.iter().any(String::is_empty) {
                return Err(err("pattern", "Field \"pattern\" contains at least one unnamed matcher group".into()));
            }
            let overwrites_source = names.contains(&a.key);
            Ok(Action::Extract { key: a.key.clone(), regex: re, names, overwrites_source })
        }
        "convert" => {
            key_needed()?;
            if sources > 0 || a.default_value.is_some() || !a.pattern.is_empty() {
                return Err(FieldError::new(
                    at,
                    format!("Action \"{name}\" does not use value sources or \"pattern\" field. These must not be specified"),
                ));
            }
            let to = match a.converted_type.as_str() {
                "int" => ConvertTo::Int,
                "double" => ConvertTo::Double,
                "string" => ConvertTo::String,
                "" => {
                    return Err(FieldError::new(
                        at,
                        "missing required field \"converted_type\" for action \"convert\"",
                    ))
                }
                other => {
                    return Err(err(
                        "converted_type",
                        format!(
                            "invalid value \"{other}\" in field \"converted_type\" for action \"convert\" (one of int, double, string){}",
                            suggestion(other, TYPES)
                        ),
                    ))
                }
            };
            Ok(Action::Convert { key: a.key.clone(), to })
        }
        "" => Err(FieldError::new(at, "missing required field \"action\"")),
        _ => Err(err(
            "action",
            format!("unsupported action \"{name}\" (one of {}){}", ACTIONS.join(", "), suggestion(&name, ACTIONS)),
        )),
    }
}

/// Compiles a `pattern` (RE2 syntax), the error at `<at>::pattern` with the regex error.
fn regex(at: &str, pattern: &str) -> Result<Regex, FieldError> {
    Regex::new(pattern).map_err(|e| {
        FieldError::new(format!("{at}::pattern"), format!("Field \"pattern\" has invalid pattern: \"{pattern}\": {e}"))
    })
}
