//! The OTLP → Prometheus translation both Prometheus exporters share: the pull
//! `prometheus` exporter and `prometheusremotewrite` name metrics, sanitise labels, map the
//! resource to `job`/`instance`/`target_info` and promote resource attributes the same
//! way, so a series looks the same whichever way it reaches Prometheus.

pub mod labels;
pub mod names;

pub use labels::{
    add_absent, attribute_labels, identity_labels, is_service_attribute, promoted_labels, scope_labels, series_labels,
    set_label, target_info_name, Label, TARGET_INFO,
};
pub use names::{float_label, label_name, metric_name, NameKind};
