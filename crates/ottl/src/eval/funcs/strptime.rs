//! The Collector's ctime-like time formats (`%Y-%m-%d %H:%M:%S`), for `Time` and `FormatTime`.
//!
//! Upstream (internal/coreinternal/timeutils, ctimefmt) rewrites each directive into a Go
//! layout element and lets Go's `time.Parse`/`Format` do the work. This module compiles a
//! format once into [`Item`]s with the same meaning as those Go layout elements.
//!
//! Parsing follows upstream's current flexible parse (ctimefmt `Parse`, which retries Go
//! layouts): numbers may drop their leading zero (`%m %d %H %I %M %S` read one or two
//! digits) and may be preceded by whitespace, `%z` reads `Z`, `±hhmm`, `±hh:mm` or `±hh`,
//! `%D` takes a four- or two-digit year; as in Go, a fraction may follow the seconds even
//! when the format has none, and a run of spaces in the format matches one or more spaces.
//! Formatting writes fractions (`%L %f %s`) as Go's `.999` (trailing zeros dropped).

use chrono::{NaiveDate, NaiveDateTime};

/// One element of a compiled format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Lit(String),
    Year4,
    Year2,
    /// `%D`'s year: four digits, or else two.
    YearFlex,
    /// `%m`: two digits.
    MonthZero,
    /// `%o`: space-padded.
    MonthSpace,
    /// `%q`: one or two digits.
    MonthNum,
    MonthAbbr,
    MonthFull,
    DayZero,
    DaySpace,
    DayNum,
    WeekdayAbbr,
    WeekdayFull,
    Hour24,
    Hour12Zero,
    Hour12,
    AmPmUpper,
    AmPmLower,
    Minute,
    Second,
    /// A fraction of a second after `.` or `,`, written with at most `digits` digits.
    Frac {
        sep: char,
        digits: usize,
    },
    Offset(OffsetStyle),
    ZoneName,
}

/// The numeric UTC offset forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OffsetStyle {
    /// `%z` -0700
    Hhmm,
    /// `%w` -070000
    Hhmmss,
    /// `%i` -07
    Hh,
    /// `%j` -07:00
    HhColonMm,
    /// `%k` -07:00:00
    HhColonMmColonSs,
}

