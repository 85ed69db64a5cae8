//! Cross-references of a rendered set of Kubernetes objects, checked as the cluster and the
//! gateway would resolve them: selectors reach pods, Service ports reach container ports the
//! pod's config listens on, volumes name existing ConfigMaps/Secrets (and their keys), every
//! file path a config names exists in the pod through its mounts, probes hit the config's
//! health_check, exporters that dial a rendered Service reach a receiver, and the
//! ServiceAccount a pod uses is bound to the rules its config needs.

use base64::Engine;
use serde_json::Value;
use switchyard_core::config;

pub const WORKLOADS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];
/// Config keys whose value is a path the gateway opens.
const FILE_KEYS: [&str; 5] = ["cert_file", "key_file", "ca_file", "client_ca_file", "filename"];

pub fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or_default()
}
pub fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or_default()
}
pub fn ns(o: &Value) -> &str {
    o["metadata"]["namespace"].as_str().unwrap_or("default")
}

/// Parses a multi-document YAML stream (kubectl's output) with the project's YAML reader.
pub fn parse_stream(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, doc) in text.split("\n---\n").enumerate() {
        let doc = doc.trim_start_matches("---\n");
        if doc.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
            continue;
        }
        let node = config::parse("rendered", doc).unwrap_or_else(|e| panic!("document {i}: {e}"));
        out.push(config::from_node(&node, "").unwrap_or_else(|e| panic!("document {i}: {e}")));
    }
    out
}

pub fn yaml(text: &str) -> Result<Value, String> {
    let node = config::parse("config.yaml", text).map_err(|e| e.to_string())?;
    config::from_node(&node, "").map_err(|e| e.to_string())
}

pub fn find<'a>(objs: &'a [Value], kind_: &str, ns_: &str, name_: &str) -> Option<&'a Value> {
    objs.iter().find(|o| kind(o) == kind_ && name(o) == name_ && (kind_.starts_with("Cluster") || ns(o) == ns_))
}

pub fn labels_match(selector: &Value, labels: &Value) -> bool {
    selector.as_object().is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

pub fn pod(w: &Value) -> &Value {
    &w["spec"]["template"]["spec"]
}

/// The port number of `host:port` or of a URL (default 80/443).
pub fn endpoint_port(ep: &str) -> Option<(String, i64)> {
    let (scheme, rest) = ep.split_once("://").unwrap_or(("", ep));
    let hostport = rest.split('/').next()?;
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((hostport.to_string(), if scheme == "https" { 443 } else { 80 })),
    }
}

/// The container port a Service `targetPort` or probe `port` (number or name) designates.
pub fn container_port(pod: &Value, target: &Value) -> Option<i64> {
    let ports = arr(&pod["containers"]).iter().flat_map(|c| arr(&c["ports"]));
    for p in ports {
        if (target.is_string() && p["name"] == *target) || (target.is_i64() && p["containerPort"] == *target) {
            return p["containerPort"].as_i64();
        }
    }
    None
}

/// What a container reads at `path`: the ConfigMap or Secret key its mounts lead to.
pub fn resolve_file(objs: &[Value], w: &Value, path: &str) -> Result<Vec<u8>, String> {
    let pod = pod(w);
    let c = &pod["containers"][0];
    let mount = arr(&c["volumeMounts"])
        .iter()
        .filter(|m| m["mountPath"].as_str().is_some_and(|mp| path.starts_with(&format!("{mp}/"))))
        .max_by_key(|m| m["mountPath"].as_str().map_or(0, str::len))
        .ok_or_else(|| format!("{} {}: no volume mounted at {path}", kind(w), name(w)))?;
    let rest = &path[mount["mountPath"].as_str().unwrap_or_default().len() + 1..];
    let vol = arr(&pod["volumes"])
        .iter()
        .find(|v| v["name"] == mount["name"])
        .ok_or_else(|| format!("{} {}: mount {} has no volume", kind(w), name(w), mount["name"]))?;
    let (src, kind_, ref_) = if vol["configMap"].is_object() {
        (&vol["configMap"], "ConfigMap", "name")
    } else if vol["secret"].is_object() {
        (&vol["secret"], "Secret", "secretName")
    } else {
        return Err(format!("{} {}: volume {} is neither a ConfigMap nor a Secret", kind(w), name(w), vol["name"]));
    };
    let key = match src["items"].as_array() {
        Some(items) => items
            .iter()
            .find(|i| i["path"] == rest)
            .and_then(|i| i["key"].as_str())
            .ok_or_else(|| format!("{} {}: {path}: no item with path {rest}", kind(w), name(w)))?,
        None => rest,
    };
    let obj_name = src[ref_].as_str().unwrap_or_default();
    let obj = find(objs, kind_, ns(w), obj_name)
        .ok_or_else(|| format!("{} {}: {path}: {kind_} {obj_name} is not rendered", kind(w), name(w)))?;
    let data = &obj["data"][key];
    let Some(text) = data.as_str() else {
        return Err(format!("{} {}: {path}: {kind_} {obj_name} has no key {key}", kind(w), name(w)));
    };
    if kind_ == "Secret" {
        // kustomize wraps long base64 values over several lines.
        let b64: String = text.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("{kind_} {obj_name}: {e}"))
    } else {
        Ok(text.as_bytes().to_vec())
    }
}

