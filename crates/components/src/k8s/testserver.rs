//! A stand-in Kubernetes API server on 127.0.0.1 for the tests of every component that
//! talks to the API through [`crate::k8s`] (`k8sattributes`, the `loadbalancing` exporter's
//! `k8s` resolver, the prometheus receiver's `kubernetes_sd_configs`): pods, replicasets,
//! namespaces, nodes, services, Endpoints and EndpointSlices, list and watch.
//!
//! Checked against the Kubernetes "API Concepts" documentation (efficient detection of
//! changes, resource versions, chunked lists, watch event framing), the EndpointSlice API
//! reference (`discovery.k8s.io/v1`: `addressType`, `endpoints[].addresses`,
//! `endpoints[].conditions.{ready,serving,terminating}`, `endpoints[].hostname`, `ports`, the
//! `kubernetes.io/service-name` label) and against what kube-core 5.0 sends (`request.rs`,
//! `params.rs`) and kube-runtime's `watcher` does:
//!
//! - **List** `GET /api/v1/pods?limit=500[&fieldSelector=..][&labelSelector=..]` (or
//!   `/api/v1/namespaces/{ns}/pods`, `/apis/apps/v1/[namespaces/{ns}/]replicasets`,
//!   `/apis/discovery.k8s.io/v1/[namespaces/{ns}/]endpointslices`, `/api/v1/namespaces`,
//!   `/api/v1/nodes`, `/api/v1/[namespaces/{ns}/]services`,
//!   `/api/v1/[namespaces/{ns}/]endpoints`): a `*List` whose `metadata.resourceVersion` is the
//!   store's current
//!   version; every item carries its own `metadata.resourceVersion`. Items of a list have no
//!   `apiVersion`/`kind` (the real server omits them). `limit` is honoured with a `continue`
//!   token, as kube pages by 500.
//! - **Watch** `...?watch=true&timeoutSeconds=N&allowWatchBookmarks=true&resourceVersion=V`:
//!   a chunked stream of newline-delimited `{"type":"ADDED|MODIFIED|DELETED","object":{..}}`,
//!   starting with every change after version V, then live changes, ended by the server after
//!   `timeoutSeconds` (as the real server does; the client then re-watches from its last
//!   version). `resourceVersion` unset or `"0"` starts with a synthetic ADDED per current
//!   object, as the real server does. Nothing is compacted, so `410 Gone` never happens;
//!   bookmarks are optional for a server and none are sent.
//! - **Label selectors** are applied for the equality forms (`k=v`, `k==v`, `k!=v`, `k`,
//!   `!k`, comma-separated, all must hold), to lists, watches and the events a watch sends,
//!   as the real server does; set forms (`in`, `notin`) are refused with 400. An object
//!   modified so that it no longer matches is sent as MODIFIED only while it matches (the
//!   real server sends DELETED then; no test relies on either).
//! - **Metadata-only requests**: with `Accept: application/json;as=PartialObjectMetadataList;
//!   g=meta.k8s.io;v=v1` (lists) or `as=PartialObjectMetadata` (watches), which kube sends for
//!   `Api<PartialObjectMeta<K>>`, objects are reduced to `metadata` with
//!   `apiVersion: meta.k8s.io/v1`, `kind: PartialObjectMetadata`.
//! - **Auth**: every request must carry `Authorization: Bearer test-token` (from the
//!   kubeconfig the tests write); otherwise 401 with a `Status` body.
//! - **Outages**: [`ApiServer::refuse`] makes every new request fail with a `Status` body
//!   (e.g. 403 Forbidden, what a missing RBAC rule gives) until it is lifted.
//!
//! Field selectors are recorded (tests assert what the client sent), not applied.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::broadcast;

/// The resource kinds served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `v1` Pod.
    Pod,
    /// `apps/v1` ReplicaSet.
    ReplicaSet,
    /// `v1` Namespace.
    Namespace,
    /// `v1` Node.
    Node,
    /// `discovery.k8s.io/v1` EndpointSlice.
    EndpointSlice,
    /// `v1` Service.
    Service,
    /// `v1` Endpoints.
    Endpoints,
}

impl Kind {
    fn api_version(self) -> &'static str {
        match self {
            Kind::ReplicaSet => "apps/v1",
            Kind::EndpointSlice => "discovery.k8s.io/v1",
            _ => "v1",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::Service => "Service",
            Kind::Endpoints => "Endpoints",
        }
    }
}

#[derive(Clone, Debug)]
struct Change {
    rv: u64,
    kind: Kind,
    ns: String,
    ty: &'static str,
    obj: Value,
}

#[derive(Default)]
struct Store {
    rv: u64,
    objects: BTreeMap<(Kind, String, String), Value>,
    history: Vec<Change>,
    requests: Vec<String>,
    refuse: Option<StatusCode>,
}

