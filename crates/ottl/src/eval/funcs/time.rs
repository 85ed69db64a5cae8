//! Time and duration converters: `Time`, `FormatTime`, `Now`, `Unix*`, `Duration`,
//! `TruncateTime`, the duration units and the calendar parts of a time.
//!
//! Times are Unix nanoseconds ([`Value::Time`]) without a location, so calendar parts and
//! `FormatTime` read them in UTC. Upstream keeps the zone a `Time` call parsed (e.g. `+0200`)
//! and `Hour` of it is the wall-clock hour there; here it is the UTC hour of the same
//! instant. Times read from telemetry are UTC upstream too, so those agree.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration as ChronoDuration, Local, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::{OffsetName, Tz};

use super::strftime;
use super::strptime::{self, Item};
use super::{want, ConverterBuilder};
use crate::check::CheckError;
use crate::eval::compile::Args;
use crate::eval::expr::ConverterFn;
use crate::eval::value::Value;
use crate::eval::EvalError;

pub(super) fn converter(name: &str) -> Option<ConverterBuilder> {
    Some(match name {
        "Time" => time,
        "FormatTime" => format_time,
        "Now" => now,
        "Unix" => unix,
        "UnixNano" => |a| of_time(a, |t| t),
        "UnixMicro" => |a| of_time(a, |t| t.div_euclid(1_000)),
        "UnixMilli" => |a| of_time(a, |t| t.div_euclid(1_000_000)),
        "UnixSeconds" => |a| of_time(a, |t| t.div_euclid(1_000_000_000)),
        "Year" => |a| of_time(a, |t| i64::from(utc(t).year())),
        "Month" => |a| of_time(a, |t| i64::from(utc(t).month())),
        "Day" => |a| of_time(a, |t| i64::from(utc(t).day())),
        "Weekday" => |a| of_time(a, |t| i64::from(utc(t).weekday().num_days_from_sunday())),
        "Hour" => |a| of_time(a, |t| i64::from(utc(t).hour())),
        "Minute" => |a| of_time(a, |t| i64::from(utc(t).minute())),
        "Second" => |a| of_time(a, |t| i64::from(utc(t).second())),
        "Nanosecond" => |a| of_time(a, |t| t.rem_euclid(1_000_000_000)),
        "Duration" => duration,
        "TruncateTime" => truncate_time,
        "Nanoseconds" => |a| of_duration(a, Value::Int),
        "Microseconds" => |a| of_duration(a, |d| Value::Int(d / 1_000)),
        "Milliseconds" => |a| of_duration(a, |d| Value::Int(d / 1_000_000)),
        "Seconds" => |a| of_duration(a, |d| Value::Double(unit_float(d, 1_000_000_000))),
        "Minutes" => |a| of_duration(a, |d| Value::Double(unit_float(d, 60_000_000_000))),
        "Hours" => |a| of_duration(a, |d| Value::Double(unit_float(d, 3_600_000_000_000))),
        _ => return None,
    })
}

/// The UTC wall clock of Unix nanoseconds (every i64 is in chrono's range).
fn utc(t: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(t).naive_utc()
}

/// Go's `Duration.Hours()` and friends: whole units plus the remainder as a fraction, which
/// keeps precision for large durations.
fn unit_float(d: i64, unit: i64) -> f64 {
    (d / unit) as f64 + (d % unit) as f64 / unit as f64
}

fn of_time(args: &Args<'_>, f: fn(i64) -> i64) -> Result<ConverterFn, CheckError> {
    let value = args.expr(0)?;
    Ok(Box::new(move |cx| Ok(Value::Int(f(want::time(&value.eval(cx)?)?)))))
}

fn of_duration(args: &Args<'_>, f: fn(i64) -> Value<'static>) -> Result<ConverterFn, CheckError> {
    let value = args.expr(0)?;
    Ok(Box::new(move |cx| Ok(f(want::duration(&value.eval(cx)?)?))))
}

fn now(_args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    Ok(Box::new(|_| {
        let now = chrono::Utc::now();
        now.timestamp_nanos_opt().map(Value::Time).ok_or_else(|| EvalError::new("the clock is out of range"))
    }))
}

