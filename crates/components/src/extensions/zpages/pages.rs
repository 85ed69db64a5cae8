//! The pages, rendered on the server as plain HTML (no script, no external asset).

use std::fmt::Write;
use std::time::SystemTime;

use switchyard_core::graph::SvgNode;
use switchyard_core::telemetry::{instance_id, rss_bytes, Sample};

use super::stats::{counts, queue, Counts, Kind};
use super::{Shared, TICK};

/// Seconds between reloads of the status page.
const REFRESH_SECS: u64 = 2;

fn esc(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#223}table{border-collapse:collapse;margin:.5em 0 1.5em}\
td,th{border:1px solid #ccd;padding:3px 8px;text-align:right}td:first-child,th:first-child,td.id,td.kind{text-align:left}\
th{background:#eef}nav a{margin-right:1em}pre{background:#f6f6f8;padding:1em;overflow:auto}\
.bar{display:inline-block;width:80px;height:8px;background:#dde;vertical-align:middle}.bar span{display:block;height:8px;background:#48c}\
.note{color:#666}#recent-errors th,#recent-errors td{text-align:left}";

fn page(title: &str, refresh: bool, body: &str) -> String {
    let meta =
        if refresh { format!("<meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">") } else { String::new() };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">{meta}<title>{t} · Switchyard</title><style>{STYLE}</style></head>\
         <body><nav><a href=\"/debug/statusz\">status</a><a href=\"/debug/servicez\">servicez</a>\
         <a href=\"/debug/pipelinez\">pipelinez</a><a href=\"/debug/extensionz\">extensionz</a>\
         <a href=\"/debug/featurez\">featurez</a><a href=\"/debug/tracez\">tracez</a></nav><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    )
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x.fract() == 0.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.1}"),
    }
}

/// Components of the service by kind, each once, in config order.
fn components(s: &Shared) -> Vec<(Kind, String)> {
    let Some(v) = s.view() else { return Vec::new() };
    let mut out: Vec<(Kind, String)> = Vec::new();
    let mut add = |k: Kind, id: &String| {
        let k = if v.is_connector(id) { Kind::Connector } else { k };
        if !out.iter().any(|(ok, oid)| *ok == k && oid == id) {
            out.push((k, id.clone()));
        }
    };
    for p in &v.pipelines {
        p.receivers.iter().for_each(|r| add(Kind::Receiver, r));
    }
    for p in &v.pipelines {
        p.processors.iter().for_each(|r| add(Kind::Processor, r));
    }
    for p in &v.pipelines {
        p.exporters.iter().for_each(|r| add(Kind::Exporter, r));
    }
    out.sort_by_key(|(k, _)| *k as u8);
    out
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Receiver => "receiver",
        Kind::Processor => "processor",
        Kind::Exporter => "exporter",
        Kind::Connector => "connector",
    }
}

fn queue_cell(samples: &[Sample], kind: Kind, id: &str) -> String {
    match (kind, queue(samples, id)) {
        (Kind::Exporter, Some((size, cap))) => {
            let pct = (size / cap * 100.0).clamp(0.0, 100.0);
            format!("<span class=\"bar\"><span style=\"width:{pct:.0}%\"></span></span> {size:.0}/{cap:.0}")
        }
        (Kind::Exporter, None) => "no queue".into(),
        _ => String::new(),
    }
}

fn uptime(s: &Shared) -> String {
    let secs = s.view().as_ref().and_then(|v| v.started.elapsed().ok()).map_or(0, |d| d.as_secs());
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}

/// The status page: graph, live table, config.
pub fn status(s: &Shared) -> String {
    let Some(v) = s.view() else {
        return page(
            "Switchyard status",
            true,
            "<p>No pipelines: this gateway was started without a service view.</p>",
        );
    };
    let comps = components(s);
    s.sampler.read(|now, rates| {
        let note = |n: SvgNode<'_>| -> Option<String> {
            let r = |k| rates(k, n.id);
            match n.kind {
                "receiver" => {
                    let c = r(Kind::Receiver);
                    Some(format!("{}/s in · {}/s refused", num(c.r#in), num(c.refused)))
                }
                "processor" => {
                    let c = r(Kind::Processor);
                    Some(format!("{}/s in · {}/s out", num(c.r#in), num(c.out)))
                }
                "exporter" => {
                    let c = r(Kind::Exporter);
                    let q = queue(now, n.id).map_or(String::new(), |(sz, cap)| format!(" · queue {sz:.0}/{cap:.0}"));
                    Some(format!("{}/s sent · {}/s failed{q}", num(c.out), num(c.failed)))
                }
                "connector" => Some("not counted".into()),
                _ => None,
            }
        };
        let mut b = String::new();
        let ready = if s.host.is_ready() { "running" } else { "not ready" };
        let _ = write!(
            b,
            "<p>Pipelines {ready}; up {}; rates over the last {}s; this page reloads every {REFRESH_SECS}s \
             (<a href=\"/debug/statusz.json\">JSON</a>).</p><h2>Pipeline graph</h2><div id=\"graph\">{}</div>",
            uptime(s),
            TICK.as_secs(),
            v.picture.to_svg(&note)
        );
        b.push_str(
            "<h2>Components</h2><table id=\"components\"><tr><th>component</th><th>kind</th><th>in/s</th><th>out/s</th>\
             <th>refused/s</th><th>dropped/s</th><th>failed/s</th><th>in</th><th>out</th><th>refused</th>\
             <th>dropped</th><th>failed</th><th>queue</th></tr>",
        );
        for (k, id) in &comps {
            let (t, r) = (counts(now, *k, id), rates(*k, id));
            let _ = write!(
                b,
                "<tr data-kind=\"{kind}\" data-id=\"{eid}\"><td class=\"id\">{eid}</td><td class=\"kind\">{kind}</td>\
                 <td class=\"rate-in\">{}</td><td class=\"rate-out\">{}</td><td class=\"rate-refused\">{}</td>\
                 <td class=\"rate-dropped\">{}</td><td class=\"rate-failed\">{}</td><td class=\"total-in\">{}</td>\
                 <td class=\"total-out\">{}</td><td class=\"total-refused\">{}</td><td class=\"total-dropped\">{}</td>\
                 <td class=\"total-failed\">{}</td><td class=\"queue\">{}</td></tr>",
                num(r.r#in),
                num(r.out),
                num(r.refused),
                num(r.dropped),
                num(r.failed),
                num(t.r#in),
                num(t.out),
                num(t.refused),
                num(t.dropped),
                num(t.failed),
                queue_cell(now, *k, id),
                kind = kind_name(*k),
                eid = esc(id),
            );
        }
        b.push_str(
            "</table><p class=\"note\">Connectors pass items between pipelines without counters of their own: \
                    read them from the processors and exporters around them.</p>",
        );
        recent_errors(s, &mut b);
        let _ = write!(
            b,
            "<h2>Configuration</h2><p class=\"note\">Secrets redacted.</p><pre id=\"config\">{}</pre>",
            esc(&v.config_yaml)
        );
        page("Switchyard status", true, &b)
    })
}

/// The "Recent errors" section: the last warnings and errors logged, newest first.
fn recent_errors(s: &Shared, b: &mut String) {
    let events = s.recent.newest_first();
    let _ = write!(
        b,
        "<h2>Recent errors</h2><p class=\"note\">The last {} warnings and errors the gateway logged \
         (exporter failures, refused requests, drops), newest first; {} since start.</p>",
        events.len(),
        s.recent.total()
    );
    if events.is_empty() {
        b.push_str("<p id=\"recent-errors\" class=\"note\">None so far.</p>");
        return;
    }
    b.push_str("<table id=\"recent-errors\"><tr><th>time</th><th>level</th><th>component</th><th>message</th></tr>");
    for e in &events {
        let _ = write!(
            b,
            "<tr class=\"recent-error\" data-level=\"{lvl}\"><td class=\"time\">{}</td><td class=\"kind\">{lvl}</td>\
             <td class=\"id component\">{}</td><td class=\"id message\">{}</td></tr>",
            humantime::format_rfc3339_millis(e.time),
            esc(e.component.as_deref().unwrap_or("")),
            esc(&e.message),
            lvl = e.level,
        );
    }
    b.push_str("</table>");
}

/// The status page's numbers as JSON (for scripts and `switchyard top`-like tools).
pub fn status_json(s: &Shared) -> String {
    let comps = components(s);
    let list: Vec<serde_json::Value> = s.sampler.read(|now, rates| {
        comps
            .iter()
            .map(|(k, id)| {
                let q = queue(now, id);
                serde_json::json!({
                    "kind": k, "id": id, "totals": counts(now, *k, id), "per_second": rates(*k, id),
                    "queue": q.map(|(size, capacity)| serde_json::json!({"size": size, "capacity": capacity})),
                })
            })
            .collect()
    });
    let uptime = s.view().as_ref().and_then(|v| v.started.elapsed().ok()).map_or(0.0, |d| d.as_secs_f64());
    let recent: Vec<serde_json::Value> = s
        .recent
        .newest_first()
        .iter()
        .map(|e| {
            serde_json::json!({
                "time": humantime::format_rfc3339_millis(e.time).to_string(),
                "level": e.level, "component": e.component, "message": e.message,
            })
        })
        .collect();
    serde_json::json!({
        "ready": s.host.is_ready(), "uptime_seconds": uptime, "components": list, "recent_errors": recent,
    })
    .to_string()
}

/// `/debug/servicez`: build and process information, links.
pub fn servicez(s: &Shared) -> String {
    let started = s
        .view()
        .as_ref()
        .map_or_else(|| "unknown".to_string(), |v| humantime::format_rfc3339_seconds(v.started).to_string());
    let now = humantime::format_rfc3339_seconds(SystemTime::now());
    let rows = [
        ("Command", "switchyard".to_string()),
        ("Version", env!("CARGO_PKG_VERSION").to_string()),
        ("Instance id", instance_id().to_string()),
        ("Start time", started),
        ("Uptime", uptime(s)),
        ("Current time", now.to_string()),
        ("Pipelines", if s.host.is_ready() { "running".into() } else { "not ready".into() }),
        ("Resident memory", format!("{:.1} MiB", rss_bytes() as f64 / 1048576.0)),
    ];
    let mut b = String::from("<table>");
    for (k, v) in rows {
        let _ = write!(b, "<tr><th>{k}</th><td class=\"id\">{}</td></tr>", esc(&v));
    }
    b.push_str("</table>");
    page("Service", false, &b)
}

/// `/debug/pipelinez`: every pipeline with its components and their counters.
pub fn pipelinez(s: &Shared) -> String {
    let Some(v) = s.view() else { return page("Pipelines", false, "<p>No pipelines.</p>") };
    let mut b = String::new();
    s.sampler.read(|now, _| {
        for p in &v.pipelines {
            let _ = write!(
                b,
                "<h2 id=\"{n}\">Pipeline {n}</h2><table class=\"pipeline\" data-pipeline=\"{n}\"><tr><th>component</th>\
                 <th>kind</th><th>accepted / in</th><th>refused</th><th>out / sent</th><th>failed</th><th>dropped</th>\
                 <th>queue size</th><th>queue capacity</th></tr>",
                n = esc(&p.name)
            );
            let rows = p
                .receivers
                .iter()
                .map(|r| (Kind::Receiver, r))
                .chain(p.processors.iter().map(|r| (Kind::Processor, r)))
                .chain(p.exporters.iter().map(|r| (Kind::Exporter, r)));
            for (k, id) in rows {
                let k = if v.is_connector(id) { Kind::Connector } else { k };
                let c: Counts = counts(now, k, id);
                let (qs, qc) = match queue(now, id) {
                    Some((sz, cap)) if k == Kind::Exporter => (num(Some(sz)), num(Some(cap))),
                    _ => ("–".into(), "–".into()),
                };
                let _ = write!(
                    b,
                    "<tr data-kind=\"{kind}\" data-id=\"{eid}\"><td class=\"id\">{eid}</td><td class=\"kind\">{kind}</td>\
                     <td class=\"in\">{}</td><td class=\"refused\">{}</td><td class=\"out\">{}</td><td class=\"failed\">{}</td>\
                     <td class=\"dropped\">{}</td><td class=\"queue-size\">{qs}</td><td class=\"queue-capacity\">{qc}</td></tr>",
                    num(c.r#in),
                    num(c.refused),
                    num(c.out),
                    num(c.failed),
                    num(c.dropped),
                    kind = kind_name(k),
                    eid = esc(id),
                );
            }
            b.push_str("</table>");
        }
    });
    b.push_str(
        "<p class=\"note\">Counts are totals since start, from the self-metrics (<code>otelcol_receiver_*</code>, \
         <code>otelcol_processor_*</code>, <code>otelcol_exporter_*</code>); a processor or exporter listed in several \
         pipelines of one signal shows its shared total.</p>",
    );
    page("Pipelines", false, &b)
}

/// `/debug/extensionz`.
pub fn extensionz(s: &Shared) -> String {
    let exts = s.view().as_ref().map(|v| v.extensions.clone()).unwrap_or_default();
    let mut b = String::from("<table><tr><th>extension</th><th>type</th></tr>");
    for e in &exts {
        let ty = e.split('/').next().unwrap_or(e);
        let _ = write!(b, "<tr><td class=\"id\">{}</td><td class=\"kind\">{}</td></tr>", esc(e), esc(ty));
    }
    b.push_str("</table>");
    page("Extensions", false, &b)
}

/// `/debug/featurez`: Switchyard has no feature gates.
pub fn featurez() -> String {
    page(
        "Feature gates",
        false,
        "<p>None. Switchyard has no feature gates: behaviour the Collector puts behind a gate is either built \
         (always on) or refused at config validation with a message naming it.</p>",
    )
}

/// `/debug/tracez`: the Collector shows its own spans here; Switchyard does not trace itself.
pub fn tracez() -> String {
    page(
        "Traces",
        false,
        "<p>Switchyard does not trace its own work, so there are no spans to show here. Its self-metrics are on \
         the telemetry endpoint (<code>service.telemetry.metrics</code>) and live on the \
         <a href=\"/debug/statusz\">status page</a>.</p>",
    )
}

/// `/debug/expvar`: the self-metrics as one JSON object (`name{labels}` → value).
pub fn expvar(s: &Shared) -> String {
    let mut m = serde_json::Map::new();
    s.sampler.read(|now, _| {
        for smp in now {
            let labels: Vec<String> = smp.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            let key =
                if labels.is_empty() { smp.name.clone() } else { format!("{}{{{}}}", smp.name, labels.join(",")) };
            m.insert(key, serde_json::json!(smp.value));
        }
    });
    serde_json::Value::Object(m).to_string()
}

/// Any other path.
pub fn not_found() -> String {
    page("Not found", false, "<p>No such page. The pages are listed above.</p>")
}
