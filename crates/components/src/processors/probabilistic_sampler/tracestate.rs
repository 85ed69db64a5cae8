//! The W3C `tracestate` with its OpenTelemetry `ot=` member (`rv:` randomness, `th:`
//! threshold), parsed and rewritten the way contrib's `pkg/sampling` does: the same
//! validity rules and limits, the same error texts, and on output `ot` first (`rv`, `th`,
//! then other `ot` sub-keys in order), then the other vendors' members in their order,
//! trimmed, with empty members dropped.
//!
//! Parsing borrows the span's string and collects nothing: the members that are only
//! passed through are re-read from the original text when writing.

use std::fmt::{self, Write};

use super::otep::{OtepError, Randomness, Threshold, NUM_HEX_DIGITS};

const MAX_W3C_LENGTH: usize = 1024;
const MAX_MEMBERS: usize = 32;
const MAX_KEY_LENGTH: usize = 256;
const MAX_TENANT_LENGTH: usize = 241;
const MAX_SYSTEM_LENGTH: usize = 14;
const MAX_OTEL_LENGTH: usize = 256;

/// Why a tracestate was refused (texts as upstream's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceStateError {
    /// Too long, too many members, or a key too long.
    Size,
    /// Not W3C / OTel tracestate syntax.
    Syntax,
    /// A bad `rv` or `th` value.
    Value(OtepError),
}

impl fmt::Display for TraceStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceStateError::Size => f.write_str("invalid tracestate size"),
            TraceStateError::Syntax => f.write_str("invalid syntax"),
            TraceStateError::Value(e) => e.fmt(f),
        }
    }
}

/// Where the `th` text comes from: what arrived (kept verbatim until updated) or computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ThText<'a> {
    None,
    Arrived(&'a str),
    Computed,
}

/// A parsed tracestate. Changes (`rv` set, `th` updated or cleared) are held here and
/// written by [`TraceState::write`].
#[derive(Clone, Debug)]
pub struct TraceState<'a> {
    raw: &'a str,
    /// The value of the (last) `ot` member, for its other sub-keys.
    ot_value: Option<&'a str>,
    rv: Option<Randomness>,
    /// The arrived `rv` text (kept as sent, e.g. upper case); `None` once generated.
    rv_text: Option<&'a str>,
    th: Threshold,
    th_text: ThText<'a>,
}

fn is_lc_alpha(c: u8) -> bool {
    c.is_ascii_lowercase()
}

fn is_lc_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_key_char(c: u8) -> bool {
    is_lc_alnum(c) || matches!(c, b'_' | b'-' | b'*' | b'/')
}

fn valid_w3c_key(key: &str) -> bool {
    let b = key.as_bytes();
    if b.is_empty() {
        return false;
    }
    if let Some(at) = key.find('@') {
        let (tenant, system) = (&b[..at], &b[at + 1..]);
        return !tenant.is_empty()
            && !system.is_empty()
            && is_lc_alnum(tenant[0])
            && is_lc_alpha(system[0])
            && tenant[1..].iter().all(|&c| is_key_char(c))
            && system[1..].iter().all(|&c| is_key_char(c));
    }
    is_lc_alpha(b[0]) && b[1..].iter().all(|&c| is_key_char(c))
}

fn is_nonblank_value_char(c: u8) -> bool {
    matches!(c, 0x21..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e)
}

