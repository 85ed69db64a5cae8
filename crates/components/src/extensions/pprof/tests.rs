use super::*;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use pprof::protos::Message;
use std::io::Read;
use tower::ServiceExt;

async fn get(app: &Router, path: &str) -> (StatusCode, Vec<u8>) {
    let res = app.clone().oneshot(Request::get(path).body(Body::empty()).expect("request")).await.expect("served");
    let status = res.status();
    (status, res.into_body().collect().await.expect("body").to_bytes().to_vec())
}

/// Keeps one core busy in a function with a name we can look for in the profile.
#[inline(never)]
fn zz_burn_for_profile(stop: &AtomicBool) -> u64 {
    let mut x = 1u64;
    while !stop.load(Ordering::Relaxed) {
        for i in 0..10_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
    }
    x
}

fn decode(gz: &[u8]) -> pprof::protos::Profile {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).expect("gzip");
    pprof::protos::Profile::decode(raw.as_slice()).expect("a pprof Profile")
}

fn function_names(p: &pprof::protos::Profile) -> Vec<String> {
    p.function.iter().map(|f| p.string_table[f.name as usize].clone()).collect()
}

/// One test for everything that takes the process-wide profiler, so they do not race.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_profiles_over_http_and_for_the_whole_run() {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let burner = std::thread::spawn(move || zz_burn_for_profile(&s));

    let app = router(CancellationToken::new());
    let (status, body) = get(&app, "/debug/pprof/profile?seconds=1").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let p = decode(&body);
    assert!(!p.sample.is_empty(), "samples");
    // As Go's CPU profiles: a sample count and the CPU time per stack.
    let types: Vec<&str> = p.sample_type.iter().map(|t| p.string_table[t.ty as usize].as_str()).collect();
    assert_eq!(types, ["samples", "cpu"]);
    let names = function_names(&p);
    assert!(names.iter().any(|n| n.contains("zz_burn_for_profile")), "the busy function is named: {names:?}");

    // save_to_file: the whole run, written at shutdown; the HTTP profile is busy meanwhile.
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("cpu.pprof");
    let port = switchyard_core::testing::free_port();
    let cfg = PprofConfig {
        endpoint: format!("127.0.0.1:{port}"),
        save_to_file: file.display().to_string(),
        block_profile_fraction: 5,
        ..PprofConfig::default()
    };
    let set = switchyard_core::testing::settings(switchyard_core::component::Kind::Extension, TYPE);
    let ext = PprofExtensionFactory.create(set.clone(), &cfg).expect("created");
    ext.start(&Host::default()).await.expect("started");
    let second =
        PprofExtensionFactory.create(set, &PprofConfig { endpoint: "127.0.0.1:0".into(), ..PprofConfig::default() });
    let err = second.expect("created").start(&Host::default()).await.expect_err("one per process");
    assert!(err.message.contains("single pprof"), "{}", err.message);
    let busy = reqwest::get(format!("http://127.0.0.1:{port}/debug/pprof/profile?seconds=1")).await.unwrap();
    assert_eq!(busy.status().as_u16(), 500);
    assert!(busy.text().await.unwrap().contains("one CPU profile at a time"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    ext.shutdown().await;
    let p = decode(&std::fs::read(&file).expect("written at shutdown"));
    assert!(!p.sample.is_empty() && function_names(&p).iter().any(|n| n.contains("zz_burn_for_profile")));
    stop.store(true, Ordering::Relaxed);
    let _ = burner.join();
}

#[tokio::test]
async fn other_paths_say_what_is_not_built() {
    let app = router(CancellationToken::new());
    let (status, body) = get(&app, "/debug/pprof/heap").await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(String::from_utf8_lossy(&body).contains("jemalloc"));
    assert_eq!(get(&app, "/debug/pprof/goroutine").await.0, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(get(&app, "/debug/pprof/nope").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/debug/pprof/profile?seconds=abc").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, "/debug/pprof/profile?seconds=0").await.0, StatusCode::BAD_REQUEST);
    let (status, index) = get(&app, "/debug/pprof/").await;
    assert!(status == StatusCode::OK && String::from_utf8_lossy(&index).contains("profile?seconds"));
}

#[test]
fn config_is_the_contrib_extensions() {
    let registry = crate::registry().expect("registry");
    let d = PprofConfig::default();
    assert_eq!((d.endpoint.as_str(), d.block_profile_fraction, d.save_to_file.as_str()), ("localhost:1777", 0, ""));
    let yaml = r#"
extensions:
  pprof:
    endpoint: 0.0.0.0:1777
    block_profile_fraction: 3
    mutex_profile_fraction: 5
    save_to_file: /tmp/cpu.pprof
  pprof/2:
    save_too_file: x
service: {extensions: [pprof], pipelines: {}}
"#;
    let root = switchyard_core::config::parse("p.yaml", yaml).unwrap();
    let err = switchyard_core::config::parse_config(&root, &registry).err().expect("typo").to_string();
    assert!(err.contains("p.yaml:9") && err.contains("did you mean \"save_to_file\"?"), "{err}");
    // The Go-only fractions are accepted (a warning at start), never an error.
    assert!(!err.contains("::block_profile_fraction"), "{err}");
}
