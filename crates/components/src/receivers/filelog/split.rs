//! Cutting a file's bytes into records: at newlines (in the file's encoding), or by a
//! multiline `line_start_pattern` / `line_end_pattern`; records longer than
//! `max_log_size` are cut; an unterminated tail stays in the file until more arrives or
//! the flush period passes. Then each record is decoded and trimmed.

use regex::bytes::Regex;

use super::config::{Encoding, FileLogReceiverConfig};

/// How records end.
#[derive(Clone, Debug)]
pub enum Mode {
    /// At each newline.
    Newline,
    /// A record starts at each match.
    Start(Regex),
    /// A record ends after each match.
    End(Regex),
}

/// The splitter of one receiver.
#[derive(Clone, Debug)]
pub struct Splitter {
    mode: Mode,
    omit_pattern: bool,
    encoding: Encoding,
    max: usize,
    trim_leading: bool,
    trim_trailing: bool,
}

/// One record: bytes `start..end` of the buffer (before trimming).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// First byte.
    pub start: usize,
    /// One past the last byte of the content.
    pub end: usize,
}

/// A multiline pattern as the Collector compiles it: `(?m)` and Go's literal braces.
pub fn multiline_regex(p: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("(?m){}", crate::stanza::regex::go_syntax(p)))
}

impl Splitter {
    /// The splitter `cfg` describes (patterns were checked at validation).
    pub fn new(cfg: &FileLogReceiverConfig) -> Result<Splitter, String> {
        let mode = match &cfg.multiline {
            Some(m) => match (&m.line_start_pattern, &m.line_end_pattern) {
                // `(?m)`, as the Collector compiles them: `^` and `$` match at line boundaries.
                (Some(p), _) => Mode::Start(multiline_regex(p).map_err(|e| e.to_string())?),
                (None, Some(p)) => Mode::End(multiline_regex(p).map_err(|e| e.to_string())?),
                (None, None) => Mode::Newline,
            },
            None => Mode::Newline,
        };
        Ok(Splitter {
            mode,
            omit_pattern: cfg.multiline.as_ref().is_some_and(|m| m.omit_pattern),
            encoding: cfg.encoding(),
            max: usize::try_from(cfg.max_log_size).unwrap_or(usize::MAX).max(1),
            trim_leading: !cfg.preserve_leading_whitespaces,
            trim_trailing: !cfg.preserve_trailing_whitespaces,
        })
    }

