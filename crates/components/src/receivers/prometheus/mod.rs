//! The `prometheus` receiver: scrapes Prometheus targets (`config.scrape_configs`, with
//! static, file and Kubernetes service discovery and relabeling) and turns every scrape into OTLP
//! metrics as the Collector's receiver does. One task per scrape config keeps its target
//! list current; one task per target scrapes it on its interval (`scrape.rs`).

mod config;
mod discovery;
mod kubernetes;
mod parse;
mod promconfig;
mod relabel;
mod scrape;
#[cfg(test)]
mod tests;
mod translate;

pub use config::PrometheusReceiverConfig;
pub use kubernetes::{KubernetesSdConfig, Role as KubernetesSdRole};
pub use parse::{parse as parse_exposition, Exposition, FamilyMeta, MetricType, Sample};
pub use promconfig::{parse_duration, GlobalConfig, PromConfig, ScrapeConfig};
pub use relabel::{RelabelConfig, Rule};
pub use translate::{ScrapedSample, TargetInfo, Translator, SCOPE_NAME};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_core::component::{
    BuildError, Component, Host, ReceiverFactory, ReceiverOutputs, Settings, Stability, StartError,
};
use switchyard_core::confignet::tls::ClientTlsConfig;
use switchyard_core::telemetry::ReceiverObs;
use switchyard_pdata::Signal;
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;

use scrape::{JobContext, TargetLoop};

/// The Collector type string.
pub const TYPE: &str = "prometheus";
/// Scrapes that failed (unreachable, HTTP error, unparseable body, sample limit), by job.
pub const FAILED_SCRAPES: &str = "switchyard_receiver_prometheus_failed_scrapes";
/// How often file_sd files are read again at most (Prometheus watches them; changes here
/// are seen within this time, or `refresh_interval` when shorter).
const FILE_SD_POLL: Duration = Duration::from_secs(5);
/// How long after a Kubernetes change the targets are reconciled (changes in between are
/// taken together; Prometheus's discovery manager batches for 5 s).
const K8S_SETTLE: Duration = Duration::from_millis(500);

/// Creates prometheus receivers.
pub struct PrometheusReceiverFactory;

impl ReceiverFactory for PrometheusReceiverFactory {
    type Config = PrometheusReceiverConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal == Signal::Metrics).then_some(Stability::Beta)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &PrometheusReceiverConfig,
        out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        let Some(metrics) = out.metrics else {
            return Err(BuildError::new(&set, "the prometheus receiver only produces metrics"));
        };
        let mut jobs = Vec::new();
        let obs = Arc::new(ReceiverObs::new(&set.telemetry, &set.id, "http"));
        let g = &cfg.config.global;
        let external: relabel::Labels = g.external_labels.clone().into_iter().collect();
        for sc in &cfg.config.scrape_configs {
            let err = |m: String| BuildError::new(&set, format!("job \"{}\": {m}", sc.job_name));
            let target_rules = Rule::compile_all(&sc.relabel_configs).map_err(err)?;
            let metric_rules = Rule::compile_all(&sc.metric_relabel_configs).map_err(err)?;
            let client = http_client(sc).map_err(err)?;
            let id = set.id.to_string();
            let failed_scrapes = set.telemetry.metrics.counter(
                FAILED_SCRAPES,
                "Prometheus scrapes that failed (the target's up is 0).",
                &[("receiver", id.as_str()), ("job", sc.job_name.as_str())],
            );
            let ctx = JobContext {
                cfg: sc.clone(),
                metric_rules,
                external_labels: external.clone(),
                client,
                out: metrics.clone(),
                obs: obs.clone(),
                failed_scrapes,
                sample_limit: sc.sample_limit.or(g.sample_limit).unwrap_or(0),
                body_size_limit: sc.body_size_limit.or(g.body_size_limit).unwrap_or(0),
                report_extra: cfg.report_extra_scrape_metrics,
                version: env!("CARGO_PKG_VERSION").to_string(),
                receiver: id,
            };
            jobs.push(Job { ctx: Arc::new(ctx), global: g.clone(), target_rules });
        }
        Ok(Box::new(PrometheusReceiver { jobs, stop: CancellationToken::new(), tasks: Mutex::new(Vec::new()) }))
    }
}