/// The config file a workload runs: the path after `--config`, through its mounts.
pub fn workload_config(objs: &[Value], w: &Value) -> Result<(String, Value), String> {
    let args: Vec<&str> = arr(&pod(w)["containers"][0]["args"]).iter().filter_map(Value::as_str).collect();
    let path = args
        .windows(2)
        .find(|a| a[0] == "--config")
        .map(|a| a[1])
        .ok_or_else(|| format!("{} {}: no --config in args", kind(w), name(w)))?;
    let text = String::from_utf8(resolve_file(objs, w, path)?).map_err(|e| e.to_string())?;
    let v = yaml(&text).map_err(|e| format!("{} {}: {e}", kind(w), name(w)))?;
    Ok((text, v))
}

/// Every `(key, path)` for the FILE_KEYS anywhere in a config.
pub fn file_paths(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x.as_str() {
                    Some(p) if FILE_KEYS.contains(&k.as_str()) => out.push((k.clone(), p.to_string())),
                    _ => file_paths(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| file_paths(x, out)),
        _ => {}
    }
}

/// The component of `section` whose type (the id before `/`) is `ty`.
fn component<'a>(cfg: &'a Value, section: &str, ty: &str) -> Option<&'a Value> {
    cfg[section].as_object()?.iter().find(|(id, _)| id.split('/').next() == Some(ty)).map(|(_, v)| v)
}

/// The ports the config's receivers listen on.
pub fn listened_ports(cfg: &Value) -> Vec<i64> {
    let mut out = Vec::new();
    for r in cfg["receivers"].as_object().into_iter().flat_map(|m| m.values()) {
        for p in r["protocols"].as_object().into_iter().flat_map(|m| m.values()) {
            if let Some((_, port)) = p["endpoint"].as_str().and_then(endpoint_port) {
                out.push(port);
            }
        }
    }
    out
}

/// A Service an exporter dials: `name`, `name.ns`, `name.ns.svc[.cluster.local]`.
pub fn service_of<'a>(objs: &'a [Value], from_ns: &str, host: &str) -> Option<&'a Value> {
    let labels: Vec<&str> = host.split('.').collect();
    let ns_ = labels.get(1).copied().unwrap_or(from_ns);
    let tail_ok = labels.len() <= 2 || labels[2..] == ["svc"] || labels[2..] == ["svc", "cluster", "local"];
    if tail_ok {
        find(objs, "Service", ns_, labels[0])
    } else {
        None
    }
}

/// A resolved exporter → Service → workload link.
#[derive(Debug, PartialEq)]
pub struct Link {
    pub from: String,
    pub exporter: String,
    pub service: String,
    pub port: i64,
    pub to: String,
}

/// Where a `(from workload, exporter id, host, port)` leads. Hosts that name no rendered
/// Service (external backends) are not links.
fn follow(objs: &[Value], w: &Value, exp: &str, host: &str, port: i64, links: &mut Vec<Link>, bad: &mut Vec<String>) {
    let Some(svc) = service_of(objs, ns(w), host) else { return };
    let Some(sp) = arr(&svc["spec"]["ports"]).iter().find(|p| p["port"] == port) else {
        bad.push(format!(
            "{} {}: exporter {exp} dials {host}:{port}, not a port of Service {}",
            kind(w),
            name(w),
            name(svc)
        ));
        return;
    };
    let targets: Vec<&Value> = objs
        .iter()
        .filter(|t| WORKLOADS.contains(&kind(t)) && ns(t) == ns(svc))
        .filter(|t| labels_match(&svc["spec"]["selector"], &t["spec"]["template"]["metadata"]["labels"]))
        .collect();
    for t in targets {
        let cport = container_port(pod(t), &sp["targetPort"]);
        let listens = workload_config(objs, t).map(|(_, c)| listened_ports(&c)).unwrap_or_default();
        match cport {
            Some(p) if listens.contains(&p) => links.push(Link {
                from: name(w).into(),
                exporter: exp.into(),
                service: name(svc).into(),
                port,
                to: name(t).into(),
            }),
            _ => bad.push(format!(
                "{} {}: exporter {exp} -> Service {} port {port} -> {} {}: container port {cport:?} has no receiver (listens on {listens:?})",
                kind(w),
                name(w),
                name(svc),
                kind(t),
                name(t)
            )),
        }
    }
}