    /// Splits `buf`: the complete records, and how many bytes they consumed. With `flush`,
    /// an unterminated tail is a record too.
    pub fn split(&self, buf: &[u8], flush: bool) -> (Vec<Token>, usize) {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let rest = &buf[pos..];
            if rest.is_empty() {
                break;
            }
            match self.next(rest) {
                Some((content, consumed)) => {
                    let content = content.min(self.max);
                    let consumed = if content == self.max && consumed > self.max { self.max } else { consumed };
                    out.push(Token { start: pos, end: pos + content });
                    pos += consumed;
                }
                None if rest.len() >= self.max => {
                    out.push(Token { start: pos, end: pos + self.max });
                    pos += self.max;
                }
                None if flush => {
                    out.push(Token { start: pos, end: buf.len() });
                    pos = buf.len();
                }
                None => break,
            }
        }
        (out, pos)
    }

    /// The next complete record of `b`: (content length, bytes consumed).
    fn next(&self, b: &[u8]) -> Option<(usize, usize)> {
        match &self.mode {
            Mode::Newline => {
                let i = self.newline(b)?;
                let nl = if matches!(self.encoding, Encoding::Utf16Le | Encoding::Utf16Be) { 2 } else { 1 };
                Some((i, i + nl))
            }
            Mode::Start(re) => {
                let first = re.find(b)?;
                if first.start() > 0 {
                    // Text before the first start is a record of its own, so nothing is lost.
                    return Some((first.start(), first.start()));
                }
                if first.end() == b.len() {
                    return None;
                }
                // `max(1)`: an empty match at 0 must not end the record where it starts.
                let second = re.find_at(b, first.end().max(1))?;
                Some((second.start(), second.start()))
            }
            Mode::End(re) => {
                let m = re.find_iter(b).find(|m| m.end() > 0)?;
                let content = if self.omit_pattern { m.start() } else { m.end() };
                Some((content, m.end()))
            }
        }
    }

    fn newline(&self, b: &[u8]) -> Option<usize> {
        match self.encoding {
            Encoding::Utf16Le => (0..b.len().saturating_sub(1)).step_by(2).find(|&i| b[i] == b'\n' && b[i + 1] == 0),
            Encoding::Utf16Be => (0..b.len().saturating_sub(1)).step_by(2).find(|&i| b[i] == 0 && b[i + 1] == b'\n'),
            _ => b.iter().position(|c| *c == b'\n'),
        }
    }

    /// The record's text: decoded, a multiline start pattern omitted if asked, trimmed.
    pub fn decode(&self, raw: &[u8]) -> String {
        let raw = match (&self.mode, self.omit_pattern) {
            (Mode::Start(re), true) => match re.find(raw) {
                Some(m) if m.start() == 0 => &raw[m.end()..],
                _ => raw,
            },
            _ => raw,
        };
        let s = match self.encoding {
            Encoding::Utf8 | Encoding::Nop => String::from_utf8_lossy(raw).into_owned(),
            Encoding::Ascii => raw.iter().map(|b| if b.is_ascii() { *b as char } else { '\u{fffd}' }).collect(),
            Encoding::Latin1 => raw.iter().map(|b| *b as char).collect(),
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let le = self.encoding == Encoding::Utf16Le;
                let units = raw.chunks_exact(2).map(|c| {
                    if le {
                        u16::from_le_bytes([c[0], c[1]])
                    } else {
                        u16::from_be_bytes([c[0], c[1]])
                    }
                });
                char::decode_utf16(units).map(|r| r.unwrap_or('\u{fffd}')).collect()
            }
        };
        let s = if self.trim_trailing { s.trim_end() } else { s.strip_suffix('\r').unwrap_or(&s) };
        let s = if self.trim_leading { s.trim_start() } else { s };
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receivers::filelog::config::MultilineConfig;

    fn splitter(f: impl FnOnce(&mut FileLogReceiverConfig)) -> Splitter {
        let mut c = FileLogReceiverConfig::default();
        f(&mut c);
        Splitter::new(&c).unwrap()
    }

    fn texts(s: &Splitter, buf: &[u8], flush: bool) -> (Vec<String>, usize) {
        let (t, n) = s.split(buf, flush);
        (t.iter().map(|t| s.decode(&buf[t.start..t.end])).collect(), n)
    }

    #[test]
    fn newline_records_keep_the_unterminated_tail() {
        let s = splitter(|_| {});
        assert_eq!(texts(&s, b"a\r\n  b \nc", false), (vec!["a".into(), "b".into()], 8));
        assert_eq!(texts(&s, b"a\nc", true), (vec!["a".into(), "c".into()], 3));
    }

    #[test]
    fn long_records_are_cut_at_max_log_size() {
        let s = splitter(|c| c.max_log_size = 4);
        assert_eq!(texts(&s, b"abcdefghij\nxy\n", false).0, vec!["abcd", "efgh", "ij", "xy"]);
    }

    #[test]
    fn multiline_start_and_end() {
        let s = splitter(|c| {
            c.multiline = Some(MultilineConfig { line_start_pattern: Some("^\\d{4}-".into()), ..Default::default() })
        });
        let buf = b"2024-a\n  at x\n  at y\n2024-b\n";
        let (t, n) = texts(&s, buf, false);
        assert_eq!(t, vec!["2024-a\n  at x\n  at y"]);
        assert_eq!(n, 21);
        let s = splitter(|c| {
            c.multiline = Some(MultilineConfig { line_end_pattern: Some(";\\n".into()), ..Default::default() })
        });
        assert_eq!(texts(&s, b"a\nb;\nc", false), (vec!["a\nb;".into()], 5));
    }

    #[test]
    fn utf16_and_latin1() {
        let s = splitter(|c| c.encoding = "utf-16le".into());
        let buf: Vec<u8> = "hé\nx".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(texts(&s, &buf, false), (vec!["hé".into()], 6));
        let s = splitter(|c| c.encoding = "latin1".into());
        assert_eq!(texts(&s, b"caf\xe9\n", false).0, vec!["café"]);
    }
}
