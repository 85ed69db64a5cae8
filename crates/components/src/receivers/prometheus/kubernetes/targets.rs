//! Kubernetes objects to Prometheus targets: the `__address__` and `__meta_kubernetes_*`
//! labels of each role exactly as Prometheus makes them (`discovery/kubernetes/pod.go`,
//! `service.go`, `endpoints.go`, `endpointslice.go`, `node.go`), so the `relabel_configs`
//! written for Prometheus (keep by `prometheus.io/scrape`, the port from an annotation...)
//! select the same targets. Pure functions over the watched objects; `mod.rs` keeps the
//! objects current.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Endpoints, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::super::relabel::Labels;

const P: &str = "__meta_kubernetes_";
const ADDRESS: &str = "__address__";

/// Objects of one kind by `namespace/name` (cluster-scoped: `/name`).
pub type Objects<K> = BTreeMap<String, K>;

/// `namespace/name`, the key of every object map.
pub fn key(m: &ObjectMeta) -> String {
    format!("{}/{}", m.namespace.as_deref().unwrap_or_default(), m.name.as_deref().unwrap_or_default())
}

/// Prometheus's `strutil.SanitizeLabelName`: every character outside `[a-zA-Z0-9_]` becomes `_`.
fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

fn set(ls: &mut Labels, k: &str, v: impl Into<String>) {
    ls.insert(format!("{P}{k}"), v.into());
}

/// `_label_`, `_labelpresent_`, `_annotation_`, `_annotationpresent_` of `resource`.
fn labels_and_annotations(ls: &mut Labels, m: &ObjectMeta, resource: &str) {
    for (k, v) in m.labels.iter().flatten() {
        let n = sanitize(k);
        set(ls, &format!("{resource}_label_{n}"), v.clone());
        set(ls, &format!("{resource}_labelpresent_{n}"), "true");
    }
    for (k, v) in m.annotations.iter().flatten() {
        let n = sanitize(k);
        set(ls, &format!("{resource}_annotation_{n}"), v.clone());
        set(ls, &format!("{resource}_annotationpresent_{n}"), "true");
    }
}

fn object_meta(ls: &mut Labels, m: &ObjectMeta, role: &str) {
    set(ls, &format!("{role}_name"), m.name.clone().unwrap_or_default());
    labels_and_annotations(ls, m, role);
}

fn namespace(m: &ObjectMeta) -> String {
    m.namespace.clone().unwrap_or_default()
}

/// `host:port`, IPv6 hosts bracketed (Go's `net.JoinHostPort`).
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The labels every target of a pod carries (`podLabels`).
fn pod_labels(pod: &Pod) -> Labels {
    let mut ls = Labels::new();
    let st = pod.status.as_ref();
    let spec = pod.spec.as_ref();
    set(&mut ls, "pod_ip", st.and_then(|s| s.pod_ip.clone()).unwrap_or_default());
    let ready = st
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.status.to_lowercase())
        .unwrap_or_else(|| "unknown".into());
    set(&mut ls, "pod_ready", ready);
    set(&mut ls, "pod_phase", st.and_then(|s| s.phase.clone()).unwrap_or_default());
    set(&mut ls, "pod_node_name", spec.and_then(|s| s.node_name.clone()).unwrap_or_default());
    set(&mut ls, "pod_host_ip", st.and_then(|s| s.host_ip.clone()).unwrap_or_default());
    set(&mut ls, "pod_uid", pod.metadata.uid.clone().unwrap_or_default());
    object_meta(&mut ls, &pod.metadata, "pod");
    let controller = pod.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true));
    if let Some(c) = controller {
        if !c.kind.is_empty() {
            set(&mut ls, "pod_controller_kind", c.kind.clone());
        }
        if !c.name.is_empty() {
            set(&mut ls, "pod_controller_name", c.name.clone());
        }
    }
    ls
}

/// Containers then init containers, each with whether it is an init container.
fn containers(pod: &Pod) -> Vec<(&Container, bool)> {
    let Some(spec) = pod.spec.as_ref() else { return Vec::new() };
    let init = spec.init_containers.iter().flatten().map(|c| (c, true));
    spec.containers.iter().map(|c| (c, false)).chain(init).collect()
}

fn container_id(pod: &Pod, name: &str, init: bool) -> String {
    let st = pod.status.as_ref();
    let statuses = if init {
        st.and_then(|s| s.init_container_statuses.as_ref())
    } else {
        st.and_then(|s| s.container_statuses.as_ref())
    };
    statuses.into_iter().flatten().find(|s| s.name == name).and_then(|s| s.container_id.clone()).unwrap_or_default()
}

fn pod_ip(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.pod_ip.as_deref()).unwrap_or_default()
}

