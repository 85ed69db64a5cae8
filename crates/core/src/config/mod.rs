//! Configuration as the Collector reads it: load and merge files, expand `${env:...}`,
//! split into sections, and decode each component's body with located errors.

mod de;
mod diagnostics;
mod document;
mod expand;
mod load;
mod optional;
mod redact;
mod telemetry;

pub use de::from_node;
pub use diagnostics::{did_you_mean, suggestion, ConfigError, ConfigErrors};
pub use document::{merge, parse, Entry, Location, Node, Value};
pub use expand::{expand, expand_tree, Env, ProcessEnv};
pub use load::{load_sources, parse_config, ComponentDef, Config, PipelineDef, Ref, ServiceConfig};
pub use optional::Optional;
pub use redact::{is_secret_key, redacted_config, redacted_yaml, REDACTED};
pub use telemetry::{LogEncoding, LogLevel, LogsConfig, MetricsConfig, TelemetryConfig};