/// `Unix(seconds, Optional[nanoseconds])`: Go's `time.Unix`.
fn unix(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let seconds = args.expr(0)?;
    let nanos = args.opt_expr(1)?;
    Ok(Box::new(move |cx| {
        let s = want::int(&seconds.eval(cx)?)?;
        let n = match &nanos {
            Some(e) => want::int(&e.eval(cx)?)?,
            None => 0,
        };
        s.checked_mul(1_000_000_000)
            .and_then(|x| x.checked_add(n))
            .map(Value::Time)
            .ok_or_else(|| EvalError::new("time out of range"))
    }))
}

fn duration(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let value = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = value.eval(cx)?;
        parse_go_duration(want::string(&v)?).map(Value::Duration).map_err(EvalError::new)
    }))
}

/// Go's `Time.Truncate`: rounds down to a multiple of `d` since January 1 of year 1 UTC
/// (which for whole days and their divisors is the same as since the Unix epoch).
fn truncate_time(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let time = args.expr(0)?;
    let dur = args.expr(1)?;
    Ok(Box::new(move |cx| {
        let t = want::time(&time.eval(cx)?)?;
        let d = want::duration(&dur.eval(cx)?)?;
        Ok(Value::Time(truncate(t, d)))
    }))
}

/// Seconds from 0001-01-01 to 1970-01-01.
const YEAR1_TO_UNIX_SECS: i128 = 62_135_596_800;

fn truncate(t: i64, d: i64) -> i64 {
    if d <= 0 {
        return t;
    }
    let since_year1 = i128::from(t) + YEAR1_TO_UNIX_SECS * 1_000_000_000;
    // The remainder is below d, so the result stays in range for any t at or after year 1.
    t - since_year1.rem_euclid(i128::from(d)) as i64
}

fn format_time(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let time = args.expr(0)?;
    let format = args.string(1)?;
    if format.is_empty() {
        return Err(args.error(1, "format cannot be nil"));
    }
    let items = strptime::compile(&format).map_err(|e| args.error(1, e))?;
    Ok(Box::new(move |cx| {
        let t = want::time(&time.eval(cx)?)?;
        Ok(Value::Str(strftime::format(&items, &utc(t)).into()))
    }))
}

/// A time zone for a parse without one in the input.
#[derive(Debug, Clone, Copy)]
enum Zone {
    Utc,
    Local,
    Tz(Tz),
}

/// Go's `time.LoadLocation`: "" and "UTC" are UTC, "Local" the machine's zone, anything
/// else an IANA name.
fn load_location(name: &str) -> Result<Zone, String> {
    match name {
        "" | "UTC" => Ok(Zone::Utc),
        "Local" => Ok(Zone::Local),
        _ => Tz::from_str(name)
            .map(Zone::Tz)
            .map_err(|_| format!("failed to load location {name}: unknown time zone {name}")),
    }
}

/// The offset (seconds east of UTC) of a wall-clock time in `zone`, and the zone's
/// abbreviation there when known. An ambiguous time takes the earlier offset; a time in a
/// DST gap takes the offset of the same instant read as UTC.
fn offset_at(zone: Zone, naive: &NaiveDateTime) -> (i32, Option<String>) {
    match zone {
        Zone::Utc => (0, Some("UTC".into())),
        Zone::Local => match Local.offset_from_local_datetime(naive).earliest() {
            Some(o) => (o.local_minus_utc(), None),
            None => (Local.offset_from_utc_datetime(naive).local_minus_utc(), None),
        },
        Zone::Tz(tz) => {
            let o =
                tz.offset_from_local_datetime(naive).earliest().unwrap_or_else(|| tz.offset_from_utc_datetime(naive));
            (o.fix().local_minus_utc(), o.abbreviation().map(str::to_string))
        }
    }
}

