//! The `hostmetrics` receiver (alias `host_metrics`): every `collection_interval` (after
//! `initial_delay`) it runs the configured scrapers over `/proc` (under `root_path`) and
//! sends what they read as one metrics batch, with the metric names, units, attributes
//! and start times of the Collector's contrib `receiver/hostmetricsreceiver`.
//!
//! The files are read by our own small parsers (`procfs.rs`) rather than a crate: every
//! path must sit under `root_path`, fake trees in tests must parse, and a file that changed
//! shape must cost one metric, not the scrape (see docs/dependencies.md).

mod config;
mod devices;
mod metadata;
mod process;
mod procfs;
mod system;
#[cfg(test)]
mod tests;

pub use config::{HostMetricsReceiverConfig, MatchConfig, Scrapers, Toggle, Toggles};
pub use metadata::{scope_name, MetricDef};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use switchyard_core::component::{
    BuildError, Component, FieldError, Host, ReceiverFactory, ReceiverOutputs, Settings, Stability, StartError,
};
use switchyard_core::consumer::{DynConsumer, RequestContext};
use switchyard_core::telemetry::{Counter, LogThrottle, ReceiverObs};
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::metrics::v1::ResourceMetrics;
use switchyard_pdata::{Metrics, Signal, SignalData};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use devices::{DiskScraper, FilesystemScraper, NetworkScraper};
use metadata::Builder;
use process::ProcessScraper;
use procfs::Root;
use system::{CpuScraper, LoadScraper, MemoryScraper, PagingScraper, ProcessesScraper, SystemScraper};

/// The Collector type string.
pub const TYPE: &str = "hostmetrics";
/// Points each scraper produced (the Collector's scraperhelper metric).
pub const SCRAPED_POINTS: &str = "otelcol_scraper_scraped_metric_points";
/// Points a scraper could not produce because a read failed.
pub const ERRORED_POINTS: &str = "otelcol_scraper_errored_metric_points";

/// What every scraper reads with: the root, the boot time (start of the machine-wide
/// sums) and the scope version.
pub struct Context {
    /// Where `/proc` and the mounts are.
    pub root: Root,
    /// Boot time, ns since the epoch.
    pub boot_ns: u64,
    /// The scope version (Switchyard's).
    pub version: String,
}

/// One scraper's result of one collection.
#[derive(Default)]
pub struct Scraped {
    /// Its metrics (one resource, or one per process).
    pub resources: Vec<ResourceMetrics>,
    /// Data points in them.
    pub points: usize,
    /// What could not be read.
    pub errors: Vec<String>,
    /// Metrics lost to those errors.
    pub errored: usize,
}

impl Scraped {
    /// Records a failed read that cost `metrics` metrics.
    pub fn fail(&mut self, message: String, metrics: usize) {
        self.errors.push(message);
        self.errored += metrics;
    }

    /// Adds a builder's metrics under an empty resource.
    pub fn add(&mut self, b: Builder<'_>, scraper: &str, cx: &Context) {
        self.add_with(b, scraper, cx, Vec::new());
    }

    /// Adds a builder's metrics under `resource`.
    pub fn add_with(
        &mut self,
        b: Builder<'_>,
        scraper: &str,
        cx: &Context,
        resource: Vec<switchyard_pdata::proto::common::v1::KeyValue>,
    ) {
        self.points += b.point_count();
        if let Some(rm) = b.emit(scraper, &cx.version, resource) {
            self.resources.push(rm);
        }
    }
}

/// One configured scraper (boxed: their states differ much in size).
pub enum AnyScraper {
    /// `cpu`.
    Cpu(Box<CpuScraper>),
    /// `disk`.
    Disk(Box<DiskScraper>),
    /// `filesystem`.
    Filesystem(Box<FilesystemScraper>),
    /// `load`.
    Load(Box<LoadScraper>),
    /// `memory`.
    Memory(Box<MemoryScraper>),
    /// `network`.
    Network(Box<NetworkScraper>),
    /// `paging`.
    Paging(Box<PagingScraper>),
    /// `process`.
    Process(Box<ProcessScraper>),
    /// `processes`.
    Processes(Box<ProcessesScraper>),
    /// `system`.
    System(Box<SystemScraper>),
}