/// The API rules a config needs from the pod's ServiceAccount.
fn needed_rules(cfg: &Value) -> Vec<(&'static str, &'static str)> {
    let mut need = Vec::new();
    if component(cfg, "processors", "k8sattributes").is_some_and(|k| k["passthrough"] != true) {
        need.extend([("", "pods"), ("", "namespaces"), ("apps", "replicasets")]);
    }
    if component(cfg, "exporters", "loadbalancing").is_some_and(|l| l["resolver"]["k8s"].is_object()) {
        need.push(("discovery.k8s.io", "endpointslices"));
    }
    need
}

/// Whether a (Cluster)RoleBinding binds `sa` in `ns_` to a role granting get/list/watch on `(group, resource)`.
fn granted(objs: &[Value], ns_: &str, sa: &str, group: &str, resource: &str) -> bool {
    objs.iter().filter(|b| kind(b) == "ClusterRoleBinding" || (kind(b) == "RoleBinding" && ns(b) == ns_)).any(|b| {
        let binds = arr(&b["subjects"])
            .iter()
            .any(|s| s["kind"] == "ServiceAccount" && s["name"] == sa && s["namespace"] == ns_);
        let role = find(
            objs,
            b["roleRef"]["kind"].as_str().unwrap_or_default(),
            ns(b),
            b["roleRef"]["name"].as_str().unwrap_or_default(),
        );
        binds
            && role.is_some_and(|r| {
                arr(&r["rules"]).iter().any(|rule| {
                    let has = |k: &str, v: &str| arr(&rule[k]).iter().any(|x| x == v || x == "*");
                    has("apiGroups", group)
                        && has("resources", resource)
                        && ["get", "list", "watch"].iter().all(|v| has("verbs", v))
                })
            })
    })
}