/// Role `pod`: one target per container port (`podIP:port`), one per container without
/// ports (`podIP`); none while the pod has no IP.
pub fn pod_targets(pod: &Pod) -> Vec<Labels> {
    let ip = pod_ip(pod);
    if ip.is_empty() {
        return Vec::new();
    }
    let mut group = pod_labels(pod);
    set(&mut group, "namespace", namespace(&pod.metadata));
    let mut out = Vec::new();
    for (c, init) in containers(pod) {
        let mut base = group.clone();
        set(&mut base, "pod_container_name", c.name.clone());
        set(&mut base, "pod_container_id", container_id(pod, &c.name, init));
        set(&mut base, "pod_container_image", c.image.clone().unwrap_or_default());
        set(&mut base, "pod_container_init", init.to_string());
        let ports = c.ports.as_deref().unwrap_or_default();
        if ports.is_empty() {
            base.insert(ADDRESS.into(), ip.to_string());
            out.push(base);
            continue;
        }
        for port in ports {
            let mut t = base.clone();
            t.insert(ADDRESS.into(), join_host_port(ip, port.container_port.into()));
            set(&mut t, "pod_container_port_number", port.container_port.to_string());
            set(&mut t, "pod_container_port_name", port.name.clone().unwrap_or_default());
            set(&mut t, "pod_container_port_protocol", port.protocol.clone().unwrap_or_default());
            out.push(t);
        }
    }
    out
}

/// `__meta_kubernetes_namespace` and the service's name, labels and annotations.
fn service_labels(svc: &Service) -> Labels {
    let mut ls = Labels::new();
    set(&mut ls, "namespace", namespace(&svc.metadata));
    object_meta(&mut ls, &svc.metadata, "service");
    ls
}

/// Role `service`: one target per service port, `name.namespace.svc:port`.
pub fn service_targets(svc: &Service) -> Vec<Labels> {
    let group = service_labels(svc);
    let Some(spec) = svc.spec.as_ref() else { return Vec::new() };
    let ty = spec.type_.clone().unwrap_or_default();
    let host = format!("{}.{}.svc", svc.metadata.name.as_deref().unwrap_or_default(), namespace(&svc.metadata));
    let mut out = Vec::new();
    for port in spec.ports.iter().flatten() {
        let mut t = group.clone();
        t.insert(ADDRESS.into(), join_host_port(&host, port.port.into()));
        set(&mut t, "service_port_name", port.name.clone().unwrap_or_default());
        set(&mut t, "service_port_number", port.port.to_string());
        set(&mut t, "service_port_protocol", port.protocol.clone().unwrap_or_default());
        set(&mut t, "service_type", ty.clone());
        if ty == "ExternalName" {
            set(&mut t, "service_external_name", spec.external_name.clone().unwrap_or_default());
        } else {
            set(&mut t, "service_cluster_ip", spec.cluster_ip.clone().unwrap_or_default());
        }
        if ty == "LoadBalancer" {
            let ips: Vec<String> = svc
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|l| l.ingress.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|i| i.ip.clone().filter(|ip| !ip.is_empty()))
                .collect();
            let v = if ips.is_empty() { spec.load_balancer_ip.clone().unwrap_or_default() } else { ips.join(",") };
            set(&mut t, "service_loadbalancer_ip", v);
        }
        out.push(t);
    }
    out
}

/// The container port labels of the first container port equal to `port` (an endpoint's
/// target pod), as Prometheus attaches them.
fn matching_container(t: &mut Labels, pod: &Pod, port: i32, protocol: &str) {
    for (c, init) in containers(pod) {
        if let Some(cp) = c.ports.iter().flatten().find(|cp| cp.container_port == port) {
            set(t, "pod_container_name", c.name.clone());
            set(t, "pod_container_image", c.image.clone().unwrap_or_default());
            set(t, "pod_container_port_name", cp.name.clone().unwrap_or_default());
            set(t, "pod_container_port_number", port.to_string());
            set(t, "pod_container_port_protocol", protocol.to_string());
            set(t, "pod_container_init", init.to_string());
            return;
        }
    }
}

/// Targets for the container ports of `pods` that no endpoint port covered (Prometheus adds
/// them so a pod's other ports can be scraped through the same role).
fn uncovered_ports(pods: &BTreeMap<String, (&Pod, Vec<i32>)>, group: &Labels) -> Vec<Labels> {
    let mut out = Vec::new();
    for (pod, seen) in pods.values() {
        let ip = pod_ip(pod);
        if ip.is_empty() {
            continue;
        }
        for (c, init) in containers(pod) {
            for cp in c.ports.iter().flatten().filter(|cp| !seen.contains(&cp.container_port)) {
                let mut t = group.clone();
                t.extend(pod_labels(pod));
                t.insert(ADDRESS.into(), join_host_port(ip, cp.container_port.into()));
                set(&mut t, "pod_container_name", c.name.clone());
                set(&mut t, "pod_container_image", c.image.clone().unwrap_or_default());
                set(&mut t, "pod_container_port_name", cp.name.clone().unwrap_or_default());
                set(&mut t, "pod_container_port_number", cp.container_port.to_string());
                set(&mut t, "pod_container_port_protocol", cp.protocol.clone().unwrap_or_default());
                set(&mut t, "pod_container_init", init.to_string());
                out.push(t);
            }
        }
    }
    out
}

