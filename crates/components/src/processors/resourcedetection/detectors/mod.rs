//! The detectors: each reads one source (environment, host, a metadata service) and
//! returns the attributes it found. One module per detector, as upstream's `internal/<name>`.

pub mod azure;
pub mod docker;
pub mod ec2;
pub mod ecs;
pub mod eks;
pub mod env;
pub mod gcp;
pub mod heroku;
pub mod k8sapi;
pub mod lambda;
pub mod system;

use std::sync::Arc;

use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, ArrayValue, KeyValue};

use super::attrs::{self, Enabled};
use super::config::ResourceDetectionConfig;

/// The semantic-conventions schema URL the Collector's detectors report (semconv 1.6.1).
pub const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.6.1";

/// Reads an environment variable; tests inject a map instead of the process environment.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment.
pub fn process_env() -> EnvLookup {
    Arc::new(|k| std::env::var(k).ok())
}

/// What a detector found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detected {
    /// The attributes, in the order the detector set them; no duplicate keys.
    pub attrs: Vec<KeyValue>,
    /// The schema URL of the detector (empty for `env`).
    pub schema_url: String,
}

impl Detected {
    /// An empty result: the detector is not in its environment (not on EC2, ...).
    pub fn empty() -> Self {
        Detected::default()
    }

    /// Attribute keys, for logs.
    pub fn keys(&self) -> Vec<&str> {
        self.attrs.iter().map(|kv| kv.key.as_str()).collect()
    }
}

/// Builds a detector's attributes, honouring its `resource_attributes` toggles.
pub struct Builder<'a> {
    enabled: &'a Enabled,
    out: Detected,
}

impl<'a> Builder<'a> {
    /// A builder with the detector's schema URL.
    pub fn new(enabled: &'a Enabled, schema_url: &str) -> Self {
        Builder { enabled, out: Detected { attrs: Vec::new(), schema_url: schema_url.to_string() } }
    }

    /// Whether `key` is enabled (to skip costly work for a disabled one).
    pub fn wants(&self, key: &str) -> bool {
        self.enabled.on(key)
    }

    /// Sets a string attribute if enabled (a later set of the same key replaces it).
    pub fn str(&mut self, key: &str, value: impl Into<String>) {
        self.put(key, Value::StringValue(value.into()));
    }

    /// Sets an int attribute if enabled.
    pub fn int(&mut self, key: &str, value: i64) {
        self.put(key, Value::IntValue(value));
    }

    /// Sets a list-of-strings attribute if enabled.
    pub fn strs(&mut self, key: &str, values: Vec<String>) {
        let values = values.into_iter().map(|s| AnyValue { value: Some(Value::StringValue(s)) }).collect();
        self.put(key, Value::ArrayValue(ArrayValue { values }));
    }

    fn put(&mut self, key: &str, value: Value) {
        if !self.enabled.on(key) {
            return;
        }
        let value = Some(AnyValue { value: Some(value) });
        match self.out.attrs.iter_mut().find(|kv| kv.key == key) {
            Some(kv) => kv.value = value,
            None => self.out.attrs.push(KeyValue { key: key.to_string(), value, ..Default::default() }),
        }
    }

    /// The result.
    pub fn finish(self) -> Detected {
        self.out
    }
}

/// Why a detector contributed nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    /// Its metadata source is not there (not on this cloud, no Docker socket): the
    /// detector normally returns nothing; with `fail_on_missing_metadata` it is an error.
    #[error("{0}")]
    Missing(String),
    /// The source answered but the answer is unusable, or the detector failed.
    #[error("{0}")]
    Failed(String),
}

/// What a detection run needs: the metadata HTTP client and the environment.
#[derive(Clone)]
pub struct DetectCx {
    /// Client for metadata services (no proxy, the processor's `timeout`).
    pub http: reqwest::Client,
    /// Environment variables.
    pub env: EnvLookup,
}

