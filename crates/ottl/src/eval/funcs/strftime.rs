//! Formatting with a compiled ctime format (`FormatTime`), as Go's `Time.Format` prints the
//! equivalent layout. Times have no zone here, so they print in UTC (`%z` is `+0000`, `%Z`
//! is `UTC`).

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::strptime::{Item, OffsetStyle, MONTHS, WEEKDAYS};

/// Formats a UTC wall-clock time (Go's `Time.Format` with the equivalent layout).
pub(crate) fn format(items: &[Item], t: &NaiveDateTime) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let h12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    for item in items {
        // Writing to a String cannot fail.
        let _ = match item {
            Item::Lit(l) => {
                out.push_str(l);
                Ok(())
            }
            Item::Year4 | Item::YearFlex => write!(out, "{:04}", t.year()),
            Item::Year2 => write!(out, "{:02}", t.year().rem_euclid(100)),
            Item::MonthZero => write!(out, "{:02}", t.month()),
            Item::MonthSpace => write!(out, "{:>2}", t.month()),
            Item::MonthNum => write!(out, "{}", t.month()),
            Item::MonthAbbr => write!(out, "{}", &MONTHS[t.month0() as usize][..3]),
            Item::MonthFull => write!(out, "{}", MONTHS[t.month0() as usize]),
            Item::DayZero => write!(out, "{:02}", t.day()),
            Item::DaySpace => write!(out, "{:>2}", t.day()),
            Item::DayNum => write!(out, "{}", t.day()),
            Item::WeekdayAbbr => write!(out, "{}", &WEEKDAYS[t.weekday().num_days_from_sunday() as usize][..3]),
            Item::WeekdayFull => write!(out, "{}", WEEKDAYS[t.weekday().num_days_from_sunday() as usize]),
            Item::Hour24 => write!(out, "{:02}", t.hour()),
            Item::Hour12Zero => write!(out, "{h12:02}"),
            Item::Hour12 => write!(out, "{h12}"),
            Item::AmPmUpper => write!(out, "{}", if t.hour() >= 12 { "PM" } else { "AM" }),
            Item::AmPmLower => write!(out, "{}", if t.hour() >= 12 { "pm" } else { "am" }),
            Item::Minute => write!(out, "{:02}", t.minute()),
            Item::Second => write!(out, "{:02}", t.second()),
            Item::Frac { sep, digits } => {
                let all = format!("{:09}", t.nanosecond() % 1_000_000_000);
                let kept = all[..*digits].trim_end_matches('0');
                if !kept.is_empty() {
                    out.push(*sep);
                    out.push_str(kept);
                }
                Ok(())
            }
            Item::Offset(style) => {
                out.push_str(match style {
                    // Upstream's `%z` is Go's `Z0700`, which writes UTC as `Z`.
                    OffsetStyle::Hhmm => "Z",
                    OffsetStyle::Hhmmss => "+000000",
                    OffsetStyle::Hh => "+00",
                    OffsetStyle::HhColonMm => "+00:00",
                    OffsetStyle::HhColonMmColonSs => "+00:00:00",
                });
                Ok(())
            }
            Item::ZoneName => {
                out.push_str("UTC");
                Ok(())
            }
        };
    }
    out
}