pub(crate) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(crate) const WEEKDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Compiles a format, with upstream's errors for digits and unknown directives.
pub(crate) fn compile(format: &str) -> Result<Vec<Item>, String> {
    if format.chars().any(|c| c.is_ascii_digit()) {
        return Err("format string should not contain decimals".to_string());
    }
    let mut items = Vec::new();
    let mut lit = String::new();
    let mut unsupported = Vec::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        let Some(d) = chars.next() else {
            lit.push('%');
            break;
        };
        let expanded: &[Item] = match d {
            'n' => {
                lit.push('\n');
                continue;
            }
            't' => {
                lit.push('\t');
                continue;
            }
            '%' => {
                lit.push('%');
                continue;
            }
            'L' | 'f' | 's' => {
                let digits = match d {
                    'L' => 3,
                    'f' => 6,
                    _ => 9,
                };
                // Go reads nines as a fraction only right after '.' or ','; elsewhere they are
                // literal text, as upstream's substitution leaves them.
                match lit.pop() {
                    Some(sep @ ('.' | ',')) => {
                        flush(&mut items, &mut lit);
                        items.push(Item::Frac { sep, digits });
                    }
                    // Upstream's Validate refuses a fraction after anything else; at the very
                    // start of the format Go reads the nines as literal text.
                    None if items.is_empty() => lit.push_str(&"9".repeat(digits)),
                    other => {
                        let before = other.map_or_else(|| last_directive(&items), String::from);
                        return Err(format!(
                            "invalid fractional seconds directive: '{before}%{d}'. must be preceded with '.' or ','"
                        ));
                    }
                }
                continue;
            }
            'Y' => &[Item::Year4],
            'y' => &[Item::Year2],
            'm' => &[Item::MonthZero],
            'o' => &[Item::MonthSpace],
            'q' => &[Item::MonthNum],
            'b' | 'h' => &[Item::MonthAbbr],
            'B' => &[Item::MonthFull],
            'd' => &[Item::DayZero],
            'e' => &[Item::DaySpace],
            'g' => &[Item::DayNum],
            'a' => &[Item::WeekdayAbbr],
            'A' => &[Item::WeekdayFull],
            'H' => &[Item::Hour24],
            'I' => &[Item::Hour12Zero],
            'l' => &[Item::Hour12],
            'p' => &[Item::AmPmUpper],
            'P' => &[Item::AmPmLower],
            'M' => &[Item::Minute],
            'S' => &[Item::Second],
            'z' => &[Item::Offset(OffsetStyle::Hhmm)],
            'w' => &[Item::Offset(OffsetStyle::Hhmmss)],
            'i' => &[Item::Offset(OffsetStyle::Hh)],
            'j' => &[Item::Offset(OffsetStyle::HhColonMm)],
            'k' => &[Item::Offset(OffsetStyle::HhColonMmColonSs)],
            'Z' => &[Item::ZoneName],
            'D' | 'x' => {
                flush(&mut items, &mut lit);
                items.extend([
                    Item::MonthZero,
                    Item::Lit("/".into()),
                    Item::DayZero,
                    Item::Lit("/".into()),
                    Item::YearFlex,
                ]);
                continue;
            }
            'F' => {
                flush(&mut items, &mut lit);
                items.extend([
                    Item::Year4,
                    Item::Lit("-".into()),
                    Item::MonthZero,
                    Item::Lit("-".into()),
                    Item::DayZero,
                ]);
                continue;
            }
            'T' | 'X' => {
                flush(&mut items, &mut lit);
                items.extend([Item::Hour24, Item::Lit(":".into()), Item::Minute, Item::Lit(":".into()), Item::Second]);
                continue;
            }
            'r' => {
                flush(&mut items, &mut lit);
                items.extend([
                    Item::Hour12Zero,
                    Item::Lit(":".into()),
                    Item::Minute,
                    Item::Lit(":".into()),
                    Item::Second,
                    Item::Lit(" ".into()),
                    Item::AmPmLower,
                ]);
                continue;
            }
            'R' => {
                flush(&mut items, &mut lit);
                items.extend([Item::Hour24, Item::Lit(":".into()), Item::Minute]);
                continue;
            }
            'c' => {
                flush(&mut items, &mut lit);
                items.extend([
                    Item::WeekdayAbbr,
                    Item::Lit(" ".into()),
                    Item::MonthAbbr,
                    Item::Lit(" ".into()),
                    Item::DayZero,
                    Item::Lit(" ".into()),
                    Item::Hour24,
                    Item::Lit(":".into()),
                    Item::Minute,
                    Item::Lit(":".into()),
                    Item::Second,
                    Item::Lit(" ".into()),
                    Item::Year4,
                ]);
                continue;
            }
            other => {
                unsupported.push(format!("unsupported ctimefmt.toNative() directive: %{other}"));
                continue;
            }
        };
        flush(&mut items, &mut lit);
        items.extend_from_slice(expanded);
    }
    flush(&mut items, &mut lit);
    if !unsupported.is_empty() {
        return Err(format!("invalid strptime format: [{}]", unsupported.join(" ")));
    }
    Ok(items)
}

/// The last character of the format before the current directive, when that was a
/// directive (for the fraction error message, which quotes it).
fn last_directive(items: &[Item]) -> String {
    items.last().map(describe).and_then(|d| d.chars().last()).map(String::from).unwrap_or_default()
}

fn flush(items: &mut Vec<Item>, lit: &mut String) {
    if !lit.is_empty() {
        items.push(Item::Lit(std::mem::take(lit)));
    }
}

/// Whether the format names a year, month, day or weekday (Go's `hasDateElements`): a
/// time-only format gets today's date.
pub(crate) fn has_date(items: &[Item]) -> bool {
    items.iter().any(|i| {
        matches!(
            i,
            Item::Year4
                | Item::Year2
                | Item::YearFlex
                | Item::MonthZero
                | Item::MonthSpace
                | Item::MonthNum
                | Item::MonthAbbr
                | Item::MonthFull
                | Item::DayZero
                | Item::DaySpace
                | Item::WeekdayAbbr
                | Item::WeekdayFull
        )
    })
}

