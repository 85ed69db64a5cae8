//! Glob patterns as the Collector's filelog receiver takes them (doublestar syntax): `*`
//! and `?` within one path segment, `[a-z]` / `[!a]` classes, `{a,b}` alternatives and `**`
//! for any number of directories. [`Pattern::find`] walks the file system for `include`;
//! [`Pattern::matches`] checks a path for `exclude`.

use std::path::{Path, PathBuf};

/// A compiled glob (alternatives expanded).
#[derive(Clone, Debug)]
pub struct Pattern {
    alternatives: Vec<Vec<String>>,
    absolute: bool,
}

/// Directories visited per `**` walk, so a huge tree cannot stall a poll forever.
const MAX_WALK: usize = 100_000;

impl Pattern {
    /// Parses a pattern; unbalanced brackets or braces are errors.
    pub fn new(p: &str) -> Result<Pattern, String> {
        if p.is_empty() {
            return Err("empty pattern".into());
        }
        let alts = expand_braces(p)?;
        for a in &alts {
            check_classes(a)?;
        }
        Ok(Pattern {
            absolute: p.starts_with('/'),
            alternatives: alts
                .iter()
                .map(|a| a.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect())
                .collect(),
        })
    }

    /// True when `path` matches.
    pub fn matches(&self, path: &Path) -> bool {
        let s = path.to_string_lossy();
        let segs: Vec<&str> = s.split('/').filter(|s| !s.is_empty()).collect();
        self.alternatives.iter().any(|a| match_segments(a, &segs))
    }

    /// Regular files matching the pattern, sorted.
    pub fn find(&self) -> Vec<PathBuf> {
        let base = if self.absolute { PathBuf::from("/") } else { PathBuf::from(".") };
        let mut out = Vec::new();
        for a in &self.alternatives {
            let mut budget = MAX_WALK;
            walk(&base, a, &mut out, &mut budget);
        }
        out.sort();
        out.dedup();
        out
    }
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn walk(dir: &Path, segs: &[String], out: &mut Vec<PathBuf>, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    let Some((first, rest)) = segs.split_first() else {
        // Matched by name, as doublestar does: a dangling symlink is a match too, and then
        // fails to open (reported), rather than being silently skipped.
        if std::fs::symlink_metadata(dir).is_ok() && !dir.is_dir() {
            out.push(dir.to_path_buf());
        }
        return;
    };
    if first == "**" {
        walk(dir, rest, out, budget);
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&e.path(), segs, out, budget);
            }
        }
        return;
    }
    if !has_meta(first) {
        walk(&dir.join(first), rest, out, budget);
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut names: Vec<String> = rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    for n in names {
        if match_segment(first.as_bytes(), n.as_bytes()) {
            walk(&dir.join(&n), rest, out, budget);
        }
    }
}

fn match_segments(pat: &[String], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((p, rest)) if p == "**" => (0..=segs.len()).any(|i| match_segments(rest, &segs[i..])),
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => match_segment(p.as_bytes(), s.as_bytes()) && match_segments(rest, srest),
            None => false,
        },
    }
}

/// One segment: `*`, `?` and classes (byte-wise; multi-byte names match literally).
fn match_segment(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| match_segment(&p[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && match_segment(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some(&c) = s.first() else { return false };
            let Some(end) = p.iter().skip(2).position(|b| *b == b']').map(|i| i + 2) else { return false };
            let mut class = &p[1..end];
            let negate = matches!(class.first(), Some(b'!' | b'^'));
            if negate {
                class = &class[1..];
            }
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= (class[i]..=class[i + 2]).contains(&c);
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negate && match_segment(&p[end + 1..], &s[1..])
        }
        Some(&b) => s.first() == Some(&b) && match_segment(&p[1..], &s[1..]),
    }
}

fn check_classes(p: &str) -> Result<(), String> {
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'[' {
            match b.iter().skip(i + 2).position(|c| *c == b']') {
                Some(j) => i += j + 3,
                None => return Err("unclosed '['".into()),
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// `a{b,c}d` → `abd`, `acd` (nested braces too).
fn expand_braces(p: &str) -> Result<Vec<String>, String> {
    let Some(open) = p.find('{') else {
        if p.contains('}') {
            return Err("unbalanced '}'".into());
        }
        return Ok(vec![p.to_string()]);
    };
    let mut depth = 0;
    let mut close = None;
    let mut parts = Vec::new();
    let mut start = open + 1;
    for (i, c) in p.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    parts.push(&p[start..i]);
                    close = Some(i);
                    break;
                }
            }
            ',' if depth == 1 => {
                parts.push(&p[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    let close = close.ok_or("unbalanced '{'")?;
    let mut out = Vec::new();
    for part in parts {
        out.extend(expand_braces(&format!("{}{}{}", &p[..open], part, &p[close + 1..]))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_and_path_matching() {
        let p = Pattern::new("/var/log/pods/*/otc-container/*.log").unwrap();
        assert!(p.matches(Path::new("/var/log/pods/a_b_c/otc-container/0.log")));
        assert!(!p.matches(Path::new("/var/log/pods/a_b_c/app/0.log")));
        let p = Pattern::new("/var/log/**/*.{log,txt}").unwrap();
        assert!(p.matches(Path::new("/var/log/x.txt")));
        assert!(p.matches(Path::new("/var/log/a/b/x.log")));
        assert!(!p.matches(Path::new("/var/log/a/b/x.gz")));
        let p = Pattern::new("/l/[a-c]?[!x].log").unwrap();
        assert!(p.matches(Path::new("/l/b1y.log")));
        assert!(!p.matches(Path::new("/l/b1x.log")));
        assert!(Pattern::new("/a/[b").is_err());
        assert!(Pattern::new("/a/{b").is_err());
    }

    #[test]
    fn finds_files_on_disk() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("ns_pod_1/app")).unwrap();
        std::fs::create_dir_all(root.join("ns_pod_1/otc")).unwrap();
        for f in ["ns_pod_1/app/0.log", "ns_pod_1/otc/0.log", "ns_pod_1/app/0.log.gz", "top.log"] {
            std::fs::write(root.join(f), "x").unwrap();
        }
        let got = Pattern::new(&format!("{}/*/*/*.log", root.display())).unwrap().find();
        assert_eq!(got, vec![root.join("ns_pod_1/app/0.log"), root.join("ns_pod_1/otc/0.log")]);
        let got = Pattern::new(&format!("{}/**/*.log", root.display())).unwrap().find();
        assert_eq!(got.len(), 3);
    }
}