impl AnyScraper {
    /// The scraper's key in `scrapers:`.
    pub fn name(&self) -> &'static str {
        match self {
            AnyScraper::Cpu(_) => "cpu",
            AnyScraper::Disk(_) => "disk",
            AnyScraper::Filesystem(_) => "filesystem",
            AnyScraper::Load(_) => "load",
            AnyScraper::Memory(_) => "memory",
            AnyScraper::Network(_) => "network",
            AnyScraper::Paging(_) => "paging",
            AnyScraper::Process(_) => "process",
            AnyScraper::Processes(_) => "processes",
            AnyScraper::System(_) => "system",
        }
    }

    /// One collection at `now_ns`; blocks on file reads.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        match self {
            AnyScraper::Cpu(s) => s.scrape(cx, now_ns),
            AnyScraper::Disk(s) => s.scrape(cx, now_ns),
            AnyScraper::Filesystem(s) => s.scrape(cx, now_ns),
            AnyScraper::Load(s) => s.scrape(cx, now_ns),
            AnyScraper::Memory(s) => s.scrape(cx, now_ns),
            AnyScraper::Network(s) => s.scrape(cx, now_ns),
            AnyScraper::Paging(s) => s.scrape(cx, now_ns),
            AnyScraper::Process(s) => s.scrape(cx, now_ns),
            AnyScraper::Processes(s) => s.scrape(cx, now_ns),
            AnyScraper::System(s) => s.scrape(cx, now_ns),
        }
    }
}

/// The scrapers of `s`, in key order.
pub fn build_scrapers(s: &Scrapers) -> Result<Vec<AnyScraper>, Vec<FieldError>> {
    let mut out = Vec::new();
    if let Some(c) = s.cpu.get() {
        out.push(AnyScraper::Cpu(Box::new(CpuScraper::new(c))));
    }
    if let Some(c) = s.disk.get() {
        out.push(AnyScraper::Disk(Box::new(DiskScraper::new(c)?)));
    }
    if let Some(c) = s.filesystem.get() {
        out.push(AnyScraper::Filesystem(Box::new(FilesystemScraper::new(c)?)));
    }
    if let Some(c) = s.load.get() {
        out.push(AnyScraper::Load(Box::new(LoadScraper::new(c))));
    }
    if let Some(c) = s.memory.get() {
        out.push(AnyScraper::Memory(Box::new(MemoryScraper::new(c))));
    }
    if let Some(c) = s.network.get() {
        out.push(AnyScraper::Network(Box::new(NetworkScraper::new(c)?)));
    }
    if let Some(c) = s.paging.get() {
        out.push(AnyScraper::Paging(Box::new(PagingScraper::new(c))));
    }
    if let Some(c) = s.process.get() {
        out.push(AnyScraper::Process(Box::new(ProcessScraper::new(c)?)));
    }
    if let Some(c) = s.processes.get() {
        out.push(AnyScraper::Processes(Box::new(ProcessesScraper::new(c))));
    }
    if let Some(c) = s.system.get() {
        out.push(AnyScraper::System(Box::new(SystemScraper::new(c))));
    }
    Ok(out)
}

/// The boot time under `root` (`btime` of `/proc/stat`), ns since the epoch.
pub fn boot_ns(root: &Root) -> Result<u64, String> {
    let text = root.read_proc("stat").map_err(|e| format!("{}: {e}", root.proc("stat").display()))?;
    procfs::parse_stat(&text).btime.map(|s| s * 1_000_000_000).ok_or_else(|| "no btime in /proc/stat".to_string())
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// Creates hostmetrics receivers.
pub struct HostMetricsReceiverFactory;

impl ReceiverFactory for HostMetricsReceiverFactory {
    type Config = HostMetricsReceiverConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["host_metrics"]
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal == Signal::Metrics).then_some(Stability::Beta)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &HostMetricsReceiverConfig,
        out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        let Some(metrics) = out.metrics else {
            return Err(BuildError::new(&set, "the hostmetrics receiver only produces metrics"));
        };
        let errs = |e: Vec<FieldError>| {
            BuildError::new(
                &set,
                e.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
            )
        };
        build_scrapers(&cfg.scrapers).map_err(errs)?;
        Ok(Box::new(HostMetricsReceiver {
            set,
            cfg: cfg.clone(),
            out: metrics,
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }))
    }
}