/// What a parse read: the wall-clock fields and the zone, if the input named one.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) year: i32,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) nanos: u32,
    /// A numeric offset in seconds east of UTC.
    pub(crate) offset: Option<i32>,
    /// A zone abbreviation (`EST`); `UTC` becomes `offset: Some(0)`.
    pub(crate) zone: Option<String>,
}

impl Parsed {
    /// The wall-clock time, checking the day against the month (Go's "day out of range").
    pub(crate) fn naive(&self) -> Result<NaiveDateTime, String> {
        NaiveDate::from_ymd_opt(self.year, self.month, self.day)
            .and_then(|d| d.and_hms_nano_opt(self.hour, self.minute, self.second, self.nanos))
            .ok_or_else(|| "day out of range".to_string())
    }
}

/// Parses `value` with a compiled format (Go's `time.Parse` rules for the equivalent layout).
pub(crate) fn parse(items: &[Item], format: &str, value: &str) -> Result<Parsed, String> {
    let mut p = Parsed { month: 1, day: 1, ..Parsed::default() };
    let mut pm: Option<bool> = None;
    let mut rest = value;
    let fail =
        |rest: &str, elem: &str| format!("parsing time {value:?} as {format:?}: cannot parse {rest:?} as {elem:?}");
    for (k, item) in items.iter().enumerate() {
        let before = rest;
        if numeric(item) {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
        }
        let ok: Option<&str> = match item {
            Item::Lit(l) => skip_literal(rest, l),
            Item::Year4 => digits_exact(rest, 4).map(|(n, r)| {
                p.year = n as i32;
                r
            }),
            Item::Year2 => digits_exact(rest, 2).map(|(n, r)| {
                p.year = two_digit_year(n);
                r
            }),
            Item::YearFlex => match digits_exact(rest, 4) {
                Some((n, r)) => {
                    p.year = n as i32;
                    Some(r)
                }
                None => digits_exact(rest, 2).map(|(n, r)| {
                    p.year = two_digit_year(n);
                    r
                }),
            },
            Item::MonthZero | Item::MonthNum | Item::MonthSpace => {
                let r = if *item == Item::MonthSpace { rest.strip_prefix(' ').unwrap_or(rest) } else { rest };
                getnum(r).and_then(|(n, r)| {
                    p.month = n;
                    (1..=12).contains(&n).then_some(r)
                })
            }
            Item::MonthAbbr => lookup(rest, MONTHS.iter().map(|m| &m[..3])).map(|(i, r)| {
                p.month = i as u32 + 1;
                r
            }),
            Item::MonthFull => lookup(rest, MONTHS.iter().copied()).map(|(i, r)| {
                p.month = i as u32 + 1;
                r
            }),
            Item::DayZero | Item::DayNum | Item::DaySpace => {
                let r = if *item == Item::DaySpace { rest.strip_prefix(' ').unwrap_or(rest) } else { rest };
                getnum(r).map(|(n, r)| {
                    p.day = n;
                    r
                })
            }
            Item::WeekdayAbbr => lookup(rest, WEEKDAYS.iter().map(|m| &m[..3])).map(|(_, r)| r),
            Item::WeekdayFull => lookup(rest, WEEKDAYS.iter().copied()).map(|(_, r)| r),
            Item::Hour24 => getnum(rest).and_then(|(n, r)| {
                p.hour = n;
                (n < 24).then_some(r)
            }),
            Item::Hour12Zero | Item::Hour12 => getnum(rest).and_then(|(n, r)| {
                p.hour = n;
                (n <= 12).then_some(r)
            }),
            Item::AmPmUpper | Item::AmPmLower => {
                let (am, pmv) = if *item == Item::AmPmUpper { ("AM", "PM") } else { ("am", "pm") };
                if let Some(r) = rest.strip_prefix(am) {
                    pm = Some(false);
                    Some(r)
                } else if let Some(r) = rest.strip_prefix(pmv) {
                    pm = Some(true);
                    Some(r)
                } else {
                    None
                }
            }
            Item::Minute => getnum(rest).and_then(|(n, r)| {
                p.minute = n;
                (n < 60).then_some(r)
            }),
            Item::Second => getnum(rest).and_then(|(n, r)| {
                p.second = n;
                if n >= 60 {
                    return None;
                }
                // Go reads a fraction after the seconds even when the layout has none.
                if !matches!(items.get(k + 1), Some(Item::Frac { .. })) {
                    if let Some((nanos, r2)) = fraction(r) {
                        p.nanos = nanos;
                        return Some(r2);
                    }
                }
                Some(r)
            }),
            Item::Frac { .. } => match fraction(rest) {
                Some((nanos, r)) => {
                    p.nanos = nanos;
                    Some(r)
                }
                None => Some(rest),
            },
            Item::Offset(style) => parse_offset(rest, *style).map(|(o, r)| {
                p.offset = Some(o);
                r
            }),
            Item::ZoneName => parse_zone_name(rest).map(|(name, off, r)| {
                match off {
                    Some(o) => p.offset = Some(o),
                    None => p.zone = Some(name.to_string()),
                }
                r
            }),
        };
        match ok {
            Some(r) => rest = r,
            None => return Err(fail(before, &describe(item))),
        }
    }
    if !rest.is_empty() {
        return Err(format!("parsing time {value:?}: extra text: {rest:?}"));
    }
    match pm {
        Some(true) if p.hour < 12 => p.hour += 12,
        Some(false) if p.hour == 12 => p.hour = 0,
        _ => {}
    }
    Ok(p)
}

