//! Per-series cost of the `prometheus` receiver's hot path (issue 19): parsing a scrape body
//! in the Prometheus text format 0.0.4 and in OpenMetrics 1.0, and translating the parsed
//! samples (with `job`/`instance` added) to an OTLP request. The body is the shape of
//! `bench/prom_targets.py`'s: 1,000 series of a typical service (counters by method, code
//! and handler; gauges; a 10-bucket histogram). Run: `cargo bench --bench prometheus_parse`.

use std::collections::BTreeMap;
use std::fmt::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use switchyard_components::receivers::prometheus::{parse_exposition, ScrapedSample, TargetInfo, Translator};

/// A 1,000-series exposition; `openmetrics` adds the `# EOF` and `_total` family naming.
fn body(openmetrics: bool) -> String {
    let mut s = String::new();
    let methods = ["GET", "POST", "PUT", "DELETE"];
    let codes = ["200", "201", "400", "404", "500"];
    // 4 counters x 4 methods x 5 codes x 10 handlers = 800 series.
    for c in 0..4 {
        let family = format!("app_requests_{c}");
        let _ = writeln!(s, "# HELP {family}{} Requests handled.", if openmetrics { "" } else { "_total" });
        let _ = writeln!(s, "# TYPE {family}{} counter", if openmetrics { "" } else { "_total" });
        for m in methods {
            for code in codes {
                for h in 0..10 {
                    let _ = writeln!(
                        s,
                        "{family}_total{{method=\"{m}\",code=\"{code}\",handler=\"/api/v1/items/{h}\"}} {}",
                        (c + 1) * 1000 + h * 7
                    );
                }
            }
        }
    }
    // 2 histograms x 6 routes x (10 buckets + +Inf + sum + count = 13) = 156 series.
    for hfam in 0..2 {
        let family = format!("app_latency_{hfam}_seconds");
        let _ = writeln!(s, "# HELP {family} Latency.\n# TYPE {family} histogram");
        for r in 0..6 {
            let mut cum = 0;
            for (i, le) in
                ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"].iter().enumerate()
            {
                cum += 3 + i;
                let _ = writeln!(s, "{family}_bucket{{route=\"/r{r}\",le=\"{le}\"}} {cum}");
            }
            let _ = writeln!(s, "{family}_sum{{route=\"/r{r}\"}} 12.5\n{family}_count{{route=\"/r{r}\"}} {cum}");
        }
    }
    // 44 gauges.
    let _ = writeln!(s, "# HELP app_queue_depth Items queued.\n# TYPE app_queue_depth gauge");
    for q in 0..44 {
        let _ = writeln!(s, "app_queue_depth{{queue=\"q{q}\",shard=\"{}\"}} {}.5", q % 4, q * 3);
    }
    if openmetrics {
        s.push_str("# EOF\n");
    }
    s
}

fn samples(
    text: &str,
    openmetrics: bool,
) -> (Vec<ScrapedSample>, std::collections::HashMap<String, switchyard_components::receivers::prometheus::FamilyMeta>) {
    let e = parse_exposition(text, openmetrics).expect("valid body");
    let out = e
        .samples
        .iter()
        .map(|s| {
            let mut labels: BTreeMap<String, String> = s.labels.iter().cloned().collect();
            labels.insert("__name__".into(), s.name.clone());
            labels.insert("job".into(), "bench".into());
            labels.insert("instance".into(), "127.0.0.1:9000".into());
            ScrapedSample { labels, value: s.value, ts_ms: 1_700_000_000_000, exemplar: None }
        })
        .collect();
    (out, e.families)
}

fn bench(c: &mut Criterion) {
    for (name, om) in [("text", false), ("openmetrics", true)] {
        let text = body(om);
        let n = parse_exposition(&text, om).expect("valid body").samples.len();
        assert_eq!(n, 1000, "the body holds 1,000 series");
        let mut g = c.benchmark_group(format!("prometheus_{name}"));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function("parse", |b| b.iter(|| parse_exposition(&text, om).expect("valid body")));
        let (scraped, families) = samples(&text, om);
        let info = TargetInfo { job: "bench".into(), instance: "127.0.0.1:9000".into(), scheme: "http".into() };
        let mut t = Translator::new("bench");
        g.bench_function("translate", |b| b.iter(|| t.translate(&scraped, &families, om, &info)));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