/// A running (or ready to run) hostmetrics receiver.
pub struct HostMetricsReceiver {
    set: Settings,
    cfg: HostMetricsReceiverConfig,
    out: DynConsumer<Metrics>,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Component for HostMetricsReceiver {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let who = format!("receiver \"{}\"", self.set.id);
            let root = Root::new(&self.cfg.root_path);
            // As upstream, a scraper that cannot read the boot time fails the start.
            let boot_ns = boot_ns(&root).map_err(|e| StartError::new(format!("{who}: {e}")))?;
            let scrapers = build_scrapers(&self.cfg.scrapers)
                .map_err(|e| StartError::new(format!("{who}: {}", e.first().map_or("", |f| f.message.as_str()))))?;
            let id = self.set.id.to_string();
            let t = &self.set.telemetry;
            let counters = |name: &str, help: &str| -> HashMap<&'static str, Counter> {
                scrapers
                    .iter()
                    .map(|s| {
                        (s.name(), t.metrics.counter(name, help, &[("receiver", id.as_str()), ("scraper", s.name())]))
                    })
                    .collect()
            };
            let worker = Worker {
                scraped: counters(SCRAPED_POINTS, "Number of metric points successfully scraped."),
                errored: counters(ERRORED_POINTS, "Number of metric points that were unable to be scraped."),
                obs: ReceiverObs::new(t, &self.set.id, ""),
                cx: Arc::new(Context { root, boot_ns, version: env!("CARGO_PKG_VERSION").to_string() }),
                scrapers: Some(scrapers),
                out: self.out.clone(),
                interval: self.cfg.collection_interval,
                initial_delay: self.cfg.initial_delay,
                error_log: LogThrottle::new(Duration::from_secs(60)),
                refused_log: LogThrottle::new(Duration::from_secs(10)),
                stop: self.stop.clone(),
                id,
            };
            *self.task.lock().await = Some(tokio::spawn(worker.run()));
            Ok(())
        })
    }

    /// Stops collecting; a collection in flight is abandoned (its batch is not sent).
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            if let Some(t) = self.task.lock().await.take() {
                let _ = t.await;
            }
        })
    }
}

struct Worker {
    id: String,
    cx: Arc<Context>,
    scrapers: Option<Vec<AnyScraper>>,
    out: DynConsumer<Metrics>,
    obs: ReceiverObs,
    scraped: HashMap<&'static str, Counter>,
    errored: HashMap<&'static str, Counter>,
    interval: Duration,
    initial_delay: Duration,
    /// Unreadable files repeat every collection: say so once in a while.
    error_log: LogThrottle,
    refused_log: LogThrottle,
    stop: CancellationToken,
}

impl Worker {
    async fn run(mut self) {
        tracing::info!(receiver = %self.id, interval = ?self.interval, "Host metrics receiver started.");
        tokio::select! {
            _ = self.stop.cancelled() => return,
            _ = tokio::time::sleep(self.initial_delay) => {}
        }
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let stop = self.stop.clone();
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.collect() => {}
            }
        }
    }

    /// One collection: every scraper (on a blocking thread: they read files), then one batch.
    async fn collect(&mut self) {
        let Some(mut scrapers) = self.scrapers.take() else { return };
        let cx = self.cx.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let now = now_ns();
            let results: Vec<(&'static str, Scraped)> =
                scrapers.iter_mut().map(|s| (s.name(), s.scrape(&cx, now))).collect();
            (scrapers, results)
        })
        .await;
        let Ok((scrapers, results)) = joined else {
            tracing::error!(receiver = %self.id, "A scraper panicked; the receiver stops collecting.");
            return;
        };
        self.scrapers = Some(scrapers);
        let mut resource_metrics = Vec::new();
        for (name, r) in results {
            if let Some(c) = self.scraped.get(name) {
                c.add(r.points as u64);
            }
            if let Some(c) = self.errored.get(name) {
                c.add(r.errored as u64);
            }
            if let Some(first) = r.errors.first() {
                if let Some(suppressed) = self.error_log.allow() {
                    tracing::warn!(receiver = %self.id, scraper = name, error = %first, errors = r.errors.len(), suppressed,
                        "Scraper could not read everything.");
                }
            }
            resource_metrics.extend(r.resources);
        }
        if resource_metrics.is_empty() {
            return;
        }
        let data = Metrics::from_request(ExportMetricsServiceRequest { resource_metrics });
        let n = data.item_count();
        let result = self.out.consume(&RequestContext::default(), data).await;
        self.obs.record(Signal::Metrics, n, result.is_ok());
        if let Err(e) = result {
            if let Some(suppressed) = self.refused_log.allow() {
                tracing::warn!(receiver = %self.id, error = %e, points = n, suppressed, "The pipeline refused host metrics.");
            }
        }
    }
}