/// Role `endpoints`: one target per address and port of every subset (not-ready addresses
/// with `endpoint_ready="false"`), with the same-named service's labels and the target pod's.
pub fn endpoints_targets(eps: &Endpoints, services: &Objects<Service>, pods: &Objects<Pod>) -> Vec<Labels> {
    let mut group = Labels::new();
    set(&mut group, "namespace", namespace(&eps.metadata));
    if let Some(svc) = services.get(&key(&eps.metadata)) {
        group.extend(service_labels(svc));
    }
    object_meta(&mut group, &eps.metadata, "endpoints");
    let mut seen: BTreeMap<String, (&Pod, Vec<i32>)> = BTreeMap::new();
    let mut out = Vec::new();
    for ss in eps.subsets.iter().flatten() {
        for port in ss.ports.iter().flatten() {
            let ready = ss.addresses.iter().flatten().map(|a| (a, "true"));
            let not_ready = ss.not_ready_addresses.iter().flatten().map(|a| (a, "false"));
            for (addr, ready) in ready.chain(not_ready) {
                let protocol = port.protocol.clone().unwrap_or_default();
                let mut t = group.clone();
                t.insert(ADDRESS.into(), join_host_port(&addr.ip, port.port.into()));
                set(&mut t, "endpoint_port_name", port.name.clone().unwrap_or_default());
                set(&mut t, "endpoint_port_protocol", protocol.clone());
                set(&mut t, "endpoint_ready", ready);
                if let Some(r) = &addr.target_ref {
                    set(&mut t, "endpoint_address_target_kind", r.kind.clone().unwrap_or_default());
                    set(&mut t, "endpoint_address_target_name", r.name.clone().unwrap_or_default());
                }
                if let Some(n) = &addr.node_name {
                    set(&mut t, "endpoint_node_name", n.clone());
                }
                if let Some(h) = addr.hostname.as_ref().filter(|h| !h.is_empty()) {
                    set(&mut t, "endpoint_hostname", h.clone());
                }
                if let Some((pk, pod)) = target_pod(addr.target_ref.as_ref(), pods) {
                    t.extend(pod_labels(pod));
                    matching_container(&mut t, pod, port.port, &protocol);
                    seen.entry(pk).or_insert((pod, Vec::new())).1.push(port.port);
                }
                out.push(t);
            }
        }
    }
    out.extend(uncovered_ports(&seen, &group));
    out
}

fn target_pod<'a>(
    r: Option<&k8s_openapi::api::core::v1::ObjectReference>,
    pods: &'a Objects<Pod>,
) -> Option<(String, &'a Pod)> {
    let r = r.filter(|r| r.kind.as_deref() == Some("Pod"))?;
    let k = format!("{}/{}", r.namespace.as_deref().unwrap_or_default(), r.name.as_deref().unwrap_or_default());
    pods.get(&k).map(|p| (k, p))
}

