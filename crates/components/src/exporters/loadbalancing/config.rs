//! `exporters: loadbalancing:` (alias `load_balancing`) configuration.
//!
//! The Collector's fields: `protocol.otlp` is the template of the exporter built for each
//! backend (its `endpoint` is ignored and replaced by the backend's), `resolver` says where
//! backends come from, `routing_key` what keeps data together. The top-level `timeout`,
//! `retry_on_failure` and `sending_queue` wrap the whole exporter, as in recent Collectors.

use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::exporterhelper::{QueueConfig, RetryConfig};

use crate::exporters::otlp::OtlpExporterConfig;

/// The whole exporter's config.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadBalancingConfig {
    /// The per-backend exporter template.
    pub protocol: ProtocolConfig,
    /// Exactly one resolver.
    pub resolver: ResolverConfig,
    /// `traceID` (default for traces and logs), `service` (default for metrics), `resource`,
    /// `metric`, `streamID`, `attributes`.
    pub routing_key: String,
    /// With `routing_key: attributes`: the attributes whose values make the key.
    pub routing_attributes: Vec<String>,
    /// Per attempt on one backend; when absent, `protocol.otlp.timeout`.
    #[serde(with = "humantime_serde::option")]
    pub timeout: Option<Duration>,
    /// Retries of the parts that failed; when absent, `protocol.otlp.retry_on_failure`.
    pub retry_on_failure: Option<RetryConfig>,
    /// The queue in front of the router; when absent, `protocol.otlp.sending_queue`.
    pub sending_queue: Option<QueueConfig>,
}

/// `protocol`: only OTLP/gRPC exists.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProtocolConfig {
    /// Every field of the `otlp` exporter; `endpoint` is replaced per backend.
    pub otlp: OtlpExporterConfig,
}

impl Default for ProtocolConfig {
    fn default() -> Self {
        // The Collector's template carries a placeholder endpoint so the OTLP config validates.
        ProtocolConfig { otlp: OtlpExporterConfig { endpoint: "placeholder:4317".into(), ..Default::default() } }
    }
}

/// `resolver`: where the backend list comes from.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResolverConfig {
    /// A fixed list.
    #[serde(rename = "static")]
    pub static_hosts: Option<StaticResolverConfig>,
    /// A DNS name whose A/AAAA records are the backends.
    pub dns: Option<DnsResolverConfig>,
    /// A Kubernetes Service's EndpointSlices.
    #[serde(alias = "kubernetes")]
    pub k8s: Option<K8sResolverConfig>,
    /// AWS Cloud Map: parsed so the error can name it, refused by `validate`.
    pub aws_cloud_map: Option<IgnoredAny>,
}

/// `resolver.static`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticResolverConfig {
    /// `host:port` of each backend.
    pub hostnames: Vec<String>,
}

/// `resolver.dns`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsResolverConfig {
    /// The name to resolve (required).
    pub hostname: String,
    /// Port of every resolved address (default `4317`); a string in the Collector.
    pub port: PortString,
    /// How often to resolve (default 5s).
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Per resolution (default 1s).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for DnsResolverConfig {
    fn default() -> Self {
        DnsResolverConfig {
            hostname: String::new(),
            port: PortString("4317".into()),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(1),
        }
    }
}

/// A port written as a string (`"4317"`) or a number (`4317`).
#[derive(Clone, Debug, PartialEq)]
pub struct PortString(pub String);

impl<'de> Deserialize<'de> for PortString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum P {
            S(String),
            N(u64),
        }
        Ok(PortString(match P::deserialize(d)? {
            P::S(s) => s,
            P::N(n) => n.to_string(),
        }))
    }
}

/// `resolver.k8s` (alias `kubernetes`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct K8sResolverConfig {
    /// `name` or `name.namespace` (the namespace defaults to the gateway's own, else `default`).
    pub service: String,
    /// One backend per ready endpoint and port (default `[4317]`).
    pub ports: Vec<u16>,
    /// Per API call (default 1s).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Use the endpoints' hostnames (`pod.service.namespace`) instead of IPs, for TLS names.
    pub return_hostnames: bool,
}

impl Default for K8sResolverConfig {
    fn default() -> Self {
        K8sResolverConfig {
            service: String::new(),
            ports: vec![4317],
            timeout: Duration::from_secs(1),
            return_hostnames: false,
        }
    }
}

