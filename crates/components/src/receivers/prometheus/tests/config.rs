use std::time::Duration;

use switchyard_core::component::ComponentConfig;

use crate::receivers::prometheus::promconfig::{parse_duration, parse_size};
use crate::receivers::prometheus::relabel::{process, Labels, Rule};
use crate::receivers::prometheus::PrometheusReceiverConfig;

/// Parses like the loader: `${...}`/`$$` expansion, then decoding.
fn parse(yaml: &str) -> Result<PrometheusReceiverConfig, String> {
    let mut node = switchyard_core::config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let env = |_: &str| None;
    switchyard_core::config::expand_tree(&mut node, &env, &mut errors, &mut warnings);
    assert!(errors.is_empty(), "{errors:?}");
    switchyard_core::config::from_node(&node, "prometheus").map_err(|e| e.to_string())
}

fn errors(yaml: &str) -> String {
    let c = parse(yaml).unwrap();
    c.validate().into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n")
}

#[test]
fn prometheus_defaults_and_global_inheritance() {
    let c =
        parse("config:\n  scrape_configs:\n    - job_name: a\n      static_configs: [{targets: ['h:1']}]\n").unwrap();
    assert!(c.validate().is_empty());
    let sc = &c.config.scrape_configs[0];
    let g = &c.config.global;
    assert_eq!((sc.interval(g), sc.timeout(g)), (Duration::from_secs(60), Duration::from_secs(10)));
    assert_eq!((sc.metrics_path(), sc.scheme(), sc.honor_timestamps.unwrap_or(true)), ("/metrics", "http", true));

    let c = parse(
        "config:\n  global: {scrape_interval: 20s, scrape_timeout: 15s, external_labels: {dc: eu}}\n  scrape_configs:\n    - {job_name: a}\n    - {job_name: b, scrape_interval: 1s}\n",
    )
    .unwrap();
    let g = &c.config.global;
    let (a, b) = (&c.config.scrape_configs[0], &c.config.scrape_configs[1]);
    assert_eq!((a.interval(g), a.timeout(g)), (Duration::from_secs(20), Duration::from_secs(15)));
    assert_eq!(b.timeout(g), Duration::from_secs(1), "the global timeout is capped at the job's interval");
    assert_eq!(g.external_labels["dc"], "eu");
}

#[test]
fn durations_and_sizes_as_prometheus_writes_them() {
    assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
    assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86400));
    assert_eq!(parse_duration("1500ms").unwrap(), Duration::from_millis(1500));
    assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    assert!(parse_duration("30m1h").is_err(), "units out of order");
    assert!(parse_duration("1.5s").is_err());
    assert!(parse_duration("10").is_err());
    assert_eq!(parse_size("10MB").unwrap(), 10 << 20);
    assert_eq!(parse_size("512").unwrap(), 512);
    assert!(parse_size("1XB").is_err());
}

#[test]
fn refusals_name_the_field() {
    let e = parse("config:\n  scrape_configs:\n    - job_name: a\n      scrape_intreval: 5s\n").unwrap_err();
    assert!(e.contains("unknown field \"scrape_intreval\", did you mean \"scrape_interval\"?"), "{e}");
    let e = errors("config:\n  scrape_configs:\n    - job_name: a\n      kubernetes_sd_configs: [{role: ingress}]\n");
    assert!(
        e.contains("config::scrape_configs::0::kubernetes_sd_configs::0::role: role \"ingress\" is not supported yet"),
        "{e}"
    );
    let e = errors("config: {scrape_configs: [{job_name: a}, {job_name: a}]}\n");
    assert!(e.contains("found multiple scrape configs with job name \"a\""), "{e}");
    let e = errors("target_allocator: {endpoint: http://ta}\nconfig: {scrape_configs: [{job_name: a}]}\n");
    assert!(e.contains("target_allocator: the target allocator is not supported"), "{e}");
    let e = errors("config: {}\n");
    assert!(e.contains("no Prometheus scrape_configs"), "{e}");
    let e = errors("config: {scrape_configs: [{job_name: a, scrape_interval: 5s, scrape_timeout: 10s}]}\n");
    assert!(e.contains("scrape timeout greater than scrape interval"), "{e}");
    let e = errors("config: {rule_files: [x.yml], scrape_configs: [{job_name: a}]}\n");
    assert!(e.contains("unsupported features"), "{e}");
    let e =
        errors("config: {scrape_configs: [{job_name: a, relabel_configs: [{action: hashmod, target_label: t}]}]}\n");
    assert!(e.contains("relabel_configs::0::modulus"), "{e}");
    let e = errors(
        "config: {scrape_configs: [{job_name: a, basic_auth: {username: u}, authorization: {credentials: c}}]}\n",
    );
    assert!(e.contains("at most one of basic_auth, authorization"), "{e}");
}

/// A Collector user writes `$$1` so the Collector's `$` expansion leaves `$1`; both
/// spellings reach relabeling as `$1`.
#[test]
fn dollar_escapes_reach_relabeling_as_the_collector_intends() {
    let c = parse(
        r#"
config:
  scrape_configs:
    - job_name: k
      relabel_configs:
        - action: replace
          regex: ([^:]+)(?::\d+)?;(\d+)
          replacement: $$1:$$2
          source_labels: [__address__, port]
          target_label: __address__
        - {source_labels: [x], target_label: y, replacement: "pre_$1"}
"#,
    )
    .unwrap();
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    let r = &c.config.scrape_configs[0].relabel_configs;
    assert_eq!(r[0].replacement.as_deref(), Some("$1:$2"));
    assert_eq!(r[1].replacement.as_deref(), Some("pre_$1"), "a bare $1 is left alone");
    let rules = Rule::compile_all(r).unwrap();
    let mut ls: Labels = [("__address__", "10.0.0.1:80"), ("port", "9100"), ("x", "v")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert!(process(&rules, &mut ls));
    assert_eq!(ls["__address__"], "10.0.0.1:9100");
    assert_eq!(ls["y"], "pre_v");
}

/// The public configs' receiver blocks parse and validate.
#[test]
fn public_config_shapes() {
    let c = parse(
        r#"
config:
  scrape_configs:
  - bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token
    honor_timestamps: true
    job_name: kubernetes-cadvisor
    metrics_path: /metrics/cadvisor
    scheme: https
    static_configs:
    - targets: [10.0.0.1:10250]
    tls_config:
      ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
      insecure_skip_verify: true
  - job_name: internal
    scrape_interval: 10s
    static_configs:
    - targets: ['0.0.0.0:8888']
    metric_relabel_configs:
      - source_labels: [ __name__ ]
        regex: 'otelcol_processor_batch_.*'
        action: drop
"#,
    )
    .unwrap();
    assert!(c.validate().is_empty(), "{:?}", c.validate());
}