/// Every broken reference in `objs`, and the exporter links that resolved.
pub fn check(objs: &[Value]) -> (Vec<String>, Vec<Link>) {
    let (mut bad, mut links) = (Vec::new(), Vec::new());
    for w in objs.iter().filter(|o| WORKLOADS.contains(&kind(o))) {
        let id = format!("{} {}", kind(w), name(w));
        let p = pod(w);
        if !labels_match(&w["spec"]["selector"]["matchLabels"], &w["spec"]["template"]["metadata"]["labels"]) {
            bad.push(format!("{id}: selector does not match its pod labels"));
        }
        for v in arr(&p["volumes"]) {
            for (src, k, r) in [(&v["configMap"], "ConfigMap", "name"), (&v["secret"], "Secret", "secretName")] {
                let Some(n) = src[r].as_str() else { continue };
                match find(objs, k, ns(w), n) {
                    None => bad.push(format!("{id}: volume {} names {k} {n}, which is not rendered", v["name"])),
                    Some(o) => {
                        for key in arr(&src["items"]).iter().filter_map(|i| i["key"].as_str()) {
                            if o["data"][key].is_null() {
                                bad.push(format!("{id}: volume {} wants key {key} of {k} {n}", v["name"]));
                            }
                        }
                    }
                }
            }
        }
        let sa = p["serviceAccountName"].as_str().unwrap_or("default");
        if sa != "default" && find(objs, "ServiceAccount", ns(w), sa).is_none() {
            bad.push(format!("{id}: ServiceAccount {sa} is not rendered"));
        }
        let cfg = match workload_config(objs, w) {
            Ok((_, c)) => c,
            Err(e) => {
                bad.push(e);
                continue;
            }
        };
        let mut files = Vec::new();
        file_paths(&cfg, &mut files);
        for (key, path) in files {
            if let Err(e) = resolve_file(objs, w, &path) {
                bad.push(format!("{id}: config {key} {path}: {e}"));
            }
        }
        let c = &p["containers"][0];
        let health = component(&cfg, "extensions", "health_check");
        for probe in ["readinessProbe", "livenessProbe", "startupProbe"].map(|k| &c[k]).iter().filter(|x| x.is_object())
        {
            let port = container_port(p, &probe["httpGet"]["port"]);
            let hp = health.and_then(|h| h["endpoint"].as_str()).and_then(endpoint_port).map(|(_, p)| p);
            let hpath = health.map(|h| h["path"].as_str().unwrap_or("/"));
            if port.is_none() || port != hp || probe["httpGet"]["path"].as_str() != hpath {
                bad.push(format!(
                    "{id}: probe {} hits port {port:?} path {}, health_check is on {hp:?} {hpath:?}",
                    probe["httpGet"]["port"], probe["httpGet"]["path"]
                ));
            }
        }
        for port in listened_ports(&cfg) {
            if container_port(p, &Value::from(port)).is_none() {
                bad.push(format!("{id}: the config listens on {port}, which the container does not declare"));
            }
        }
        if let Some(var) =
            component(&cfg, "processors", "k8sattributes").and_then(|k| k["filter"]["node_from_env_var"].as_str())
        {
            if !arr(&c["env"]).iter().any(|e| e["name"] == var) {
                bad.push(format!("{id}: k8sattributes reads ${var}, which the container does not set"));
            }
        }
        for (group, res) in needed_rules(&cfg) {
            if !granted(objs, ns(w), sa, group, res) {
                bad.push(format!("{id}: ServiceAccount {sa} may not get/list/watch {res} ({group:?})"));
            }
        }
        for (exp_id, exp) in cfg["exporters"].as_object().into_iter().flatten() {
            if let Some((host, port)) = exp["endpoint"].as_str().and_then(endpoint_port) {
                follow(objs, w, exp_id, &host, port, &mut links, &mut bad);
            }
            let k8s = &exp["resolver"]["k8s"];
            if let Some(svc) = k8s["service"].as_str() {
                for port in arr(&k8s["ports"]).iter().filter_map(Value::as_i64) {
                    follow(objs, w, exp_id, svc, port, &mut links, &mut bad);
                }
            }
        }
    }
    for o in objs {
        let id = format!("{} {}", kind(o), name(o));
        match kind(o) {
            "Service" => {
                let pods: Vec<&Value> = objs
                    .iter()
                    .filter(|w| WORKLOADS.contains(&kind(w)) && ns(w) == ns(o))
                    .filter(|w| labels_match(&o["spec"]["selector"], &w["spec"]["template"]["metadata"]["labels"]))
                    .collect();
                if pods.is_empty() {
                    bad.push(format!("{id}: selector matches no pods"));
                }
                for port in arr(&o["spec"]["ports"]) {
                    if let Some(w) = pods.iter().find(|w| container_port(pod(w), &port["targetPort"]).is_none()) {
                        bad.push(format!(
                            "{id}: targetPort {} is not a port of {} {}",
                            port["targetPort"],
                            kind(w),
                            name(w)
                        ));
                    }
                }
            }
            "PodDisruptionBudget" => {
                let sel = &o["spec"]["selector"]["matchLabels"];
                if !objs.iter().any(|w| {
                    WORKLOADS.contains(&kind(w))
                        && ns(w) == ns(o)
                        && labels_match(sel, &w["spec"]["template"]["metadata"]["labels"])
                }) {
                    bad.push(format!("{id}: selector matches no pods"));
                }
            }
            "HorizontalPodAutoscaler" => {
                let t = &o["spec"]["scaleTargetRef"];
                match find(objs, t["kind"].as_str().unwrap_or_default(), ns(o), t["name"].as_str().unwrap_or_default())
                {
                    Some(w) if t["apiVersion"] == w["apiVersion"] => {
                        if arr(&pod(w)["containers"]).iter().any(|c| c["resources"]["requests"]["cpu"].is_null()) {
                            bad.push(format!("{id}: CPU utilization needs CPU requests on every container"));
                        }
                    }
                    _ => bad.push(format!("{id}: scaleTargetRef {t} is not rendered")),
                }
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let r = &o["roleRef"];
                if find(objs, r["kind"].as_str().unwrap_or_default(), ns(o), r["name"].as_str().unwrap_or_default())
                    .is_none()
                {
                    bad.push(format!("{id}: roleRef {r} is not rendered"));
                }
                for s in arr(&o["subjects"]).iter().filter(|s| s["kind"] == "ServiceAccount") {
                    if find(
                        objs,
                        "ServiceAccount",
                        s["namespace"].as_str().unwrap_or_default(),
                        s["name"].as_str().unwrap_or_default(),
                    )
                    .is_none()
                    {
                        bad.push(format!("{id}: subject {s} is not rendered"));
                    }
                }
            }
            _ => {}
        }
    }
    (bad, links)
}
