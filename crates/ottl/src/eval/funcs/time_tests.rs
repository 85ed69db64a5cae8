//! Cases from upstream's func_time_test.go, func_format_time_test.go, func_duration_test.go,
//! func_unix*_test.go, func_truncate_time_test.go and the calendar-part tests.

use chrono::{Local, NaiveDate, TimeZone};

use super::parse_go_duration;
use crate::eval::funcs::testlog::{err, ok, LOG_TIME};
use crate::eval::value::Value;

/// Unix nanoseconds of a UTC wall-clock time.
fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ns: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|x| x.and_hms_nano_opt(h, mi, s, ns))
        .and_then(|x| x.and_utc().timestamp_nanos_opt())
        .unwrap()
}

fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    Local.with_ymd_and_hms(y, mo, d, h, mi, s).earliest().unwrap().timestamp_nanos_opt().unwrap()
}

const HOUR: i64 = 3_600_000_000_000;

#[test]
fn time_parses_upstream_examples_in_the_default_zone() {
    assert_eq!(ok(r#"Time("2023-04-12", "%Y-%m-%d")"#), Value::Time(local(2023, 4, 12, 0, 0, 0)));
    assert_eq!(ok(r#"Time("11/11/11", "%d/%m/%y")"#), Value::Time(local(2011, 11, 11, 0, 0, 0)));
    assert_eq!(ok(r#"Time("02/04/2023", "%m/%d/%Y")"#), Value::Time(local(2023, 2, 4, 0, 0, 0)));
    assert_eq!(ok(r#"Time("July 31, 1993", "%B %d, %Y")"#), Value::Time(local(1993, 7, 31, 0, 0, 0)));
    assert_eq!(ok(r#"Time("Mar 14 2023 17:02:59", "%b %d %Y %H:%M:%S")"#), Value::Time(local(2023, 3, 14, 17, 2, 59)));
    assert_eq!(ok(r#"Time("Monday, May 01, 2023", "%A, %B %d, %Y")"#), Value::Time(local(2023, 5, 1, 0, 0, 0)));
    assert_eq!(ok(r#"Time("Sat, 05/06/2023", "%a, %m/%d/%Y")"#), Value::Time(local(2023, 5, 6, 0, 0, 0)));
    assert_eq!(ok(r#"Time("Feb 15, 2023", "%b %d, %Y")"#), Value::Time(local(2023, 2, 15, 0, 0, 0)));
    assert_eq!(ok(r#"Time("2022/01/01", "%Y/%m/%d")"#), Value::Time(local(2022, 1, 1, 0, 0, 0)));
}

#[test]
fn time_reads_zones_offsets_and_locations() {
    // HST is -10:00, MST -07:00, GMT 0.
    assert_eq!(
        ok(r#"Time("2023-05-26 12:34:56 HST", "%Y-%m-%d %H:%M:%S %Z")"#),
        Value::Time(utc(2023, 5, 26, 12, 34, 56, 0) + 10 * HOUR)
    );
    assert_eq!(
        ok(r#"Time("1986-10-01T00:17:33 MST", "%Y-%m-%dT%H:%M:%S %Z")"#),
        Value::Time(utc(1986, 10, 1, 0, 17, 33, 0) + 7 * HOUR)
    );
    assert_eq!(
        ok(r#"Time("1986-10-01T00:17:33 MST", "%Y-%m-%dT%H:%M:%S %Z", "Asia/Shanghai")"#),
        Value::Time(utc(1986, 10, 1, 0, 17, 33, 0) + 7 * HOUR)
    );
    assert_eq!(
        ok(r#"Time("2023-05-26T12:34:56 GMT", "%Y-%m-%dT%H:%M:%S %Z")"#),
        Value::Time(utc(2023, 5, 26, 12, 34, 56, 0))
    );
    assert_eq!(
        ok(r#"Time("2012-11-01T22:08:41+0000 EST", "%Y-%m-%dT%H:%M:%S%z %Z")"#),
        Value::Time(utc(2012, 11, 1, 22, 8, 41, 0))
    );
    // An abbreviation the location uses at that date gives its offset.
    assert_eq!(
        ok(r#"Time("2023-05-26 12:34:56 EDT", "%Y-%m-%d %H:%M:%S %Z", "America/New_York")"#),
        Value::Time(utc(2023, 5, 26, 16, 34, 56, 0))
    );
    assert_eq!(
        ok(r#"Time("2023-05-26 12:34:56", "%Y-%m-%d %H:%M:%S", "America/New_York")"#),
        Value::Time(utc(2023, 5, 26, 16, 34, 56, 0))
    );
    assert_eq!(
        ok(r#"Time("2023-05-26 12:34:56", "%Y-%m-%d %H:%M:%S", "Asia/Shanghai")"#),
        Value::Time(utc(2023, 5, 26, 4, 34, 56, 0))
    );
    assert_eq!(
        ok(r#"Time("2023-05-26 12:34:56 -0130", "%Y-%m-%d %H:%M:%S %z")"#),
        Value::Time(utc(2023, 5, 26, 14, 4, 56, 0))
    );
    assert_eq!(
        ok(r#"Time("2023-05-26 12:34:56 +02:00", "%Y-%m-%d %H:%M:%S %j")"#),
        Value::Time(utc(2023, 5, 26, 10, 34, 56, 0))
    );
    // A trailing literal Z means UTC.
    assert_eq!(
        ok(r#"Time("2023-05-26T12:34:56.123Z", "%Y-%m-%dT%H:%M:%S.%LZ")"#),
        Value::Time(utc(2023, 5, 26, 12, 34, 56, 123_000_000))
    );
}

#[test]
fn time_reads_fractions_and_twelve_hour_clocks() {
    assert_eq!(
        ok(r#"Time("2023-05-26 12:34:56.123456789", "%Y-%m-%d %H:%M:%S.%s", "UTC")"#),
        Value::Time(utc(2023, 5, 26, 12, 34, 56, 123_456_789))
    );
    // A fraction the format does not mention is still read after the seconds, as Go does.
    assert_eq!(
        ok(r#"Time("2023-05-26 12:34:56.5", "%Y-%m-%d %H:%M:%S", "UTC")"#),
        Value::Time(utc(2023, 5, 26, 12, 34, 56, 500_000_000))
    );
    // The fraction directive is optional in the input.
    assert_eq!(
        ok(r#"Time("2023-05-26 12:34:56", "%Y-%m-%d %H:%M:%S.%f", "UTC")"#),
        Value::Time(utc(2023, 5, 26, 12, 34, 56, 0))
    );
    assert_eq!(ok(r#"Time("05/26/2023 02:03:04 pm", "%D %r", "UTC")"#), Value::Time(utc(2023, 5, 26, 14, 3, 4, 0)));
    assert_eq!(
        ok(r#"Time("12:00:00 AM 2023-01-02", "%I:%M:%S %p %F", "UTC")"#),
        Value::Time(utc(2023, 1, 2, 0, 0, 0, 0))
    );
}

#[test]
fn time_parse_is_flexible_as_upstream_now() {
    // Leading zeros optional, whitespace before numbers tolerated.
    assert_eq!(ok(r#"Time("2023-5-6  1:2:3", "%Y-%m-%d %H:%M:%S", "UTC")"#), Value::Time(utc(2023, 5, 6, 1, 2, 3, 0)));
    assert_eq!(ok(r#"Time("Feb  4 2023", "%b %d %Y", "UTC")"#), Value::Time(utc(2023, 2, 4, 0, 0, 0, 0)));
    // %z: Z, ±hhmm, ±hh:mm, ±hh.
    for (input, hours_east) in [("Z", 0), ("+0530", 5), ("-07:00", -7), ("+02", 2)] {
        let half = if input == "+0530" { 30 * 60_000_000_000 } else { 0 };
        assert_eq!(
            ok(&format!(r#"Time("2023-05-26 12:00:00 {input}", "%Y-%m-%d %H:%M:%S %z")"#)),
            Value::Time(utc(2023, 5, 26, 12, 0, 0, 0) - hours_east * HOUR - half),
            "{input}"
        );
    }
    // %D takes a four- or two-digit year.
    assert_eq!(ok(r#"Time("2/4/23", "%D", "UTC")"#), Value::Time(utc(2023, 2, 4, 0, 0, 0, 0)));
    assert_eq!(ok(r#"Time("02/04/2023", "%D", "UTC")"#), Value::Time(utc(2023, 2, 4, 0, 0, 0, 0)));
}

#[test]
fn time_errors_as_upstream() {
    assert_eq!(
        err(r#"Time("11/11/11", "%Y/%m/%d")"#),
        r#"parsing time "11/11/11" as "%Y/%m/%d": cannot parse "11/11/11" as "%Y""#
    );
    assert_eq!(err(r#"Time("", "%Y/%m/%d")"#), "time cannot be nil");
    assert!(err(r#"Time("2023-02-30", "%Y-%m-%d", "UTC")"#).contains("day out of range"));
    assert!(err(r#"Time("2023-01-01 x", "%Y-%m-%d", "UTC")"#).contains("extra text"));
    assert_eq!(
        err(r#"Time("2023-05-26", "%Y-%m-%d", "Jupiter/Ganymede")"#),
        "failed to load location Jupiter/Ganymede: unknown time zone Jupiter/Ganymede"
    );
    assert!(err(r#"Time("2023-05-26 1 PST", "%Y-%m-%d %H %Z")"#).contains("unknown time zone PST"));
    assert_eq!(err(r#"Time(1, "%Y")"#), "expected string but got int64");
    assert!(err(r#"Time("x", "")"#).contains("format cannot be nil"));
    assert!(
        err(r#"Time("x", "%Q")"#).contains("invalid strptime format: [unsupported ctimefmt.toNative() directive: %Q]")
    );
    assert!(err(r#"Time("x", "%Y1")"#).contains("format string should not contain decimals"));
    assert!(err(r#"Time("x", "%H:%M:%S %L")"#)
        .contains("invalid fractional seconds directive: ' %L'. must be preceded with '.' or ','"));
    assert!(err(r#"Time("x", "%S%f")"#).contains("invalid fractional seconds directive: 'S%f'"));
}

#[test]
fn time_without_a_year_or_date_takes_the_current_one() {
    let Value::Time(t) = ok(r#"Time("12:34:56", "%H:%M:%S", "UTC")"#) else { panic!() };
    let today = chrono::Utc::now().date_naive();
    let got = chrono::DateTime::from_timestamp_nanos(t).naive_utc();
    // Today in the machine's zone, which may differ from UTC's date by one day.
    assert!((got.date() - today).num_days().abs() <= 1, "{got}");
    assert_eq!(got.time(), chrono::NaiveTime::from_hms_opt(12, 34, 56).unwrap());
    let Value::Time(t) = ok(r#"Time("Jan 02 15:04:05", "%b %d %H:%M:%S", "UTC")"#) else { panic!() };
    let got = chrono::DateTime::from_timestamp_nanos(t).naive_utc();
    let year = chrono::Datelike::year(&chrono::Utc::now());
    assert!(chrono::Datelike::year(&got) == year || chrono::Datelike::year(&got) == year - 1);
}

#[test]
fn format_time_formats_in_utc() {
    assert_eq!(ok(r#"FormatTime(time, "%Y-%m-%d %H:%M:%S")"#), Value::str("2020-02-11 20:26:12"));
    // Go's .999: trailing zeros and an all-zero fraction disappear.
    assert_eq!(ok(r#"FormatTime(time, "%H:%M:%S.%L")"#), Value::str("20:26:12"));
    assert_eq!(ok(r#"FormatTime(time, "%S.%s")"#), Value::str("12.000000321"));
    assert_eq!(ok(r#"FormatTime(Unix(0, 120000000), "%S,%f")"#), Value::str("00,12"));
    assert_eq!(
        ok(r#"FormatTime(Time("02/04/2023", "%m/%d/%Y", "UTC"), "%A %h %e %Y")"#),
        Value::str("Saturday Feb  4 2023")
    );
    assert_eq!(
        ok(r#"FormatTime(time, "%a %b %g %l %p %P %I %y %q %z %Z %j %%")"#),
        Value::str("Tue Feb 11 8 PM pm 08 20 2 Z UTC +00:00 %")
    );
    assert_eq!(ok(r#"FormatTime(time, "%c")"#), Value::str("Tue Feb 11 20:26:12 2020"));
    assert_eq!(ok(r#"FormatTime(time, "%F %T %R %D")"#), Value::str("2020-02-11 20:26:12 20:26 02/11/2020"));
    assert_eq!(err(r#"FormatTime("2020", "%Y")"#), "expected time but got string");
    assert!(err(r#"FormatTime(time, "%Y%E")"#).contains("unsupported ctimefmt.toNative() directive: %E"));
}

#[test]
fn now_is_the_current_time() {
    let Value::Time(t) = ok("Now()") else { panic!() };
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    assert!((now - t).abs() < 60_000_000_000);
}

#[test]
fn unix_conversions() {
    assert_eq!(ok("Unix(1672527600)"), Value::Time(1_672_527_600_000_000_000));
    assert_eq!(ok("Unix(1672527600, 5)"), Value::Time(1_672_527_600_000_000_005));
    assert_eq!(err(r#"Unix("1")"#), "expected int64 but got string");
    assert_eq!(ok("UnixNano(time)"), Value::Int(LOG_TIME));
    assert_eq!(ok("UnixMicro(time)"), Value::Int(1_581_452_772_000_000));
    assert_eq!(ok("UnixMilli(time)"), Value::Int(1_581_452_772_000));
    assert_eq!(ok("UnixSeconds(time)"), Value::Int(1_581_452_772));
    assert_eq!(ok("UnixSeconds(Unix(-1, 5))"), Value::Int(-1));
    assert_eq!(ok(r#"UnixMilli(Time("2023-02-04", "%Y-%m-%d", "UTC"))"#), Value::Int(1_675_468_800_000));
    assert_eq!(err("UnixNano(1)"), "expected time but got int64");
}

#[test]
fn calendar_parts_of_a_time() {
    assert_eq!(ok("Year(time)"), Value::Int(2020));
    assert_eq!(ok("Month(time)"), Value::Int(2));
    assert_eq!(ok("Day(time)"), Value::Int(11));
    assert_eq!(ok("Weekday(time)"), Value::Int(2));
    assert_eq!(ok("Hour(time)"), Value::Int(20));
    assert_eq!(ok("Minute(time)"), Value::Int(26));
    assert_eq!(ok("Second(time)"), Value::Int(12));
    assert_eq!(ok("Nanosecond(time)"), Value::Int(321));
    assert_eq!(ok(r#"Weekday(Time("2023-08-13", "%Y-%m-%d", "UTC"))"#), Value::Int(0));
    assert_eq!(err(r#"Year("2020")"#), "expected time but got string");
}

#[test]
fn durations_parse_as_go_and_convert_to_units() {
    assert_eq!(ok(r#"Duration("1h2m3.5s")"#), Value::Duration(3_723_500_000_000));
    assert_eq!(ok(r#"Duration("333ms")"#), Value::Duration(333_000_000));
    assert_eq!(ok(r#"Duration("1000000h")"#), Value::Duration(1_000_000 * HOUR));
    assert_eq!(ok(r#"Duration("-1.5h")"#), Value::Duration(-3 * HOUR / 2));
    assert_eq!(ok(r#"Duration("1µs")"#), Value::Duration(1_000));
    assert_eq!(err(r#"Duration("one second")"#), r#"time: invalid duration "one second""#);
    assert_eq!(err(r#"Duration(1)"#), "expected string but got int64");
    assert_eq!(parse_go_duration("0"), Ok(0));
    assert_eq!(parse_go_duration("1"), Err(r#"time: missing unit in duration "1""#.into()));
    assert_eq!(parse_go_duration("1x"), Err(r#"time: unknown unit "x" in duration "1x""#.into()));
    assert_eq!(parse_go_duration("-9223372036854775808ns"), Ok(i64::MIN));
    assert!(parse_go_duration("9223372036854775808ns").is_err());
    assert!(parse_go_duration(".s").is_err());
    assert!(parse_go_duration("").is_err());

    assert_eq!(ok(r#"Milliseconds(Duration("1s"))"#), Value::Int(1000));
    assert_eq!(ok(r#"Microseconds(Duration("1h"))"#), Value::Int(3_600_000_000));
    assert_eq!(ok(r#"Nanoseconds(Duration("1h"))"#), Value::Int(3_600_000_000_000));
    assert_eq!(ok(r#"Hours(Duration("90m"))"#), Value::Double(1.5));
    assert_eq!(ok(r#"Minutes(Duration("1h"))"#), Value::Double(60.0));
    assert_eq!(ok(r#"Seconds(Duration("1m1.5s"))"#), Value::Double(61.5));
    assert_eq!(err(r#"Hours("1h")"#), "expected duration but got string");
}

#[test]
fn truncate_time_rounds_down_from_year_one() {
    assert_eq!(ok(r#"TruncateTime(time, Duration("1s"))"#), Value::Time(utc(2020, 2, 11, 20, 26, 12, 0)));
    assert_eq!(ok(r#"TruncateTime(time, Duration("1h"))"#), Value::Time(utc(2020, 2, 11, 20, 0, 0, 0)));
    // 7h does not divide a day: Go counts from 0001-01-01, not from 1970.
    let t = utc(2020, 2, 11, 20, 26, 12, 321);
    let since_year1 = i128::from(t) + 62_135_596_800i128 * 1_000_000_000;
    let want = t - (since_year1 % i128::from(7 * HOUR)) as i64;
    assert_eq!(ok(r#"TruncateTime(time, Duration("7h"))"#), Value::Time(want));
    assert_eq!(ok(r#"TruncateTime(time, Duration("-1s"))"#), Value::Time(LOG_TIME));
    assert_eq!(err(r#"TruncateTime(time, "1s")"#), "expected duration but got string");
}
