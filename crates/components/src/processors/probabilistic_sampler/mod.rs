//! The `probabilistic_sampler` processor (the Collector contrib
//! `probabilisticsamplerprocessor`): keeps a percentage of spans and log records, deciding
//! each item on its own but consistently per trace id, so every span of a trace, and every
//! gateway or Collector of a tier configured alike, reaches the same decision.
//!
//! Modes: `hash_seed` (the default; FNV-1a over seed + trace id, 14 bits), `proportional`
//! and `equalizing` (OTEP 235 thresholds on the trace id's 56 random bits or an arriving
//! `rv`). Kept spans carry the decision in their W3C tracestate (`ot=…;th:…`), kept log
//! records in `sampling.threshold` / `sampling.randomness` attributes.
//!
//! Counts every decision in `otelcol_processor_probabilistic_sampler_count_traces_sampled` /
//! `…_count_logs_sampled` by `policy` and `sampled`, as upstream.

mod config;
mod logs;
pub(crate) mod otep;
mod sampler;
#[cfg(test)]
mod tests;
mod traces;
/// The W3C tracestate with its OTEP 235 `ot` entry; the `spanmetrics` connector reads
/// span thresholds with it.
pub(crate) mod tracestate;

pub use config::{Mode, ProbabilisticSamplerConfig};

use switchyard_core::component::{BuildError, Component, ProcessorFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, RequestContext};
use switchyard_core::processorhelper::{create_stateless, ProcessError, SignalProcessor};
use switchyard_core::telemetry::Counter;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::Signal;

use logs::LogSettings;
use sampler::{Notes, Outcome, Policy, Sampler};

/// The Collector type string.
pub const TYPE: &str = "probabilistic_sampler";

/// Spans decided, by `policy` and `sampled` (the Collector's metric of the same name).
pub const COUNT_TRACES_SAMPLED: &str = "otelcol_processor_probabilistic_sampler_count_traces_sampled";
/// Log records decided, by `policy` and `sampled`.
pub const COUNT_LOGS_SAMPLED: &str = "otelcol_processor_probabilistic_sampler_count_logs_sampled";

/// Creates probabilistic sampler processors.
pub struct ProbabilisticSamplerFactory;

impl ProcessorFactory for ProbabilisticSamplerFactory {
    type Config = ProbabilisticSamplerConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        match signal {
            Signal::Traces => Some(Stability::Beta),
            Signal::Logs => Some(Stability::Alpha),
            Signal::Metrics | Signal::Profiles => None,
        }
    }
    fn create(
        &self,
        set: Settings,
        cfg: &ProbabilisticSamplerConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        create_stateless(&set, ProbabilisticSampler::new(&set, cfg), next)
    }
}

/// Per-batch decision counts, added to the counters once per batch.
#[derive(Debug, Default)]
pub struct Tally([[u64; 2]; Policy::ALL.len()]);

impl Tally {
    /// Counts one decision.
    pub fn count(&mut self, o: Outcome) {
        self.0[o.policy.index()][usize::from(o.sampled)] += 1;
    }
}

/// One counter per (policy, sampled) pair of one metric. The attribute policy exists only
/// for logs with a `from_attribute` (its label value is the attribute name).
struct Counters([Option<[Counter; 2]>; Policy::ALL.len()]);

impl Counters {
    fn new(set: &Settings, name: &str, help: &str, attribute: Option<&str>) -> Counters {
        let id = set.id.to_string();
        let m = &set.telemetry.metrics;
        Counters(Policy::ALL.map(|p| {
            let label = match p {
                Policy::Attribute => attribute.filter(|a| !a.is_empty())?,
                _ => p.label(""),
            };
            Some(["false", "true"].map(|sampled| {
                m.counter(name, help, &[("processor", id.as_str()), ("policy", label), ("sampled", sampled)])
            }))
        }))
    }

    fn add(&self, t: &Tally) {
        for (counts, counters) in t.0.iter().zip(&self.0) {
            let Some(counters) = counters else { continue };
            for (n, c) in counts.iter().zip(counters) {
                if *n > 0 {
                    c.add(*n);
                }
            }
        }
    }
}

/// One probabilistic sampler instance.
pub struct ProbabilisticSampler {
    id: String,
    traces: Sampler,
    logs: Sampler,
    fail_closed: bool,
    log_settings: LogSettings,
    traces_sampled: Counters,
    logs_sampled: Counters,
}

impl ProbabilisticSampler {
    /// Builds the samplers from a validated config and registers the self-metrics.
    pub fn new(set: &Settings, cfg: &ProbabilisticSamplerConfig) -> Self {
        let precision = cfg.precision();
        let sampler = Sampler::new(cfg.sampling_percentage, cfg.mode(), cfg.hash_seed, precision);
        if cfg.attribute_source == "record" && cfg.from_attribute.is_empty() {
            tracing::warn!(
                processor = %set.id,
                "attribute_source is record but from_attribute is not set: log records have no randomness and {}",
                if cfg.fail_closed { "are all dropped (fail_closed)" } else { "all pass (fail_closed: false)" }
            );
        }
        ProbabilisticSampler {
            id: set.id.to_string(),
            traces: sampler,
            logs: sampler,
            fail_closed: cfg.fail_closed,
            log_settings: LogSettings {
                use_trace_id: cfg.logs_use_trace_id(),
                from_attribute: cfg.from_attribute.clone(),
                priority_attribute: cfg.sampling_priority.clone(),
                precision,
            },
            traces_sampled: Counters::new(set, COUNT_TRACES_SAMPLED, "Count of traces that were sampled or not", None),
            logs_sampled: Counters::new(
                set,
                COUNT_LOGS_SAMPLED,
                "Count of logs that were sampled or not",
                Some(&cfg.from_attribute),
            ),
        }
    }

    fn log_notes(&self, what: &str, notes: &Notes) {
        if let Some(e) = notes.error {
            tracing::debug!(processor = %self.id, error = %e, "{what}");
        }
        if let Some(e) = notes.update_refused {
            tracing::debug!(processor = %self.id, error = e, "{what}");
        }
    }
}

impl SignalProcessor for ProbabilisticSampler {
    fn process_traces(&self, _cx: &RequestContext, req: &mut ExportTraceServiceRequest) -> Result<(), ProcessError> {
        let mut tally = Tally::default();
        traces::sample_traces(&self.traces, self.fail_closed, req, &mut tally, |n| self.log_notes("traces sampler", n));
        self.traces_sampled.add(&tally);
        Ok(())
    }

    fn process_logs(&self, _cx: &RequestContext, req: &mut ExportLogsServiceRequest) -> Result<(), ProcessError> {
        let mut tally = Tally::default();
        logs::sample_logs(&self.logs, self.fail_closed, &self.log_settings, req, &mut tally, |n| {
            self.log_notes("logs sampler", n)
        });
        self.logs_sampled.add(&tally);
        Ok(())
    }
}
