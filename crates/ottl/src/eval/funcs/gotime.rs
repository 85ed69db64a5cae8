//! Times and durations printed as Go prints them, for the converters that print values
//! (`String`, `Format`): `time.Time` as RFC 3339 (its JSON form) or `Time.String()`, and
//! `time.Duration.String()` (`1h2m3.5s`). OTTL times are UTC, as pdata's `AsTime()` gives.

use std::fmt::Write as _;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Civil date and time of day (UTC) for Unix nanoseconds, and the nanosecond part.
fn civil(unix_nanos: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let secs = unix_nanos.div_euclid(NANOS_PER_SEC);
    let nanos = unix_nanos.rem_euclid(NANOS_PER_SEC) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, sod / 3600, sod / 60 % 60, sod % 60, nanos)
}

fn push_fraction(out: &mut String, nanos: u32) {
    if nanos > 0 {
        let digits = format!("{nanos:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// `2020-02-11T20:26:12.000000321Z` (Go's `time.RFC3339Nano`).
pub(crate) fn rfc3339_nano(unix_nanos: i64) -> String {
    let (y, mo, d, h, mi, s, ns) = civil(unix_nanos);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    push_fraction(&mut out, ns);
    out.push('Z');
    out
}

/// `2020-02-11 20:26:12.000000321 +0000 UTC` (Go's `Time.String()`).
pub(crate) fn time_string(unix_nanos: i64) -> String {
    let (y, mo, d, h, mi, s, ns) = civil(unix_nanos);
    let mut out = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
    push_fraction(&mut out, ns);
    out.push_str(" +0000 UTC");
    out
}

/// `value / 10^scale` with the fraction's trailing zeros dropped (`1.5`, `2`).
fn scaled(out: &mut String, value: u64, scale: u32) {
    let unit = 10u64.pow(scale);
    let _ = write!(out, "{}", value / unit);
    let frac = value % unit;
    if frac > 0 {
        let digits = format!("{frac:0width$}", width = scale as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// Go's `Duration.String()`: `0s`, `1.5µs`, `250ms`, `1h2m3.5s`.
pub(crate) fn duration_string(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    let u = nanos.unsigned_abs();
    if u < 1_000 {
        let _ = write!(out, "{u}ns");
    } else if u < 1_000_000 {
        scaled(&mut out, u, 3);
        out.push_str("µs");
    } else if u < 1_000_000_000 {
        scaled(&mut out, u, 6);
        out.push_str("ms");
    } else {
        let total_secs = u / 1_000_000_000;
        let (hours, minutes) = (total_secs / 3600, total_secs / 60 % 60);
        if hours > 0 {
            let _ = write!(out, "{hours}h");
        }
        if hours > 0 || minutes > 0 {
            let _ = write!(out, "{minutes}m");
        }
        scaled(&mut out, u % 60_000_000_000, 9);
        out.push('s');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_go() {
        assert_eq!(rfc3339_nano(1_581_452_772_000_000_321), "2020-02-11T20:26:12.000000321Z");
        assert_eq!(rfc3339_nano(0), "1970-01-01T00:00:00Z");
        assert_eq!(time_string(1_581_452_772_500_000_000), "2020-02-11 20:26:12.5 +0000 UTC");
        assert_eq!(rfc3339_nano(-1), "1969-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn durations_print_as_go() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(999), "999ns");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert_eq!(duration_string(250_000_000), "250ms");
        assert_eq!(duration_string(1_000_000_000), "1s");
        assert_eq!(duration_string(3_723_500_000_000), "1h2m3.5s");
        assert_eq!(duration_string(-90_000_000_000), "-1m30s");
    }
}