/// The HTTP client of one scrape config.
fn http_client(sc: &ScrapeConfig) -> Result<reqwest::Client, String> {
    let t = &sc.tls_config;
    let redirect = if sc.follow_redirects.unwrap_or(true) {
        reqwest::redirect::Policy::limited(10)
    } else {
        reqwest::redirect::Policy::none()
    };
    let mut b = reqwest::Client::builder()
        .redirect(redirect)
        .user_agent(concat!("Switchyard/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(2);
    if sc.enable_http2 == Some(false) {
        b = b.http1_only();
    }
    if let Some(p) = &sc.proxy_url {
        b = b.proxy(reqwest::Proxy::all(p).map_err(|e| format!("invalid proxy_url: {e}"))?);
    }
    let tls_wanted = sc.scheme() == "https"
        || t.ca_file.is_some()
        || t.ca.is_some()
        || t.cert_file.is_some()
        || t.insecure_skip_verify
        || sc.relabel_configs.iter().any(|r| r.target_label == "__scheme__");
    if tls_wanted {
        let version = |v: &Option<String>| {
            v.as_deref().map(|v| match v {
                "TLS10" => "1.0".to_string(),
                "TLS11" => "1.1".to_string(),
                "TLS12" => "1.2".to_string(),
                "TLS13" => "1.3".to_string(),
                other => other.to_string(),
            })
        };
        let tls = ClientTlsConfig {
            insecure_skip_verify: t.insecure_skip_verify,
            ca_file: t.ca_file.clone(),
            ca_pem: t.ca.clone(),
            cert_file: t.cert_file.clone(),
            cert_pem: t.cert.clone(),
            key_file: t.key_file.clone(),
            key_pem: t.key.clone(),
            server_name_override: t.server_name.clone(),
            min_version: version(&t.min_version),
            max_version: version(&t.max_version),
            ..Default::default()
        };
        let alpn = if sc.enable_http2 == Some(false) {
            vec![b"http/1.1".to_vec()]
        } else {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        };
        let cfg = switchyard_core::confignet::tls::client_config(&tls, alpn).map_err(|e| format!("tls_config: {e}"))?;
        b = b.use_preconfigured_tls(cfg);
    }
    b.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
}

struct Job {
    ctx: Arc<JobContext>,
    global: GlobalConfig,
    target_rules: Vec<Rule>,
}

/// A running (or ready to run) prometheus receiver.
pub struct PrometheusReceiver {
    jobs: Vec<Job>,
    stop: CancellationToken,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// Keeps one scrape config's targets running: static targets once, file_sd targets
/// re-read and Kubernetes targets after every change of the watched objects, reconciled
/// (new targets start, removed ones stop after marking their series stale).
async fn run_job(ctx: Arc<JobContext>, global: GlobalConfig, rules: Vec<Rule>, stop: CancellationToken) {
    let sc = &ctx.cfg;
    let mut running: HashMap<String, (CancellationToken, tokio::task::JoinHandle<()>)> = HashMap::new();
    let poll = sc
        .file_sd_configs
        .iter()
        .map(|f| f.refresh_interval.unwrap_or(Duration::from_secs(300)).min(FILE_SD_POLL))
        .min();
    let changed = Arc::new(Notify::new());
    let mut k8s = Vec::new();
    for k in &sc.kubernetes_sd_configs {
        match kubernetes::KubernetesDiscovery::start(k, changed.clone(), stop.clone()).await {
            Ok(d) => k8s.push(d),
            Err(e) => tracing::error!(receiver = %ctx.receiver, job = %sc.job_name, role = %k.role, error = %e,
                "Cannot start Kubernetes service discovery; this entry finds no targets."),
        }
    }
    loop {
        let mut groups = discovery::static_groups(sc);
        for f in &sc.file_sd_configs {
            groups.extend(discovery::file_groups(f));
        }
        for d in &k8s {
            groups.extend(d.groups());
        }
        let targets = discovery::targets(sc, &global, &rules, &groups);
        let mut wanted = HashMap::new();
        for t in targets {
            wanted.insert(format!("{}|{:?}", t.url, t.labels), t);
        }
        running.retain(|key, (removed, _)| {
            let keep = wanted.contains_key(key);
            if !keep {
                tracing::info!(receiver = %ctx.receiver, job = %sc.job_name, target = %key, "Target removed.");
                removed.cancel();
            }
            keep
        });
        for (key, t) in wanted {
            if running.contains_key(&key) {
                continue;
            }
            tracing::debug!(receiver = %ctx.receiver, job = %sc.job_name, url = %t.url, "Scraping target.");
            let removed = CancellationToken::new();
            let task = tokio::spawn(TargetLoop::new(ctx.clone(), t).run(stop.clone(), removed.clone()));
            running.insert(key, (removed, task));
        }
        if poll.is_none() && k8s.is_empty() {
            break;
        }
        let file_poll = async {
            match poll {
                Some(p) => tokio::time::sleep(p).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = file_poll => {}
            // A rollout changes many objects at once: gather them before reconciling.
            _ = changed.notified() => {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(K8S_SETTLE) => {}
                }
            }
        }
    }
    stop.cancelled().await;
    for (_, (_, task)) in running {
        let _ = task.await;
    }
    for d in k8s {
        d.stopped().await;
    }
}

impl Component for PrometheusReceiver {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let mut tasks = self.tasks.lock().await;
            for j in &self.jobs {
                tasks.push(tokio::spawn(run_job(
                    j.ctx.clone(),
                    j.global.clone(),
                    j.target_rules.clone(),
                    self.stop.clone(),
                )));
            }
            Ok(())
        })
    }

    /// Stops every scrape loop; a scrape in flight is abandoned (its data is not sent).
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            for t in self.tasks.lock().await.drain(..) {
                let _ = t.await;
            }
        })
    }
}
