//! OTLP → Prometheus names (`reference/backends.md` §1.3, the spec's Prometheus
//! compatibility rules): metric names with unit and type suffixes, label names.

/// What kind of Prometheus metric a name is built for (decides `_total` / `_ratio`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// Monotonic cumulative sum: `_total`.
    Counter,
    /// Gauge (and non-monotonic sum): `_ratio` when the unit is `1`.
    Gauge,
    /// Histogram, summary: unit suffix only.
    Other,
}

/// The unit word for a UCUM unit, as the Collector maps it (`By` → `bytes`).
fn unit_word(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" | "kBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        "$" => "dollars",
        _ => return None,
    })
}

/// The singular word for a unit after `/` (`m/s` → `per_second`).
fn per_unit_word(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    })
}

/// Drops `{...}` annotations (`{packets}`, `By{transmitted}` → `By`).
fn strip_annotations(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len());
    let mut depth = 0u32;
    for c in unit.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// Alphanumeric runs of `s`, as separate tokens.
fn tokens(s: &str, keep_colon: bool) -> impl Iterator<Item = &str> {
    s.split(move |c: char| !(c.is_ascii_alphanumeric() || (keep_colon && c == ':'))).filter(|t| !t.is_empty())
}

/// The unit suffix tokens: main unit word, then `per` + denominator word.
fn unit_tokens(unit: &str) -> Vec<String> {
    let unit = strip_annotations(unit);
    let mut out = Vec::new();
    let (main, per) = match unit.split_once('/') {
        Some((m, p)) => (m.trim(), Some(p.trim())),
        None => (unit.as_str(), None),
    };
    if !main.is_empty() {
        match unit_word(main) {
            Some(w) => out.extend(tokens(w, false).map(str::to_string)),
            None => out.extend(tokens(main, false).map(str::to_string)),
        }
    }
    if let Some(per) = per.filter(|p| !p.is_empty()) {
        let word: Vec<String> = match per_unit_word(per) {
            Some(w) => vec![w.to_string()],
            None => tokens(per, false).map(str::to_string).collect(),
        };
        if !word.is_empty() {
            out.push("per".into());
            out.extend(word);
        }
    }
    out
}

/// The Prometheus metric name for an OTLP metric: invalid characters become `_`, then the
/// unit (`_seconds`), `_total` for counters, `_ratio` for gauges of unit `1` (each only if
/// not already there), then the namespace prefix.
pub fn metric_name(name: &str, unit: &str, kind: NameKind, add_suffixes: bool, namespace: &str) -> String {
    let mut toks: Vec<&str> = tokens(name, true).collect();
    let unit_toks;
    if add_suffixes {
        unit_toks = unit_tokens(unit);
        // A multi-token suffix (`per_second`) is added unless the name already ends with it.
        if !unit_toks.is_empty() {
            let n = unit_toks.len();
            let present = if n == 1 {
                toks.contains(&unit_toks[0].as_str())
            } else {
                toks.len() >= n && toks[toks.len() - n..].iter().zip(&unit_toks).all(|(a, b)| *a == b.as_str())
            };
            if !present {
                toks.extend(unit_toks.iter().map(String::as_str));
            }
        }
        match kind {
            NameKind::Counter => {
                toks.retain(|t| *t != "total");
                toks.push("total");
            }
            NameKind::Gauge if strip_annotations(unit) == "1" => {
                toks.retain(|t| *t != "ratio");
                toks.push("ratio");
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(name.len() + namespace.len() + 16);
    if !namespace.is_empty() {
        out.extend(tokens(namespace, true).flat_map(|t| [t, "_"]));
    }
    for (i, t) in toks.iter().enumerate() {
        if i > 0 {
            out.push('_');
        }
        out.push_str(t);
    }
    let out = out.trim_end_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{out}")
    } else {
        out
    }
}

/// A Prometheus label name for an attribute key: invalid characters become `_`; a leading
/// digit or a single leading `_` gets a `key_` prefix (`__reserved` names are kept).
pub fn label_name(key: &str) -> String {
    let mut s: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "key_");
    } else if s.starts_with('_') && !s.starts_with("__") {
        s.insert_str(0, "key");
    }
    s
}

/// A float as Prometheus labels print it (`le="0.005"`, `le="10"`, `+Inf`).
pub fn float_label(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str, unit: &str, kind: NameKind) -> String {
        metric_name(n, unit, kind, true, "")
    }

    #[test]
    fn metric_names_follow_the_spec_examples() {
        assert_eq!(name("http.server.duration", "s", NameKind::Other), "http_server_duration_seconds");
        assert_eq!(name("http.server.request.size", "By", NameKind::Other), "http_server_request_size_bytes");
        assert_eq!(name("requests", "1", NameKind::Counter), "requests_total");
        assert_eq!(name("requests_total", "", NameKind::Counter), "requests_total");
        assert_eq!(name("total.requests", "", NameKind::Counter), "requests_total");
        assert_eq!(name("cpu.utilization", "1", NameKind::Gauge), "cpu_utilization_ratio");
        assert_eq!(name("temperature", "Cel", NameKind::Gauge), "temperature_celsius");
        assert_eq!(name("latency", "ms", NameKind::Other), "latency_milliseconds");
        assert_eq!(name("latency_milliseconds", "ms", NameKind::Other), "latency_milliseconds");
        assert_eq!(name("speed", "m/s", NameKind::Gauge), "speed_meters_per_second");
        assert_eq!(name("throughput", "By/s", NameKind::Counter), "throughput_bytes_per_second_total");
        assert_eq!(name("packets", "{packets}", NameKind::Counter), "packets_total");
        assert_eq!(name("disk.io", "By{transmitted}", NameKind::Counter), "disk_io_bytes_total");
        assert_eq!(name("queue", "{items}/s", NameKind::Gauge), "queue_per_second");
        assert_eq!(name("weird", "furlongs", NameKind::Gauge), "weird_furlongs");
        assert_eq!(name("2xx.responses", "", NameKind::Counter), "_2xx_responses_total");
        assert_eq!(name("a..b__c", "", NameKind::Gauge), "a_b_c");
        assert_eq!(name("ns:metric", "", NameKind::Gauge), "ns:metric");
        assert_eq!(name("up.down", "{conn}", NameKind::Gauge), "up_down");
    }

    #[test]
    fn suffixes_can_be_turned_off_and_namespace_comes_first() {
        assert_eq!(metric_name("http.duration", "s", NameKind::Counter, false, ""), "http_duration");
        assert_eq!(metric_name("requests", "1", NameKind::Counter, true, "app"), "app_requests_total");
    }

    #[test]
    fn label_names_are_sanitized() {
        assert_eq!(label_name("http.method"), "http_method");
        assert_eq!(label_name("2fa"), "key_2fa");
        assert_eq!(label_name("_private"), "key_private");
        assert_eq!(label_name("__name__"), "__name__");
        assert_eq!(label_name("run.id"), "run_id");
    }

    #[test]
    fn floats_print_as_prometheus_label_values() {
        assert_eq!(float_label(0.005), "0.005");
        assert_eq!(float_label(10.0), "10");
        assert_eq!(float_label(f64::INFINITY), "+Inf");
        assert_eq!(float_label(0.99), "0.99");
    }
}