/// The directive an item came from, for error messages.
fn describe(item: &Item) -> String {
    let d = match item {
        Item::Lit(l) => return l.clone(),
        Item::Frac { sep, digits } => {
            return format!(
                "{sep}{}",
                match digits {
                    3 => "%L",
                    6 => "%f",
                    _ => "%s",
                }
            )
        }
        Item::Year4 => "%Y",
        Item::Year2 => "%y",
        Item::YearFlex => "%D",
        Item::MonthZero => "%m",
        Item::MonthSpace => "%o",
        Item::MonthNum => "%q",
        Item::MonthAbbr => "%b",
        Item::MonthFull => "%B",
        Item::DayZero => "%d",
        Item::DaySpace => "%e",
        Item::DayNum => "%g",
        Item::WeekdayAbbr => "%a",
        Item::WeekdayFull => "%A",
        Item::Hour24 => "%H",
        Item::Hour12Zero => "%I",
        Item::Hour12 => "%l",
        Item::AmPmUpper => "%p",
        Item::AmPmLower => "%P",
        Item::Minute => "%M",
        Item::Second => "%S",
        Item::Offset(OffsetStyle::Hhmm) => "%z",
        Item::Offset(OffsetStyle::Hhmmss) => "%w",
        Item::Offset(OffsetStyle::Hh) => "%i",
        Item::Offset(OffsetStyle::HhColonMm) => "%j",
        Item::Offset(OffsetStyle::HhColonMmColonSs) => "%k",
        Item::ZoneName => "%Z",
    };
    d.to_string()
}

/// A literal in the format; a run of spaces matches one or more spaces (Go's `skip`).
fn skip_literal<'v>(mut value: &'v str, lit: &str) -> Option<&'v str> {
    let mut lit = lit;
    while let Some(c) = lit.chars().next() {
        if c == ' ' {
            if !value.starts_with(' ') {
                return None;
            }
            lit = lit.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        value = value.strip_prefix(c)?;
        lit = &lit[c.len_utf8()..];
    }
    Some(value)
}