fn valid_w3c_value(v: &str) -> bool {
    let b = v.as_bytes();
    match b.split_last() {
        None => false,
        Some((last, rest)) => {
            b.len() <= 256
                && is_nonblank_value_char(*last)
                && rest.iter().all(|&c| c == b' ' || is_nonblank_value_char(c))
        }
    }
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// The non-empty, trimmed `key=value` members of a W3C tracestate.
fn w3c_members(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    raw.split(',').map(trim_ows).filter(|m| !m.is_empty()).filter_map(|m| m.split_once('='))
}

fn valid_otel(value: &str) -> bool {
    if value.is_empty() || value.ends_with(';') {
        return false;
    }
    value.split(';').all(|m| {
        let Some((k, v)) = m.split_once(':') else { return false };
        let kb = k.as_bytes();
        !kb.is_empty()
            && is_lc_alpha(kb[0])
            && kb[1..].iter().all(|&c| is_lc_alnum(c))
            && v.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
    })
}

impl<'a> TraceState<'a> {
    /// Parses `raw`; the empty string is a valid, empty tracestate.
    pub fn parse(raw: &'a str) -> Result<TraceState<'a>, TraceStateError> {
        let mut ts =
            TraceState { raw, ot_value: None, rv: None, rv_text: None, th: Threshold::ALWAYS, th_text: ThText::None };
        if raw.is_empty() {
            return Ok(ts);
        }
        if raw.len() > MAX_W3C_LENGTH {
            return Err(TraceStateError::Size);
        }
        for member in raw.split(',').map(trim_ows).filter(|m| !m.is_empty()) {
            match member.split_once('=') {
                Some((k, v)) if valid_w3c_key(k) && valid_w3c_value(v) => {}
                _ => return Err(TraceStateError::Syntax),
            }
        }
        // Upstream counts members before dropping empty ones and refuses the 32nd.
        if raw.split(',').count() >= MAX_MEMBERS {
            return Err(TraceStateError::Size);
        }
        let mut first_err = None;
        for (key, value) in w3c_members(raw) {
            if key.len() > MAX_KEY_LENGTH {
                first_err.get_or_insert(TraceStateError::Size);
                continue;
            }
            if let Some((tenant, system)) = key.split_once('@') {
                if tenant.len() > MAX_TENANT_LENGTH || system.len() > MAX_SYSTEM_LENGTH {
                    first_err.get_or_insert(TraceStateError::Size);
                    continue;
                }
            }
            if key == "ot" {
                if let Err(e) = ts.parse_otel(value) {
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(ts),
        }
    }

    fn parse_otel(&mut self, value: &'a str) -> Result<(), TraceStateError> {
        self.ot_value = Some(value);
        self.rv = None;
        self.rv_text = None;
        self.th = Threshold::ALWAYS;
        self.th_text = ThText::None;
        if value.len() > MAX_OTEL_LENGTH {
            return Err(TraceStateError::Size);
        }
        if !valid_otel(value) {
            return Err(TraceStateError::Syntax);
        }
        let mut first_err = None;
        for (k, v) in value.split(';').filter_map(|m| m.split_once(':')) {
            match k {
                "rv" => match Randomness::parse(v) {
                    Ok(r) => {
                        self.rv = Some(r);
                        self.rv_text = Some(v);
                    }
                    Err(e) => {
                        self.rv = None;
                        self.rv_text = None;
                        first_err.get_or_insert(TraceStateError::Value(e));
                    }
                },
                "th" => match Threshold::parse(v) {
                    Ok(t) => {
                        self.th = t;
                        self.th_text = ThText::Arrived(v);
                    }
                    Err(e) => {
                        self.th = Threshold::ALWAYS;
                        self.th_text = ThText::None;
                        first_err.get_or_insert(TraceStateError::Value(e));
                    }
                },
                _ => {}
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The `rv` randomness, if any.
    pub fn randomness(&self) -> Option<Randomness> {
        self.rv
    }

    /// The `th` threshold, if any.
    pub fn threshold(&self) -> Option<Threshold> {
        (self.th_text != ThText::None).then_some(self.th)
    }

    /// Sets `rv` (written in lower case).
    pub fn set_randomness(&mut self, r: Randomness) {
        self.rv = Some(r);
        self.rv_text = None;
    }

    /// Removes `th` (an arriving threshold the randomness contradicts).
    pub fn clear_threshold(&mut self) {
        self.th = Threshold::ALWAYS;
        self.th_text = ThText::None;
    }

    /// Sets `th` to `t` unless that would raise the probability an existing `th` states
    /// (upstream's `ErrInconsistentSampling`, returned as `Err`; nothing changes then).
    pub fn update_threshold(&mut self, t: Threshold) -> Result<(), &'static str> {
        if self.th_text != ThText::None && self.th > t {
            return Err("cannot raise existing sampling probability");
        }
        self.th = t;
        self.th_text = if t == Threshold::NEVER { ThText::None } else { ThText::Computed };
        Ok(())
    }

    fn has_ot(&self) -> bool {
        self.rv.is_some() || self.th_text != ThText::None || self.ot_extras().next().is_some()
    }

    fn ot_extras(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.ot_value
            .into_iter()
            .flat_map(|v| v.split(';'))
            .filter_map(|m| m.split_once(':'))
            .filter(|(k, _)| *k != "rv" && *k != "th")
    }

    /// Writes the tracestate into `out` (cleared first).
    pub fn write(&self, out: &mut String) {
        out.clear();
        let mut buf = [0u8; NUM_HEX_DIGITS];
        if self.has_ot() {
            out.push_str("ot=");
            let mut first = true;
            let mut sep = |out: &mut String| {
                if !first {
                    out.push(';');
                }
                first = false;
            };
            if let Some(r) = self.rv {
                sep(out);
                out.push_str("rv:");
                match self.rv_text {
                    Some(t) => out.push_str(t),
                    None => out.push_str(r.encode(&mut buf)),
                }
            }
            match self.th_text {
                ThText::None => {}
                ThText::Arrived(t) => {
                    sep(out);
                    out.push_str("th:");
                    out.push_str(t);
                }
                ThText::Computed => {
                    sep(out);
                    out.push_str("th:");
                    out.push_str(self.th.encode(&mut buf));
                }
            }
            for (k, v) in self.ot_extras() {
                sep(out);
                let _ = write!(out, "{k}:{v}");
            }
        }
        for (k, v) in w3c_members(self.raw).filter(|(k, _)| *k != "ot") {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
    }
}
