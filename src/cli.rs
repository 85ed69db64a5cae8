//! Command-line interface.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// An OpenTelemetry gateway that runs OpenTelemetry Collector YAML.
#[derive(Parser, Debug)]
#[command(name = "switchyard", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Run options (when no subcommand is given).
    #[command(flatten)]
    pub run: ConfigArgs,
    /// What to do; without one, run the gateway.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where the configuration comes from.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// Config file (repeatable; later files are merged over earlier ones). Also `env:VAR` and
    /// `yaml:key::path: value`. Without any, an embedded default (OTLP in → debug out) runs.
    #[arg(long = "config", value_name = "FILE")]
    pub configs: Vec<String>,
    /// Set one value, as the Collector's --set: `exporters.debug.verbosity=detailed`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a configuration: load, decode and build the whole graph without binding ports.
    Validate(ConfigArgs),
    /// List every component with its stability per signal.
    Components,
    /// Send generated telemetry to an OTLP endpoint and report what was accepted.
    Gen(Box<GenArgs>),
    /// Print the pipeline graph (receivers → processors → exporters, connectors between
    /// pipelines) as text, Graphviz DOT or Mermaid.
    Graph(GraphArgs),
    /// Run config unit tests: feed the telemetry a test file gives into the configuration's
    /// real processors and connectors and check what reaches each exporter (exit 1 on a failure).
    Test(TestArgs),
    /// Ask a running gateway's health_check extension whether it is healthy (exit 0 on
    /// HTTP 200): a container HEALTHCHECK or probe that needs no curl in the image.
    Healthcheck(HealthcheckArgs),
    /// Print a live sample of the data passing one component of a running gateway (from its
    /// zpages extension's /debug/tap), as OTLP/JSON or one compact line per item.
    Tap(TapArgs),
    /// A terminal view of items per second and errors per component of a running gateway,
    /// from its self-metrics, refreshed every second (q or Ctrl-C quits).
    Top(TopArgs),
    /// Send a canary trace, metric and log through a running gateway and confirm, per
    /// exporter, that it arrived (read back from the backend, or by the exporter's counters).
    Check(Box<CheckArgs>),
}

/// How `switchyard tap` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapFormat {
    /// One OTLP/JSON export request per line, as the gateway sent it.
    Json,
    /// One line per span, data point or log record.
    Line,
}

/// `switchyard tap`.
#[derive(Args, Debug)]
pub struct TapArgs {
    /// The zpages extension's address.
    #[arg(long, env = "SWITCHYARD_ZPAGES", default_value = "http://127.0.0.1:55679")]
    pub endpoint: String,
    /// The component: `processors/transform`, `receivers/otlp`, `exporters/otlp/tempo`,
    /// `connectors/forward` (or just the id when no other kind has it).
    #[arg(long)]
    pub component: String,
    /// The pipeline (`traces`, `logs/raw`); may be left out when the component is in one only.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Output form.
    #[arg(long, value_enum, default_value = "line")]
    pub format: TapFormat,
    /// Batches per second the gateway sends at most (it skips and counts the rest).
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Stop after printing this many lines (batches with --format json, items with line).
    #[arg(long)]
    pub limit: Option<u64>,
}

/// `switchyard top`.
#[derive(Args, Debug)]
pub struct TopArgs {
    /// The gateway's self-metrics endpoint (`service.telemetry.metrics`).
    #[arg(long, env = "SWITCHYARD_METRICS", default_value = "http://127.0.0.1:8888/metrics")]
    pub metrics: String,
    /// Time between refreshes (`1s`, `500ms`).
    #[arg(long, default_value = "1s")]
    pub interval: String,
    /// Quit after this many refreshes.
    #[arg(long)]
    pub iterations: Option<u64>,
}

/// How `switchyard graph` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// One block per pipeline.
    Text,
    /// Graphviz: `switchyard graph --format dot | dot -Tsvg > graph.svg`.
    Dot,
    /// A Mermaid flowchart, for Markdown that renders it.
    Mermaid,
}

/// `switchyard graph`.
#[derive(Args, Debug)]
pub struct GraphArgs {
    /// The configuration, as for running.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Output form.
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,
}

/// `switchyard test`.
#[derive(Args, Debug)]
pub struct TestArgs {
    /// Test files (YAML with `config:` and `tests:`; see docs/config-tests.md).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,
}