fn digits_exact(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

/// Go's `getnum` for an unpadded layout element: one or two digits.
fn getnum(s: &str) -> Option<(u32, &str)> {
    let b = s.as_bytes();
    let d0 = *b.first().filter(|c| c.is_ascii_digit())?;
    match b.get(1).filter(|c| c.is_ascii_digit()) {
        Some(d1) => Some((u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'), &s[2..])),
        None => Some((u32::from(d0 - b'0'), &s[1..])),
    }
}

/// Go's two-digit year: 69–99 are 1900s, 00–68 2000s.
fn two_digit_year(n: u32) -> i32 {
    if n >= 69 {
        1900 + n as i32
    } else {
        2000 + n as i32
    }
}

/// Items upstream's flexible parse lets whitespace precede (digits and `%z`).
fn numeric(item: &Item) -> bool {
    matches!(
        item,
        Item::Year4
            | Item::Year2
            | Item::YearFlex
            | Item::MonthZero
            | Item::MonthSpace
            | Item::MonthNum
            | Item::DayZero
            | Item::DaySpace
            | Item::DayNum
            | Item::Hour24
            | Item::Hour12Zero
            | Item::Hour12
            | Item::Minute
            | Item::Second
            | Item::Offset(OffsetStyle::Hhmm)
    )
}

/// A case-insensitive name lookup (Go's `lookup`).
fn lookup<'v, 'n>(s: &'v str, names: impl Iterator<Item = &'n str>) -> Option<(usize, &'v str)> {
    for (i, name) in names.enumerate() {
        if let Some(head) = s.get(..name.len()) {
            if head.eq_ignore_ascii_case(name) {
                return Some((i, &s[name.len()..]));
            }
        }
    }
    None
}

/// `.123` or `,123`: any number of digits, the first nine kept.
fn fraction(s: &str) -> Option<(u32, &str)> {
    let b = s.as_bytes();
    if b.len() < 2 || !matches!(b[0], b'.' | b',') || !b[1].is_ascii_digit() {
        return None;
    }
    let n = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut nanos: u32 = 0;
    for k in 0..9 {
        let d = if k < n { u32::from(b[1 + k] - b'0') } else { 0 };
        nanos = nanos * 10 + d;
    }
    Some((nanos, &s[1 + n..]))
}

/// A numeric offset. `%z` also reads `Z` (UTC), `±hh:mm` and `±hh`, as upstream's
/// flexible parse retries `Z0700`, `Z07:00` and `Z07`.
fn parse_offset(s: &str, style: OffsetStyle) -> Option<(i32, &str)> {
    if style == OffsetStyle::Hhmm {
        if let Some(r) = s.strip_prefix('Z') {
            return Some((0, r));
        }
        return parse_fixed_offset(s, OffsetStyle::Hhmm)
            .or_else(|| parse_fixed_offset(s, OffsetStyle::HhColonMm))
            .or_else(|| parse_fixed_offset(s, OffsetStyle::Hh));
    }
    parse_fixed_offset(s, style)
}

fn parse_fixed_offset(s: &str, style: OffsetStyle) -> Option<(i32, &str)> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let r = &s[1..];
    let (h, r) = digits_exact(r, 2)?;
    let (m, r) = match style {
        OffsetStyle::Hh => (0, r),
        OffsetStyle::Hhmm | OffsetStyle::Hhmmss => digits_exact(r, 2)?,
        OffsetStyle::HhColonMm | OffsetStyle::HhColonMmColonSs => digits_exact(r.strip_prefix(':')?, 2)?,
    };
    let (sec, r) = match style {
        OffsetStyle::Hhmmss => digits_exact(r, 2)?,
        OffsetStyle::HhColonMmColonSs => digits_exact(r.strip_prefix(':')?, 2)?,
        _ => (0, r),
    };
    Some((sign * (h * 3600 + m * 60 + sec) as i32, r))
}

/// A zone abbreviation as Go's `parseTimeZone` reads it: `UTC`, `GMT` with an optional
/// signed hour offset, or three to five upper-case letters. Returns the offset when the
/// name fixes it.
fn parse_zone_name(s: &str) -> Option<(&str, Option<i32>, &str)> {
    if let Some(r) = s.strip_prefix("UTC") {
        return Some(("UTC", Some(0), r));
    }
    if let Some(r) = s.strip_prefix("GMT") {
        let sign = match r.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Some(("GMT", None, r)),
        };
        let n = r[1..].bytes().take_while(u8::is_ascii_digit).count();
        let hours: i32 = r[1..1 + n].parse().ok()?;
        return Some(("GMT", Some(sign * hours * 3600), &r[1 + n..]));
    }
    let n = s.bytes().take_while(u8::is_ascii_uppercase).count();
    if !(3..=5).contains(&n) {
        return None;
    }
    Some((&s[..n], None, &s[n..]))
}