/// The running stand-in.
pub struct ApiServer {
    store: Arc<Mutex<Store>>,
    changes: broadcast::Sender<Change>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
    /// A kubeconfig pointing at this server (context `stand-in`, token `test-token`).
    pub kubeconfig: PathBuf,
    /// The server's URL (`http://127.0.0.1:port`), for clients given an address and token.
    pub url: String,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn ns_of(obj: &Value) -> String {
    obj["metadata"]["namespace"].as_str().unwrap_or_default().to_string()
}

impl ApiServer {
    /// Listens on a free loopback port and writes the kubeconfig pointing at it.
    pub async fn start() -> ApiServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let store = Arc::new(Mutex::new(Store::default()));
        let (changes, _) = broadcast::channel(1024);
        let (st, ch) = (store.clone(), changes.clone());
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let (st, ch) = (st.clone(), ch.clone());
            async move { handle(&st, &ch, uri, headers) }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("config");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: other\n\
                 clusters:\n- name: stand-in\n  cluster:\n    server: http://{addr}\n\
                 - name: other\n  cluster:\n    server: http://127.0.0.1:9\n\
                 contexts:\n- name: stand-in\n  context:\n    cluster: stand-in\n    user: tester\n\
                 - name: other\n  context:\n    cluster: other\n    user: tester\n\
                 users:\n- name: tester\n  user:\n    token: test-token\n"
            ),
        )
        .unwrap();
        ApiServer { store, changes, task, _dir: dir, kubeconfig, url: format!("http://{addr}") }
    }

    /// Creates or replaces an object (ADDED or MODIFIED).
    pub fn apply(&self, kind: Kind, mut obj: Value) {
        let mut st = self.store.lock().unwrap();
        st.rv += 1;
        let rv = st.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let ns = ns_of(&obj);
        let name = obj["metadata"]["name"].as_str().unwrap().to_string();
        let key = (kind, ns.clone(), name);
        let ty = if st.objects.contains_key(&key) { "MODIFIED" } else { "ADDED" };
        st.objects.insert(key, obj.clone());
        let c = Change { rv, kind, ns, ty, obj };
        st.history.push(c.clone());
        let _ = self.changes.send(c);
    }

    /// Deletes an object (DELETED carries its last state).
    pub fn delete(&self, kind: Kind, ns: &str, name: &str) {
        let mut st = self.store.lock().unwrap();
        let Some(mut obj) = st.objects.remove(&(kind, ns.to_string(), name.to_string())) else { return };
        st.rv += 1;
        let rv = st.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let c = Change { rv, kind, ns: ns.to_string(), ty: "DELETED", obj };
        st.history.push(c.clone());
        let _ = self.changes.send(c);
    }

    /// From now on every request fails with `code` (`None`: served again). Watches already
    /// open go on until their `timeoutSeconds`.
    pub fn refuse(&self, code: Option<StatusCode>) {
        self.store.lock().unwrap().refuse = code;
    }

    /// Every request so far, as path and query.
    pub fn requests(&self) -> Vec<String> {
        self.store.lock().unwrap().requests.clone()
    }
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16()});
    (code, [("content-type", "application/json")], body.to_string()).into_response()
}

/// (kind, namespace or "" for all) from the path.
fn route(path: &str) -> Option<(Kind, String)> {
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    match seg.as_slice() {
        ["api", "v1", "pods"] => Some((Kind::Pod, String::new())),
        ["api", "v1", "namespaces", ns, "pods"] => Some((Kind::Pod, ns.to_string())),
        ["api", "v1", "namespaces"] => Some((Kind::Namespace, String::new())),
        ["api", "v1", "nodes"] => Some((Kind::Node, String::new())),
        ["api", "v1", "services"] => Some((Kind::Service, String::new())),
        ["api", "v1", "namespaces", ns, "services"] => Some((Kind::Service, ns.to_string())),
        ["api", "v1", "endpoints"] => Some((Kind::Endpoints, String::new())),
        ["api", "v1", "namespaces", ns, "endpoints"] => Some((Kind::Endpoints, ns.to_string())),
        ["apis", "apps", "v1", "replicasets"] => Some((Kind::ReplicaSet, String::new())),
        ["apis", "apps", "v1", "namespaces", ns, "replicasets"] => Some((Kind::ReplicaSet, ns.to_string())),
        ["apis", "discovery.k8s.io", "v1", "endpointslices"] => Some((Kind::EndpointSlice, String::new())),
        ["apis", "discovery.k8s.io", "v1", "namespaces", ns, "endpointslices"] => {
            Some((Kind::EndpointSlice, ns.to_string()))
        }
        _ => None,
    }
}

/// The object as sent: reduced to metadata for metadata-only requests.
fn shape(kind: Kind, obj: &Value, meta_only: bool, in_list: bool) -> Value {
    if meta_only {
        return json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": obj["metadata"]});
    }
    let mut o = obj.clone();
    if !in_list {
        o["apiVersion"] = json!(kind.api_version());
        o["kind"] = json!(kind.name());
    }
    o
}