/// `switchyard healthcheck`.
#[derive(Args, Debug)]
pub struct HealthcheckArgs {
    /// The health_check extension's URL (`http://host:port/path`).
    #[arg(long, env = "SWITCHYARD_HEALTHCHECK_URL", default_value = "http://127.0.0.1:13133/")]
    pub url: String,
    /// Give up after this long (`2s`, `500ms`).
    #[arg(long, default_value = "5s")]
    pub timeout: String,
}

/// `switchyard check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The running gateway's configuration, as given to it.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Where to read an exporter's canary back: `EXPORTER=URL` (`loki=http://loki:3100`,
    /// `otlp/tempo=http://tempo:3200`), `EXPORTER=KIND:URL` with KIND `prometheus`, `loki` or
    /// `traces`, or `EXPORTER=counters` to judge by the exporter's counters only. Repeatable.
    #[arg(long = "query", value_name = "EXPORTER=URL")]
    pub queries: Vec<String>,
    /// How long to wait for each exporter (`30s`, `2m`).
    #[arg(long, default_value = "30s")]
    pub timeout: String,
    /// Reach the gateway (receivers and self-metrics) on this host instead of the one in their
    /// endpoints (`0.0.0.0` and `::` are always reached on 127.0.0.1).
    #[arg(long)]
    pub host: Option<String>,
    /// The gateway's self-metrics URL, instead of the one `service.telemetry.metrics` gives.
    #[arg(long)]
    pub metrics_url: Option<String>,
    /// Headers and TLS for sending the canary to the gateway's receivers.
    #[command(flatten)]
    pub client: OtlpClientArgs,
}

/// The signal to generate.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenSignal {
    /// Spans.
    Traces,
    /// Gauge data points.
    Metrics,
    /// Log records.
    Logs,
}

/// The OTLP transport.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenProtocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP (protobuf).
    Http,
}

/// `switchyard gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    /// What to send.
    #[arg(value_enum)]
    pub signal: GenSignal,
    /// Where: `http://host:4317` for gRPC, `http://host:4318` for HTTP (the /v1 path is appended).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Transport.
    #[arg(long, value_enum, default_value = "grpc")]
    pub protocol: GenProtocol,
    /// Items per second over all workers (`100` or `100/s`; 0 = as fast as possible).
    #[arg(long, default_value = "0")]
    pub rate: String,
    /// Run this long (`10s`, `1m`). Default: until --count is reached.
    #[arg(long)]
    pub duration: Option<String>,
    /// Items to send in total (default 100 when no --duration).
    #[arg(long)]
    pub count: Option<u64>,
    /// Items per request.
    #[arg(long, default_value_t = 10)]
    pub batch_size: usize,
    /// Concurrent senders.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// service.name of the generated resource.
    #[arg(long, default_value = "switchyard-gen")]
    pub service: String,
    /// Extra attributes on every item: `k=v,k2=v2`.
    #[arg(long, default_value = "")]
    pub attributes: String,
    /// Send JSON instead of protobuf (HTTP only).
    #[arg(long)]
    pub json: bool,
    /// Headers and TLS for the connection.
    #[command(flatten)]
    pub client: OtlpClientArgs,
    /// Append one line `<first> <count>` per accepted request to this file: the sequence
    /// numbers in the item names (`gen-span-N`, `gen log N`, attribute `seq`) the gateway accepted.
    #[arg(long)]
    pub accepted_file: Option<std::path::PathBuf>,
}

/// How an OTLP client (`gen`, `check`) talks to the gateway: request headers and TLS. The
/// names are the exporters' `headers` and `tls` fields.
#[derive(Args, Debug, Clone, Default)]
pub struct OtlpClientArgs {
    /// Extra request headers: `k=v,k2=v2`.
    #[arg(long, default_value = "")]
    pub headers: String,
    /// CA bundle (PEM) the gateway's certificate must chain to (`https://` endpoints).
    #[arg(long)]
    pub tls_ca: Option<String>,
    /// Client certificate (PEM), for mutual TLS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<String>,
    /// Client key (PEM), for mutual TLS.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<String>,
    /// Name to check the gateway's certificate against instead of the endpoint's host.
    #[arg(long)]
    pub tls_server_name: Option<String>,
    /// Do not verify the gateway's certificate (testing only).
    #[arg(long)]
    pub tls_insecure_skip_verify: bool,
}