impl DetectCx {
    /// A context with a client bounded by `timeout`.
    pub fn new(timeout: std::time::Duration, env: EnvLookup) -> Result<Self, String> {
        let http = metadata_client(timeout, None)?;
        Ok(DetectCx { http, env })
    }
}

/// An HTTP client for link-local metadata services: never through a proxy (the Collector's
/// docs warn that a proxied IMDS call returns wrong or no data), no redirects.
pub fn metadata_client(
    timeout: std::time::Duration,
    unix_socket: Option<&std::path::Path>,
) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
    if !timeout.is_zero() {
        b = b.timeout(timeout);
    }
    #[cfg(unix)]
    if let Some(path) = unix_socket {
        b = b.unix_socket(path.to_path_buf());
    }
    #[cfg(not(unix))]
    if unix_socket.is_some() {
        return Err("unix sockets are not available on this platform".to_string());
    }
    b.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// GET `url` with `headers`; connection failures are [`DetectError::Missing`], a
/// non-2xx answer or unreadable body [`DetectError::Failed`].
pub async fn http_get(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> Result<String, DetectError> {
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req, url).await
}

/// Sends `req` (see [`http_get`]).
pub async fn send(req: reqwest::RequestBuilder, url: &str) -> Result<String, DetectError> {
    let resp = req.send().await.map_err(|e| {
        let text = crate::exporters::client::error_chain(&e);
        // Nothing listening, or nothing reachable (a connect timeout is also a connect
        // error): not on this platform. A service that accepted and then said nothing in
        // time is a failure.
        if e.is_connect() {
            DetectError::Missing(format!("{url}: {text}"))
        } else {
            DetectError::Failed(format!("{url}: {text}"))
        }
    })?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| DetectError::Failed(format!("{url}: reading the answer: {e}")))?;
    if !status.is_success() {
        let snippet: String = body.chars().take(200).collect();
        return Err(DetectError::Failed(format!("{url}: HTTP {status}: {snippet}")));
    }
    Ok(body)
}

/// Parses a JSON answer.
pub fn parse_json<T: serde::de::DeserializeOwned>(url: &str, body: &str) -> Result<T, DetectError> {
    serde_json::from_str(body).map_err(|e| DetectError::Failed(format!("{url}: unexpected answer: {e}")))
}

/// An endpoint overridable by an environment variable, trailing `/` removed.
pub fn endpoint(env: &EnvLookup, var: &str, default: &str) -> String {
    let v = env(var).filter(|s| !s.trim().is_empty()).unwrap_or_else(|| default.to_string());
    v.trim().trim_end_matches('/').to_string()
}