fn handle(st: &Mutex<Store>, ch: &broadcast::Sender<Change>, uri: Uri, headers: HeaderMap) -> Response {
    let path_q = uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let refuse = {
        let mut st = st.lock().unwrap();
        st.requests.push(path_q);
        st.refuse
    };
    if let Some(code) = refuse {
        return status(code, code.canonical_reason().unwrap_or("Error"), "refused by the test");
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer test-token") {
        return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let Some((kind, ns)) = route(uri.path()) else {
        return status(StatusCode::NOT_FOUND, "NotFound", "the server could not find the requested resource");
    };
    let q: BTreeMap<String, String> = uri.query().map(|q| url_pairs(q).collect()).unwrap_or_default();
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let meta_only = accept.contains("as=PartialObjectMetadata");
    let selector = match q.get("labelSelector").map(|s| parse_selector(s)).transpose() {
        Ok(s) => Arc::new(s.unwrap_or_default()),
        Err(e) => return status(StatusCode::BAD_REQUEST, "BadRequest", &e),
    };
    let matches = move |k: Kind, n: &str, obj: &Value| {
        k == kind && (ns.is_empty() || n == ns) && selector.iter().all(|t| t.holds(&obj["metadata"]["labels"]))
    };
    if q.get("watch").map(String::as_str) == Some("true") {
        let rx = ch.subscribe();
        let from = q.get("resourceVersion").cloned().unwrap_or_default();
        let st = st.lock().unwrap();
        let initial: Vec<Change> = if from.is_empty() || from == "0" {
            st.objects
                .iter()
                .filter(|((k, n, _), o)| matches(*k, n, o))
                .map(|((k, n, _), o)| Change { rv: st.rv, kind: *k, ns: n.clone(), ty: "ADDED", obj: o.clone() })
                .collect()
        } else {
            let from: u64 = from.parse().unwrap_or(0);
            st.history.iter().filter(|c| c.rv > from && matches(c.kind, &c.ns, &c.obj)).cloned().collect()
        };
        let after = st.rv;
        drop(st);
        let line = move |c: &Change| -> Result<Bytes, Infallible> {
            let ev = json!({"type": c.ty, "object": shape(c.kind, &c.obj, meta_only, false)});
            Ok(Bytes::from(format!("{ev}\n")))
        };
        let live = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(c) => return Some((c, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .filter(move |c| futures::future::ready(c.rv > after && matches(c.kind, &c.ns, &c.obj)));
        let timeout = q.get("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).unwrap_or(1800);
        let end = tokio::time::sleep(std::time::Duration::from_secs(timeout));
        let stream = futures::stream::iter(initial).chain(live).take_until(end).map(move |c| line(&c));
        return Response::builder().header("content-type", "application/json").body(Body::from_stream(stream)).unwrap();
    }
    let st = st.lock().unwrap();
    let all: Vec<Value> = st
        .objects
        .iter()
        .filter(|((k, n, _), o)| matches(*k, n, o))
        .map(|((k, _, _), o)| shape(*k, o, meta_only, true))
        .collect();
    let offset: usize = q.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).filter(|l| *l > 0).unwrap_or(usize::MAX);
    let items: Vec<Value> = all.iter().skip(offset).take(limit).cloned().collect();
    let mut meta = json!({"resourceVersion": st.rv.to_string()});
    if offset.saturating_add(limit) < all.len() {
        meta["continue"] = json!((offset + limit).to_string());
    }
    let (api_version, list_kind) = if meta_only {
        ("meta.k8s.io/v1".to_string(), "PartialObjectMetadataList".to_string())
    } else {
        (kind.api_version().to_string(), format!("{}List", kind.name()))
    };
    let body = json!({"apiVersion": api_version, "kind": list_kind, "metadata": meta, "items": items});
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// One term of a label selector (equality forms only).
enum Term {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    Absent(String),
}

impl Term {
    fn holds(&self, labels: &Value) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        match self {
            Term::Eq(k, v) => get(k) == Some(v.as_str()),
            Term::Ne(k, v) => get(k) != Some(v.as_str()),
            Term::Exists(k) => get(k).is_some(),
            Term::Absent(k) => get(k).is_none(),
        }
    }
}

fn parse_selector(s: &str) -> Result<Vec<Term>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.contains(" in ") || t.contains(" notin ") || t.contains('(') {
                return Err(format!("set-based selector {t:?} is not supported by the stand-in"));
            }
            Ok(if let Some((k, v)) = t.split_once("!=") {
                Term::Ne(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                Term::Eq(k.trim().into(), v.trim().into())
            } else if let Some(k) = t.strip_prefix('!') {
                Term::Absent(k.trim().into())
            } else {
                Term::Exists(t.into())
            })
        })
        .collect()
}

/// Decoded `k=v` pairs of a query string.
fn url_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    q.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(k), decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
