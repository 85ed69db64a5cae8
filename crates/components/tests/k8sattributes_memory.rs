//! The k8sattributes pod cache's memory for 10,000 pods, measured by the allocator and
//! compared with the cache's own count (what the `..._cache_bytes` gauge shows).
//!
//! A test binary of its own so a counting global allocator sees only this test. The count
//! is per thread: only what the test's thread allocates and frees while it fills the cache.

#![cfg(feature = "processor-k8sattributes")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use switchyard_components::processors::k8sattributes::cache::{default_associations, PodCache};
use switchyard_components::processors::k8sattributes::config::ExtractConfig;
use switchyard_components::processors::k8sattributes::pod::Converter;
use switchyard_components::processors::k8sattributes::rules::Rules;

thread_local! {
    static NET: Cell<isize> = const { Cell::new(0) };
}

struct Counting;

fn count(delta: isize) {
    let _ = NET.try_with(|n| n.set(n.get() + delta));
}

// The one `unsafe` item: a global allocator can only be written as an unsafe trait impl.
// SAFETY: every call is forwarded to `System` unchanged; only a thread-local counter is kept.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        count(-(l.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        count(new as isize - l.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A pod as a Deployment creates it: 5 labels, 2 annotations, 2 containers with statuses.
fn pod(i: usize) -> serde_json::Value {
    let ns = format!("team-{}", i % 20);
    let dep = format!("service-{}", i % 500);
    json!({
        "metadata": {
            "name": format!("{dep}-7d9f8b6c5-{i:05}"), "namespace": ns,
            "uid": format!("3f1c2a9e-8b7d-4c6e-9a1b-{i:012}"),
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app.kubernetes.io/name": dep, "app.kubernetes.io/version": "1.4.2",
                       "pod-template-hash": "7d9f8b6c5", "team": ns, "tier": "backend"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T09:59:00Z", "prometheus.io/scrape": "true"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{dep}-7d9f8b6c5"),
                                  "uid": format!("rs-{}", i % 500), "controller": true}]
        },
        "spec": {
            "nodeName": format!("ip-10-0-{}-{}.ec2.internal", i % 50, i % 7),
            "containers": [{"name": "app", "image": format!("registry.example.com/shop/{dep}:1.4.2")},
                           {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.1"}]
        },
        "status": {
            "phase": "Running", "podIP": format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
            "startTime": "2024-05-01T10:00:01Z",
            "containerStatuses": [
                {"name": "app", "image": "x", "imageID": "", "ready": true, "restartCount": 0,
                 "containerID": format!("containerd://{:064x}", i)},
                {"name": "istio-proxy", "image": "x", "imageID": "", "ready": true, "restartCount": 0,
                 "containerID": format!("containerd://{:064x}", i + 1_000_000)}
            ]
        }
    })
}

/// Fills a cache with `N` pods under `extract` and returns (allocator bytes, cache count).
fn fill(what: &str, extract: &ExtractConfig) -> (usize, usize) {
    const N: usize = 10_000;
    let json: Vec<serde_json::Value> = (0..N).map(pod).collect();
    let json_bytes: usize = json.iter().map(|v| v.to_string().len()).sum();
    let pods: Vec<Pod> = json.into_iter().map(|v| serde_json::from_value(v).expect("pod")).collect();
    let rules = Arc::new(Rules::compile(extract));
    let conv = Converter::new(rules, Vec::new(), false);
    let cache = PodCache::new(default_associations(), Duration::from_secs(120));

    let before = NET.with(Cell::get);
    let t = Instant::now();
    for p in &pods {
        cache.upsert(conv.pod(p));
    }
    let took = t.elapsed();
    let measured = (NET.with(Cell::get) - before) as usize;
    let counted = cache.bytes();

    eprintln!(
        "k8sattributes cache, {N} pods ({what}, 3 identifiers and 2 containers each): \
         {measured} bytes by the allocator ({} per pod), {counted} counted by the cache; \
         the pods as JSON: {json_bytes} bytes ({} per pod); filled in {took:?}",
        measured / N,
        json_bytes / N
    );
    assert_eq!(cache.len(), N);
    assert!(measured / N < 2048, "a pod entry should stay under 2 KiB, got {}", measured / N);
    // The gauge is an estimate: within a factor of two of what the allocator saw.
    assert!(counted * 2 >= measured && counted <= measured * 2, "counted {counted}, measured {measured}");
    (measured, counted)
}

#[test]
fn cache_memory_for_10k_pods() {
    fill("default metadata", &ExtractConfig::default());
}

#[test]
fn cache_memory_for_10k_pods_with_the_service_attributes() {
    let names = ["service.namespace", "service.name", "service.version", "service.instance.id"];
    let mut metadata: Vec<String> =
        switchyard_components::processors::k8sattributes::DEFAULT_METADATA.iter().map(|s| s.to_string()).collect();
    metadata.extend(names.iter().map(|s| s.to_string()));
    let extract = ExtractConfig { metadata, otel_annotations: true, ..Default::default() };
    let (with, _) = fill("default metadata and the four service attributes", &extract);
    // What they add: the labels' service.name and service.version, and per container a small
    // box with the image's version and a status flag: about 160 bytes per pod.
    let (without, _) = fill("default metadata", &ExtractConfig::default());
    assert!(with - without < 10_000 * 200, "service attributes added {} bytes per pod", (with - without) / 10_000);
}