/// Role `endpointslice`: one target per endpoint address and slice port, with the labels of
/// the service named by `kubernetes.io/service-name` and of the target pod.
pub fn endpointslice_targets(es: &EndpointSlice, services: &Objects<Service>, pods: &Objects<Pod>) -> Vec<Labels> {
    let mut group = Labels::new();
    let ns = namespace(&es.metadata);
    set(&mut group, "namespace", ns.clone());
    set(&mut group, "endpointslice_address_type", es.address_type.clone());
    object_meta(&mut group, &es.metadata, "endpointslice");
    let svc = es
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("kubernetes.io/service-name"))
        .and_then(|name| services.get(&format!("{ns}/{name}")));
    if let Some(svc) = svc {
        group.extend(service_labels(svc));
        // A dual-stack service has a slice per IP family; only the primary family's is scraped.
        let spec = svc.spec.as_ref();
        let dual = spec
            .and_then(|s| s.ip_family_policy.as_deref())
            .is_some_and(|p| p == "PreferDualStack" || p == "RequireDualStack");
        let primary = spec.and_then(|s| s.ip_families.as_ref()).and_then(|f| f.first());
        if dual && primary.is_some_and(|f| *f != es.address_type) {
            return Vec::new();
        }
    }
    let mut seen: BTreeMap<String, (&Pod, Vec<i32>)> = BTreeMap::new();
    let mut out = Vec::new();
    for ep in &es.endpoints {
        for port in es.ports.iter().flatten() {
            for addr in &ep.addresses {
                let mut t = group.clone();
                let a = match port.port {
                    Some(p) => join_host_port(addr, p.into()),
                    None => addr.clone(),
                };
                t.insert(ADDRESS.into(), a);
                if let Some(n) = &port.name {
                    set(&mut t, "endpointslice_port_name", n.clone());
                }
                if let Some(pr) = &port.protocol {
                    set(&mut t, "endpointslice_port_protocol", pr.clone());
                }
                if let Some(p) = port.port {
                    set(&mut t, "endpointslice_port", p.to_string());
                }
                if let Some(ap) = &port.app_protocol {
                    set(&mut t, "endpointslice_port_app_protocol", ap.clone());
                }
                let cond = ep.conditions.as_ref();
                for (name, v) in [
                    ("ready", cond.and_then(|c| c.ready)),
                    ("serving", cond.and_then(|c| c.serving)),
                    ("terminating", cond.and_then(|c| c.terminating)),
                ] {
                    if let Some(v) = v {
                        set(&mut t, &format!("endpointslice_endpoint_conditions_{name}"), v.to_string());
                    }
                }
                if let Some(h) = &ep.hostname {
                    set(&mut t, "endpointslice_endpoint_hostname", h.clone());
                }
                if let Some(r) = &ep.target_ref {
                    set(&mut t, "endpointslice_address_target_kind", r.kind.clone().unwrap_or_default());
                    set(&mut t, "endpointslice_address_target_name", r.name.clone().unwrap_or_default());
                }
                if let Some(n) = &ep.node_name {
                    set(&mut t, "endpointslice_endpoint_node_name", n.clone());
                }
                if let Some(z) = &ep.zone {
                    set(&mut t, "endpointslice_endpoint_zone", z.clone());
                }
                for (k, v) in ep.deprecated_topology.iter().flatten() {
                    let n = sanitize(k);
                    set(&mut t, &format!("endpointslice_endpoint_topology_{n}"), v.clone());
                    set(&mut t, &format!("endpointslice_endpoint_topology_present_{n}"), "true");
                }
                if let Some((pk, pod)) = target_pod(ep.target_ref.as_ref(), pods) {
                    t.extend(pod_labels(pod));
                    if let Some(p) = port.port {
                        let protocol = containers(pod)
                            .iter()
                            .flat_map(|(c, _)| c.ports.iter().flatten())
                            .find(|cp| cp.container_port == p)
                            .and_then(|cp| cp.protocol.clone())
                            .unwrap_or_default();
                        matching_container(&mut t, pod, p, &protocol);
                    }
                    let entry = seen.entry(pk).or_insert((pod, Vec::new()));
                    entry.1.extend(port.port);
                }
                out.push(t);
            }
        }
    }
    out.extend(uncovered_ports(&seen, &group));
    out
}

/// Role `node`: the kubelet (`address:kubelet port`, the first InternalIP, InternalDNS,
/// ExternalIP, ExternalDNS, LegacyHostIP or Hostname), `instance` set to the node's name.
pub fn node_targets(node: &Node) -> Vec<Labels> {
    let mut t = Labels::new();
    let spec = node.spec.as_ref();
    let st = node.status.as_ref();
    set(&mut t, "node_provider_id", spec.and_then(|s| s.provider_id.clone()).unwrap_or_default());
    for c in st.and_then(|s| s.conditions.as_ref()).into_iter().flatten() {
        set(&mut t, &format!("node_condition_{}", sanitize(&c.type_.to_lowercase())), c.status.to_lowercase());
    }
    object_meta(&mut t, &node.metadata, "node");
    let mut by_type: BTreeMap<&str, &str> = BTreeMap::new();
    for a in st.and_then(|s| s.addresses.as_ref()).into_iter().flatten() {
        by_type.entry(a.type_.as_str()).or_insert(a.address.as_str());
    }
    let order = ["InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"];
    let Some(addr) = order.iter().find_map(|ty| by_type.get(ty)) else {
        tracing::warn!(node = node.metadata.name.as_deref().unwrap_or_default(), "No node address found.");
        return Vec::new();
    };
    let port = st
        .and_then(|s| s.daemon_endpoints.as_ref())
        .and_then(|d| d.kubelet_endpoint.as_ref())
        .map(|k| k.port)
        .unwrap_or(0);
    t.insert(ADDRESS.into(), join_host_port(addr, port.into()));
    t.insert("instance".into(), node.metadata.name.clone().unwrap_or_default());
    for (ty, a) in &by_type {
        t.insert(sanitize(&format!("{P}node_address_{ty}")), a.to_string());
    }
    vec![t]
}