/// The routing keys (`routing_key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoutingKey {
    /// The span's or log record's trace id.
    TraceId,
    /// The resource's `service.name`.
    Service,
    /// All resource attributes (metrics).
    Resource,
    /// The metric name (metrics).
    Metric,
    /// Metric identity plus data-point attributes (metrics).
    StreamId,
    /// `routing_attributes` values (traces).
    Attributes,
}

impl RoutingKey {
    /// Parses `routing_key`; an empty string is the signal's default, decided by the caller.
    pub fn parse(s: &str) -> Option<RoutingKey> {
        Some(match s {
            "traceID" => RoutingKey::TraceId,
            "service" => RoutingKey::Service,
            "resource" => RoutingKey::Resource,
            "metric" => RoutingKey::Metric,
            "streamID" => RoutingKey::StreamId,
            "attributes" => RoutingKey::Attributes,
            _ => return None,
        })
    }
}

const ROUTING_KEYS: &[&str] = &["traceID", "service", "resource", "metric", "streamID", "attributes"];

impl ComponentConfig for LoadBalancingConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let r = &self.resolver;
        if r.aws_cloud_map.is_some() {
            e.push(FieldError::new(
                "resolver::aws_cloud_map",
                "the AWS Cloud Map resolver is not supported; use `dns` (Cloud Map publishes DNS records) or `static`",
            ));
        }
        let set = [r.static_hosts.is_some(), r.dns.is_some(), r.k8s.is_some()].iter().filter(|b| **b).count();
        if set == 0 && r.aws_cloud_map.is_none() {
            e.push(FieldError::new("resolver", "no resolver configured: set one of `static`, `dns` or `k8s`"));
        } else if set > 1 {
            e.push(FieldError::new("resolver", "configure exactly one of `static`, `dns` and `k8s`"));
        }
        if let Some(s) = &r.static_hosts {
            if s.hostnames.is_empty() {
                e.push(FieldError::new("resolver::static::hostnames", "must list at least one `host:port`"));
            }
            for (i, h) in s.hostnames.iter().enumerate() {
                if h.trim().is_empty() {
                    e.push(FieldError::new(format!("resolver::static::hostnames::{i}"), "empty hostname"));
                }
            }
        }
        if let Some(d) = &r.dns {
            if d.hostname.is_empty() {
                e.push(FieldError::new("resolver::dns::hostname", "is required"));
            }
            if d.port.0.parse::<u16>().map_or(true, |p| p == 0) {
                e.push(FieldError::new("resolver::dns::port", format!("invalid port \"{}\"", d.port.0)));
            }
            if d.interval.is_zero() {
                e.push(FieldError::new("resolver::dns::interval", "must be positive"));
            }
            if d.timeout.is_zero() {
                e.push(FieldError::new("resolver::dns::timeout", "must be positive"));
            }
        }
        if let Some(k) = &r.k8s {
            if k.service.is_empty() {
                e.push(FieldError::new("resolver::k8s::service", "is required (`name` or `name.namespace`)"));
            } else if let Err(m) = super::resolver::parse_service(k.service.trim()) {
                e.push(FieldError::new("resolver::k8s::service", m));
            }
            if k.ports.is_empty() || k.ports.contains(&0) {
                e.push(FieldError::new("resolver::k8s::ports", "must list at least one port, none 0"));
            }
        }
        if !self.routing_key.is_empty() && RoutingKey::parse(&self.routing_key).is_none() {
            e.push(FieldError::new(
                "routing_key",
                format!("unknown routing key \"{}\" (one of: {})", self.routing_key, ROUTING_KEYS.join(", ")),
            ));
        }
        if self.routing_key == "attributes" && self.routing_attributes.is_empty() {
            e.push(FieldError::new("routing_attributes", "`routing_key: attributes` needs at least one attribute"));
        }
        let mut otlp = self.protocol.otlp.clone();
        if otlp.endpoint.is_empty() {
            otlp.endpoint = "placeholder:4317".into();
        }
        e.extend(
            otlp.validate().into_iter().map(|f| FieldError::new(format!("protocol::otlp::{}", f.field), f.message)),
        );
        if let Some(q) = &self.sending_queue {
            e.extend(q.validate());
        }
        if let Some(r) = &self.retry_on_failure {
            e.extend(r.validate());
        }
        e
    }
}