/// `Time(target, format, Optional[location], Optional[locale])`.
fn time(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let format = args.string(1)?;
    if format.is_empty() {
        return Err(args.error(1, "format cannot be nil"));
    }
    let items = strptime::compile(&format).map_err(|e| args.error(1, e))?;
    let location = args.opt_expr(2)?;
    if args.has(3) {
        return Err(args.error(3, "Time with a locale is not supported by Switchyard yet"));
    }
    // A format ending in a literal Z reads as UTC unless a location is given (upstream's
    // GetLocation).
    let zulu = format.ends_with('Z') && !format.ends_with("%Z");
    Ok(Box::new(move |cx| {
        let zone = match &location {
            Some(e) => {
                let v = e.eval(cx)?;
                let name = want::string(&v)?;
                if name.is_empty() {
                    default_zone(zulu)
                } else {
                    load_location(name).map_err(EvalError::new)?
                }
            }
            None => default_zone(zulu),
        };
        let v = target.eval(cx)?;
        let s = want::string(&v)?;
        if s.is_empty() {
            return Err(EvalError::new("time cannot be nil"));
        }
        parse_time(&items, &format, s, zone).map(Value::Time).map_err(EvalError::new)
    }))
}

fn default_zone(zulu: bool) -> Zone {
    if zulu {
        Zone::Utc
    } else {
        Zone::Local
    }
}

/// Parses `value` and resolves it to Unix nanoseconds: the input's own offset or zone first,
/// then `zone`. A format without a date gets today's date; one without a year gets this
/// year, or last year for a date more than a week ahead (upstream's `SetTimestampYear`).
fn parse_time(items: &[Item], format: &str, value: &str, zone: Zone) -> Result<i64, String> {
    let parsed = strptime::parse(items, format, value)?;
    let mut naive = parsed.naive()?;
    if !strptime::has_date(items) {
        naive = Local::now().date_naive().and_time(naive.time());
    } else if naive.year() <= 0 {
        let today = Local::now().naive_local();
        naive = naive.with_year(today.year()).ok_or("day out of range")?;
        if naive > today + ChronoDuration::days(7) {
            naive = naive.with_year(today.year() - 1).ok_or("day out of range")?;
        }
    }
    let offset = if let Some(o) = parsed.offset {
        o
    } else if let Some(name) = &parsed.zone {
        match offset_at(zone, &naive) {
            (o, Some(abbr)) if abbr == *name => o,
            _ => match Tz::from_str(name) {
                Ok(tz) => offset_at(Zone::Tz(tz), &naive).0,
                Err(_) => return Err(format!("failed to load location {name}: unknown time zone {name}")),
            },
        }
    } else {
        offset_at(zone, &naive).0
    };
    (naive - ChronoDuration::seconds(i64::from(offset)))
        .and_utc()
        .timestamp_nanos_opt()
        .ok_or_else(|| format!("parsing time {value:?}: time out of range"))
}

/// Go's `time.ParseDuration`: a sequence of decimal numbers with units (`1h2m3.5s`,
/// `-1.5h`, `300ms`); "0" alone needs no unit. Messages are Go's.
pub(crate) fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {orig:?}");
    let mut s = orig;
    let mut neg = false;
    if let Some(r) = s.strip_prefix('-') {
        neg = true;
        s = r;
    } else if let Some(r) = s.strip_prefix('+') {
        s = r;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &b[..int_len] {
            v = v
                .checked_mul(10)
                .and_then(|x| x.checked_add(u64::from(c - b'0')))
                .filter(|x| *x <= LIMIT)
                .ok_or_else(invalid)?;
        }
        s = &s[int_len..];
        let (mut frac, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(r) = s.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for c in r[..n].bytes() {
                if overflow {
                    continue;
                }
                match frac.checked_mul(10).and_then(|x| x.checked_add(u64::from(c - b'0'))).filter(|x| *x <= LIMIT) {
                    Some(x) => {
                        frac = x;
                        scale *= 10.0;
                    }
                    None => overflow = true,
                }
            }
            post = n > 0;
            s = &r[n..];
        }
        if int_len == 0 && !post {
            return Err(invalid());
        }
        let unit_len = s.bytes().take_while(|c| *c != b'.' && !c.is_ascii_digit()).count();
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {orig:?}"));
        }
        let unit_name = &s[..unit_len];
        s = &s[unit_len..];
        let unit: u64 = match unit_name {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("time: unknown unit {unit_name:?} in duration {orig:?}")),
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).filter(|x| *x <= LIMIT).ok_or_else(invalid)?;
    }
    if neg {
        return Ok((total as i128).wrapping_neg() as i64);
    }
    if total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
