//! The processor in graphs built from YAML: both type names, the seed config, passthrough.

use switchyard_core::consumer::RequestContext;
use switchyard_core::testing::{traces, GraphHarness};
use switchyard_pdata::{attrs, SignalData, Traces};

use super::super::K8sAttributesProcessorFactory;

fn yaml(processor: &str) -> String {
    format!(
        "
receivers: {{source: }}
processors:
{processor}
exporters: {{sink: }}
service:
  pipelines:
    traces: {{receivers: [source], processors: [{name}], exporters: [sink]}}
",
        name = processor.trim().split(':').next().unwrap_or_default()
    )
}

fn registry(h: &GraphHarness) -> switchyard_core::component::Registry {
    let mut r = h.registry();
    r.processor(K8sAttributesProcessorFactory).unwrap();
    r
}

#[tokio::test]
async fn the_alias_k8s_attributes_in_passthrough_adds_the_clients_ip() {
    let h = GraphHarness::new();
    let _g = h.build(&registry(&h), &yaml("  k8s_attributes:\n    passthrough: true\n")).expect("valid");
    let cx = RequestContext { client_addr: Some("10.4.0.2:55000".parse().unwrap()), ..Default::default() };
    h.source("source").traces.unwrap().consume(&cx, traces(1)).await.unwrap();
    let got = h.sink::<Traces>("sink").unwrap().batches();
    let res = got[0].request().resource_spans[0].resource.as_ref().unwrap();
    assert_eq!(attrs::get_str(&res.attributes, "k8s.pod.ip"), Some("10.4.0.2"));
}

#[test]
fn the_seed_config_is_accepted_and_a_misspelt_name_is_located() {
    let h = GraphHarness::new();
    let seed = "  k8sattributes:\n    auth_type: \"serviceAccount\"\n    passthrough: false\n    extract:\n      metadata:\n        - k8s.pod.name\n        - k8s.namespace.name\n        - k8s.deployment.name\n        - k8s.node.name\n";
    assert!(h.build(&registry(&h), &yaml(seed)).is_ok());
    let bad = "  k8sattributes:\n    extract:\n      metadata: [k8s.deployment.nam]\n";
    let err = h.build(&registry(&h), &yaml(bad)).err().expect("refused").to_string();
    assert!(err.contains("extract::metadata::0") || err.contains("metadata"), "{err}");
    assert!(err.contains("did you mean \"k8s.deployment.name\""), "{err}");
}
