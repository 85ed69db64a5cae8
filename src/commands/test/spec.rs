//! The test file as written: decoded with the config loader's located deserializer, so a
//! typo in a test file is reported with file, line and column as a config error is.
//!
//! The shape follows Vector's `vector test` (`inputs` inserted at a component, `outputs`
//! extracted from one, with conditions), in Collector terms: inputs enter where a receiver,
//! a pipeline or a processor takes data; expectations are about what an exporter, or a
//! pipeline fed by a connector, received.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;

/// One or several strings (`config: a.yaml` or `config: [a.yaml, b.yaml]`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single string.
    One(String),
    /// A list.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings, in order.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The configuration under test: paths relative to the test file, merged in order as
    /// repeated `--config` flags are.
    pub config: OneOrMany,
    /// The cases, run in order, each on a freshly built graph.
    pub tests: Vec<TestCase>,
}

/// One case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// Printed with PASS or FAIL.
    pub name: String,
    /// Requests pushed in, in order.
    pub inputs: Vec<Input>,
    /// What must come out.
    pub expect: Vec<Expectation>,
}

/// One request pushed into the graph.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Input {
    /// Enter as this receiver would: into every pipeline that lists it.
    pub receiver: Option<String>,
    /// Enter at the start of this pipeline (after its receivers).
    pub pipeline: Option<String>,
    /// With `pipeline`: enter just before this processor of the pipeline.
    pub processor: Option<String>,
    /// Request headers (gRPC metadata), for the routing connector's `request` context and
    /// processors that read client metadata.
    pub headers: IndexMap<String, String>,
    /// Resource attributes of every item of this input.
    pub resource: IndexMap<String, Json>,
    /// The instrumentation scope.
    pub scope: Option<ScopeSpec>,
    /// Spans (a traces input).
    pub spans: Vec<SpanSpec>,
    /// Metrics (a metrics input).
    pub metrics: Vec<MetricSpec>,
    /// Log records (a logs input).
    pub logs: Vec<LogSpec>,
    /// A whole OTLP/JSON export request instead (`resourceSpans`, `resourceMetrics` or
    /// `resourceLogs`); `resource` and `scope` do not apply to it.
    pub otlp_json: Option<String>,
}

/// An instrumentation scope.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScopeSpec {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its attributes.
    pub attributes: IndexMap<String, Json>,
}

/// A span, compactly.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpanSpec {
    /// The span name.
    pub name: String,
    /// `internal` (default), `server`, `client`, `producer`, `consumer`.
    pub kind: SpanKindSpec,
    /// Span attributes.
    pub attributes: IndexMap<String, Json>,
    /// The status; unset when absent.
    pub status: Option<StatusSpec>,
    /// 32 hex digits; default: one trace id per input.
    pub trace_id: Option<String>,
    /// 16 hex digits; default: a distinct id per span.
    pub span_id: Option<String>,
    /// 16 hex digits; default: none (a root span).
    pub parent_span_id: Option<String>,
    /// How long the span took (it ends when the case runs); default 1ms.
    #[serde(with = "humantime_serde")]
    pub duration: Option<std::time::Duration>,
}

/// `SpanKind`, as OTTL and the Collector's docs name it.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKindSpec {
    /// SPAN_KIND_INTERNAL.
    #[default]
    Internal,
    /// SPAN_KIND_SERVER.
    Server,
    /// SPAN_KIND_CLIENT.
    Client,
    /// SPAN_KIND_PRODUCER.
    Producer,
    /// SPAN_KIND_CONSUMER.
    Consumer,
}

/// A span status.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusSpec {
    /// `unset`, `ok` or `error`.
    pub code: StatusCodeSpec,
    /// The description.
    pub message: String,
}

/// A status code.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusCodeSpec {
    /// STATUS_CODE_UNSET.
    #[default]
    Unset,
    /// STATUS_CODE_OK.
    Ok,
    /// STATUS_CODE_ERROR.
    Error,
}

/// A metric with its data points, compactly (gauge or sum; other kinds via `otlp_json`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricSpec {
    /// The metric name.
    pub name: String,
    /// `gauge` (default) or `sum`.
    #[serde(rename = "type")]
    pub kind: MetricKindSpec,
    /// The unit.
    pub unit: String,
    /// The description.
    pub description: String,
    /// For a sum: monotonic (a counter). Cumulative temporality.
    pub monotonic: bool,
    /// One point: its value (an integer or a double).
    pub value: Option<Json>,
    /// One point: its attributes.
    pub attributes: IndexMap<String, Json>,
    /// Several points instead of `value`/`attributes`.
    pub points: Vec<PointSpec>,
}

/// The metric kinds the compact form writes.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MetricKindSpec {
    /// A gauge.
    #[default]
    Gauge,
    /// A sum.
    Sum,
}

/// One number data point.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PointSpec {
    /// Its value (an integer or a double).
    pub value: Json,
    /// Its attributes.
    pub attributes: IndexMap<String, Json>,
}

/// A log record, compactly.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSpec {
    /// The body: a string, or any YAML value (a map becomes a kvlist).
    pub body: Json,
    /// `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL` (sets the number and the text).
    pub severity: Option<String>,
    /// Log attributes.
    pub attributes: IndexMap<String, Json>,
    /// 32 hex digits.
    pub trace_id: Option<String>,
    /// 16 hex digits.
    pub span_id: Option<String>,
}

/// What one exporter, or one pipeline, must have received.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Expectation {
    /// What this exporter received.
    pub exporter: Option<String>,
    /// What this pipeline handed its exporters and connectors (after its processors): for a
    /// routing connector, what the route delivered.
    pub pipeline: Option<String>,
    /// `traces`, `metrics` or `logs`: needed only for an exporter used by pipelines of
    /// several signals.
    pub signal: Option<String>,
    /// An OTTL condition choosing the items the rest applies to (default: all of them).
    #[serde(rename = "where")]
    pub where_: Option<String>,
    /// How many items (spans, data points, log records) there must be.
    pub count: Option<usize>,
    /// Attributes every item must have with these values; `null` means absent.
    pub attributes: IndexMap<String, Json>,
    /// Resource attributes every item's resource must have; `null` means absent.
    pub resource: IndexMap<String, Json>,
    /// OTTL conditions every item must satisfy.
    pub conditions: Vec<String>,
}