/// One configured detector.
pub enum Detector {
    /// `env`.
    Env(env::EnvDetector),
    /// `system`.
    System(system::SystemDetector),
    /// `docker`.
    Docker(docker::DockerDetector),
    /// `ec2`.
    Ec2(ec2::Ec2Detector),
    /// `ecs`.
    Ecs(ecs::EcsDetector),
    /// `gcp`.
    Gcp(gcp::GcpDetector),
    /// `azure`.
    Azure(azure::AzureDetector),
    /// `eks`.
    Eks(eks::EksDetector),
    /// `lambda`.
    Lambda(lambda::LambdaDetector),
    /// `heroku`.
    Heroku(heroku::HerokuDetector),
    /// `k8s_api` or `k8snode` (the name as configured).
    K8sApi(k8sapi::K8sApiDetector, &'static str),
}

impl Detector {
    /// The detector `name` of `cfg` (names were checked at validation). Endpoints
    /// overridable for tests are read from `env` here.
    pub fn build(name: &str, cfg: &ResourceDetectionConfig, env: &EnvLookup) -> Result<Self, String> {
        Ok(match name {
            "env" => Detector::Env(env::EnvDetector::new(&cfg.env)),
            "system" => Detector::System(system::SystemDetector::new(
                &cfg.system,
                Enabled::new(attrs::SYSTEM, &cfg.system.resource_attributes),
            )),
            "docker" => Detector::Docker(docker::DockerDetector::new(
                env,
                cfg.timeout,
                Enabled::new(attrs::DOCKER, &cfg.docker.resource_attributes),
            )?),
            "ec2" => Detector::Ec2(ec2::Ec2Detector::new(
                &cfg.ec2,
                env,
                Enabled::new(attrs::EC2, &cfg.ec2.resource_attributes),
            )?),
            "ecs" => Detector::Ecs(ecs::EcsDetector::new(Enabled::new(attrs::ECS, &cfg.ecs.resource_attributes))),
            "gcp" => Detector::Gcp(gcp::GcpDetector::new(env, Enabled::new(attrs::GCP, &cfg.gcp.resource_attributes))),
            "azure" => Detector::Azure(azure::AzureDetector::new(
                &cfg.azure,
                env,
                Enabled::new(attrs::AZURE, &cfg.azure.resource_attributes),
            )?),
            "eks" => Detector::Eks(eks::EksDetector::new(env, Enabled::new(attrs::EKS, &cfg.eks.resource_attributes))),
            "lambda" => Detector::Lambda(lambda::LambdaDetector::new(Enabled::new(
                attrs::LAMBDA,
                &cfg.lambda.resource_attributes,
            ))),
            "heroku" => Detector::Heroku(heroku::HerokuDetector::new(Enabled::new(
                attrs::HEROKU,
                &cfg.heroku.resource_attributes,
            ))),
            "k8s_api" => Detector::K8sApi(
                k8sapi::K8sApiDetector::new(
                    &cfg.k8s_api,
                    env,
                    Enabled::new(attrs::K8S_API, &cfg.k8s_api.resource_attributes),
                ),
                "k8s_api",
            ),
            "k8snode" => Detector::K8sApi(
                k8sapi::K8sApiDetector::new(
                    &cfg.k8snode,
                    env,
                    Enabled::new(attrs::K8S_API, &cfg.k8snode.resource_attributes),
                ),
                "k8snode",
            ),
            other => return Err(format!("detector \"{other}\" is not supported")),
        })
    }

    /// The detector's name.
    pub fn name(&self) -> &'static str {
        match self {
            Detector::Env(_) => "env",
            Detector::System(_) => "system",
            Detector::Docker(_) => "docker",
            Detector::Ec2(_) => "ec2",
            Detector::Ecs(_) => "ecs",
            Detector::Gcp(_) => "gcp",
            Detector::Azure(_) => "azure",
            Detector::Eks(_) => "eks",
            Detector::Lambda(_) => "lambda",
            Detector::Heroku(_) => "heroku",
            Detector::K8sApi(_, name) => name,
        }
    }

    /// Whether it reads a metadata service (what `fail_on_missing_metadata` is about).
    pub fn is_network(&self) -> bool {
        !matches!(self, Detector::Env(_) | Detector::System(_) | Detector::Lambda(_) | Detector::Heroku(_))
    }

    /// Runs it once.
    pub async fn detect(&self, cx: &DetectCx) -> Result<Detected, DetectError> {
        match self {
            Detector::Env(d) => d.detect(&cx.env),
            Detector::System(d) => d.detect().await,
            Detector::Docker(d) => d.detect().await,
            Detector::Ec2(d) => d.detect(cx).await,
            Detector::Ecs(d) => d.detect(cx).await,
            Detector::Gcp(d) => d.detect(cx).await,
            Detector::Azure(d) => d.detect(cx).await,
            Detector::Eks(d) => d.detect(cx).await,
            Detector::Lambda(d) => d.detect(&cx.env),
            Detector::Heroku(d) => d.detect(&cx.env),
            Detector::K8sApi(d, _) => d.detect(cx).await,
        }
    }
}
