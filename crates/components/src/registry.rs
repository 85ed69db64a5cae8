//! The list of every component in this build: one line per factory, each behind its feature.

use switchyard_core::component::{Registry, RegistryError};

/// A registry with every component compiled in. Fails only if two factories claim one type.
pub fn registry() -> Result<Registry, RegistryError> {
    let mut r = Registry::new();
    #[cfg(feature = "receiver-otlp")]
    r.receiver(crate::receivers::otlp::OtlpReceiverFactory)?;
    #[cfg(feature = "processor-attributes")]
    r.processor(crate::processors::attributes::AttributesProcessorFactory)?;
    #[cfg(feature = "processor-batch")]
    r.processor(crate::processors::batch::BatchProcessorFactory)?;
    #[cfg(feature = "processor-filter")]
    r.processor(crate::processors::filter::FilterProcessorFactory)?;
    #[cfg(feature = "processor-k8sattributes")]
    r.processor(crate::processors::k8sattributes::K8sAttributesProcessorFactory)?;
    #[cfg(feature = "processor-probabilistic_sampler")]
    r.processor(crate::processors::probabilistic_sampler::ProbabilisticSamplerFactory)?;
    #[cfg(feature = "processor-memory_limiter")]
    r.processor(crate::processors::memory_limiter::MemoryLimiterProcessorFactory)?;
    #[cfg(feature = "processor-resource")]
    r.processor(crate::processors::resource::ResourceProcessorFactory)?;
    #[cfg(feature = "processor-resourcedetection")]
    r.processor(crate::processors::resourcedetection::ResourceDetectionProcessorFactory)?;
    #[cfg(feature = "processor-routing")]
    r.processor(crate::processors::routing::RoutingProcessorFactory)?;
    #[cfg(feature = "processor-tail_sampling")]
    r.processor(crate::processors::tail_sampling::TailSamplingProcessorFactory)?;
    #[cfg(feature = "processor-transform")]
    r.processor(crate::processors::transform::TransformProcessorFactory)?;
    #[cfg(feature = "exporter-otlp")]
    r.exporter(crate::exporters::otlp::OtlpExporterFactory)?;
    #[cfg(feature = "exporter-otlphttp")]
    r.exporter(crate::exporters::otlphttp::OtlpHttpExporterFactory)?;
    #[cfg(feature = "exporter-loadbalancing")]
    r.exporter(crate::exporters::loadbalancing::LoadBalancingExporterFactory)?;
    #[cfg(feature = "exporter-debug")]
    r.exporter(crate::exporters::debug::DebugExporterFactory)?;
    #[cfg(feature = "exporter-nop")]
    r.exporter(crate::exporters::nop::NopExporterFactory)?;
    #[cfg(feature = "receiver-nop")]
    r.receiver(crate::receivers::nop::NopReceiverFactory)?;
    #[cfg(feature = "exporter-prometheusremotewrite")]
    r.exporter(crate::exporters::prometheusremotewrite::PrometheusRemoteWriteExporterFactory)?;
    #[cfg(feature = "exporter-prometheus")]
    r.exporter(crate::exporters::prometheus::PrometheusExporterFactory)?;
    #[cfg(feature = "exporter-loki")]
    r.exporter(crate::exporters::loki::LokiExporterFactory)?;
    #[cfg(feature = "exporter-kafka")]
    r.exporter(crate::exporters::kafka::KafkaExporterFactory)?;
    #[cfg(feature = "receiver-kafka")]
    r.receiver(crate::receivers::kafka::KafkaReceiverFactory)?;
    #[cfg(feature = "receiver-prometheus")]
    r.receiver(crate::receivers::prometheus::PrometheusReceiverFactory)?;
    #[cfg(feature = "receiver-zipkin")]
    r.receiver(crate::receivers::zipkin::ZipkinReceiverFactory)?;
    #[cfg(feature = "receiver-jaeger")]
    r.receiver(crate::receivers::jaeger::JaegerReceiverFactory)?;
    #[cfg(feature = "receiver-filelog")]
    r.receiver(crate::receivers::filelog::FileLogReceiverFactory)?;
    #[cfg(feature = "receiver-hostmetrics")]
    r.receiver(crate::receivers::hostmetrics::HostMetricsReceiverFactory)?;
    #[cfg(feature = "connector-count")]
    r.connector(crate::connectors::count::CountConnectorFactory)?;
    #[cfg(feature = "connector-forward")]
    r.connector(crate::connectors::forward::ForwardConnectorFactory)?;
    #[cfg(feature = "connector-routing")]
    r.connector(crate::connectors::routing::RoutingConnectorFactory)?;
    #[cfg(feature = "connector-servicegraph")]
    r.connector(crate::connectors::servicegraph::ServiceGraphConnectorFactory)?;
    #[cfg(feature = "connector-spanmetrics")]
    r.connector(crate::connectors::spanmetrics::SpanMetricsConnectorFactory)?;
    #[cfg(feature = "extension-file_storage")]
    r.extension(crate::extensions::file_storage::FileStorageExtensionFactory)?;
    #[cfg(feature = "extension-health_check")]
    r.extension(crate::extensions::health_check::HealthCheckExtensionFactory)?;
    #[cfg(feature = "extension-zpages")]
    r.extension(crate::extensions::zpages::ZPagesExtensionFactory)?;
    #[cfg(feature = "extension-pprof")]
    r.extension(crate::extensions::pprof::PprofExtensionFactory)?;
    #[cfg(feature = "extension-healthcheckv2")]
    r.extension(crate::extensions::healthcheckv2::HealthCheckV2ExtensionFactory)?;
    #[cfg(feature = "extension-bearertokenauth")]
    r.extension(crate::extensions::bearertokenauth::BearerTokenAuthExtensionFactory)?;
    #[cfg(feature = "extension-basicauth")]
    r.extension(crate::extensions::basicauth::BasicAuthExtensionFactory)?;
    #[cfg(feature = "extension-headers_setter")]
    r.extension(crate::extensions::headers_setter::HeadersSetterExtensionFactory)?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use switchyard_core::component::Kind;

    #[test]
    fn every_type_is_registered_once_with_its_aliases() {
        let r = super::registry().expect("no duplicate types");
        assert!(r.get(Kind::Exporter, "otlp_http").is_some());
        assert!(r.get(Kind::Exporter, "otlphttp").is_some());
        assert!(r.get(Kind::Exporter, "otlp_grpc").is_some());
        assert!(r.get(Kind::Receiver, "otlp").is_some());
        for (ty, canonical) in [
            ("spanmetrics", "spanmetrics"),
            ("span_metrics", "spanmetrics"),
            ("servicegraph", "servicegraph"),
            ("service_graph", "servicegraph"),
        ] {
            let f = r.get(Kind::Connector, ty).unwrap_or_else(|| panic!("connector {ty} is registered"));
            assert_eq!(f.component_type(), canonical, "{ty} is an alias of {canonical}");
        }
    }

    #[test]
    fn a_duplicate_type_is_an_error() {
        let mut r = super::registry().expect("registry");
        let err = r.exporter(crate::exporters::debug::DebugExporterFactory).unwrap_err();
        assert_eq!(err.to_string(), "duplicate exporter type \"debug\" in the registry");
    }

    #[test]
    fn every_default_config_validates() {
        let r = super::registry().expect("registry");
        for kind in [Kind::Receiver, Kind::Processor, Kind::Exporter, Kind::Connector, Kind::Extension] {
            for f in r.factories(kind) {
                match (kind, f.component_type(), f.parse_config(None, f.component_type())) {
                    (_, _, Ok(_)) => {}
                    // As in the Collector: `otlp:` with no protocol is an error, by design.
                    (Kind::Receiver, "otlp" | "jaeger", Err(e)) => {
                        assert!(e[0].message.contains("at least one protocol"), "{e:?}")
                    }
                    // As in the Collector: check_interval and a limit have no usable default.
                    (Kind::Processor, "memory_limiter", Err(e)) => assert_eq!(e.len(), 2, "{e:?}"),
                    // As in the Collector: the default directory must exist (it does not here).
                    (Kind::Extension, "file_storage", Err(e)) => {
                        assert!(e[0].message.contains("/var/lib/otelcol/file_storage does not exist"), "{e:?}")
                    }
                    // As in the Collector: credentials have no default.
                    (Kind::Extension, "bearertokenauth", Err(e)) => {
                        assert!(e[0].message.contains("one of token, tokens or filename"), "{e:?}")
                    }
                    (Kind::Extension, "basicauth", Err(e)) => {
                        assert!(e[0].message.contains("htpasswd or client_auth"), "{e:?}")
                    }
                    // As in the Collector: the push URL has no default.
                    (Kind::Exporter, "loki", Err(e)) => assert!(e[0].message.contains("push URL is required"), "{e:?}"),
                    (Kind::Exporter, "prometheusremotewrite", Err(e)) => {
                        assert!(e[0].message.contains("endpoint is required"), "{e:?}")
                    }
                    // As in the Collector: the scrape endpoint has no default.
                    (Kind::Exporter, "prometheus", Err(e)) => {
                        assert!(e[0].message.contains("non-blank address"), "{e:?}")
                    }
                    // As in the Collector: the actions are required.
                    (Kind::Processor, "attributes", Err(e)) => {
                        assert!(e[0].message.contains("missing required field \"actions\""), "{e:?}")
                    }
                    (Kind::Processor, "resource", Err(e)) => {
                        assert!(e[0].message.contains("missing required field \"attributes\""), "{e:?}")
                    }
                    // As in the Collector: a routing table has no default.
                    (Kind::Connector | Kind::Processor, "routing", Err(e)) => {
                        assert!(e[0].message.contains("routing table is empty"), "{e:?}")
                    }
                    // Sampling needs at least one policy; a default would keep or drop everything silently.
                    (Kind::Processor, "tail_sampling", Err(e)) => {
                        assert!(e[0].message.contains("at least one policy is required"), "{e:?}")
                    }
                    // As in the Collector: the backends have to come from somewhere.
                    (Kind::Exporter, "loadbalancing", Err(e)) => {
                        assert!(e[0].message.contains("no resolver configured"), "{e:?}")
                    }
                    // As in the Collector: there is nothing to scrape without scrape configs.
                    (Kind::Receiver, "prometheus", Err(e)) => {
                        assert!(e[0].message.contains("no Prometheus scrape_configs"), "{e:?}")
                    }
                    // As in the Collector: there are no files to read without `include`.
                    (Kind::Receiver, "filelog", Err(e)) => {
                        assert!(e[0].message.contains("'include' must be specified"), "{e:?}")
                    }
                    // As in the Collector: a receiver without scrapers reads nothing.
                    (Kind::Receiver, "hostmetrics", Err(e)) => {
                        assert!(e[0].message.contains("at least one scraper"), "{e:?}")
                    }
                    (_, ty, Err(e)) => panic!("default config of {} {ty} is invalid: {e:?}", kind.word()),
                }
            }
        }
    }
}
